"""Plugin manager and registry: which plugins are loaded and what each provides.

Nothing happens at import time: :func:`get_plugin_manager` builds the manager on
first use. Built-in plugins are declared in roistory's own ``[project.entry-points.roistory]``
and load exactly like third-party ones.

Environment controls:

- ``ROISTORY_LOAD_PLUGINS=dist1,dist2`` loads only these distributions' plugins
  (roistory's own built-ins always load; an empty value means built-ins only).
- ``ROISTORY_BLOCK_PLUGINS=name1,name2`` never loads these entry-point names.
- ``ROISTORY_TRACE_PLUGINS=1`` prints every hook call to stderr.

A plugin that cannot load (an import error, a misspelt hook or argument) is
disabled with one warning naming it and its distribution; everything else keeps
working. :func:`plugin_at_fault` names the plugin behind an exception raised later.
"""

from __future__ import annotations

import os
import re
import sys
import types
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from roistory import hookspecs
from roistory.editions import Edition
from roistory.errors import PluginError
from roistory.i18n import Catalog
from roistory.items import AttributionModel, IncrementalityReader, Metric, SourceType
from roistory.registry import KINDS, Registry
from roistory.sections import ReportSection
from roistory.themes import Theme

ENTRY_POINT_GROUP = "roistory"
OWN_DISTRIBUTION = "roistory"
_warn_when_disabling = True


@dataclass(frozen=True)
class PluginInfo:
    """Where a loaded plugin came from, for ``roistory plugins`` and the manifest."""

    name: str
    distribution: str | None
    version: str | None
    builtin: bool


def _csv_env(name: str) -> set[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return {item.strip() for item in value.split(",") if item.strip()}


def _normalised(distribution: str | None) -> str:
    """PEP 503 form: roistory_crm_csv, Roistory-CRM.csv and roistory-crm-csv are one name."""
    return re.sub(r"[-_.]+", "-", distribution or "").lower()


def new_plugin_manager(*, entrypoints: bool = True) -> pluggy.PluginManager:
    """A fresh manager with roistory's hookspecs; loads installed plugins unless told not to."""
    pm = pluggy.PluginManager("roistory")
    pm.add_hookspecs(hookspecs)
    pm.roistory_plugin_info = {}  # type: ignore[attr-defined]
    pm.roistory_disabled = {}  # type: ignore[attr-defined]  # entry-point name -> why
    for blocked in _csv_env("ROISTORY_BLOCK_PLUGINS") or ():
        pm.set_blocked(blocked)
    if entrypoints:
        _load_entrypoints(pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:  # e.g. a misspelt hook name
        name = pm.get_name(exc.plugin) or "?"
        dist = plugin_info(pm, name).distribution or "unknown distribution"
        raise PluginError(f"plugin '{name}' from {dist}: {exc}") from None
    if os.environ.get("ROISTORY_TRACE_PLUGINS"):
        pm.add_hookcall_monitoring(
            lambda name, impls, kwargs: print(f"roistory hook {name}", file=sys.stderr),
            lambda outcome, name, impls, kwargs: None,
        )
    return pm


def _load_entrypoints(pm: pluggy.PluginManager) -> None:
    allowed = _csv_env("ROISTORY_LOAD_PLUGINS")
    allowed = {_normalised(name) for name in allowed} if allowed is not None else None
    named: dict[str, tuple[str, str]] = {}  # reading a distribution's metadata parses a file: once each
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        key = str(getattr(ep.dist, "_path", id(ep.dist)))  # the distribution's folder
        if ep.dist is not None and key not in named:
            metadata = ep.dist.metadata
            named[key] = (metadata["Name"], metadata["Version"])
        dist, version = named[key] if ep.dist is not None else (None, None)
        builtin = dist == OWN_DISTRIBUTION
        if allowed is not None and not builtin and _normalised(dist) not in allowed:
            continue
        if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
            _check_hook_names(pm, plugin)
        except Exception as exc:  # a broken plugin is left out, never a traceback
            if pm.has_plugin(ep.name):
                pm.unregister(name=ep.name)
            _disable(pm, ep.name, dist, version, f"{type(exc).__name__}: {exc}")
            continue
        pm.roistory_plugin_info[ep.name] = PluginInfo(ep.name, dist, version, builtin)  # type: ignore[attr-defined]


def _check_hook_names(pm: pluggy.PluginManager, plugin: object) -> None:
    """A hook implementation whose name matches no hookspec is a typo (check_pending, per plugin)."""
    for caller in pm.get_hookcallers(plugin) or []:
        if not caller.has_spec():
            raise pluggy.PluginValidationError(plugin, f"unknown hook '{caller.name}' (misspelt?)")


def _disable(pm: pluggy.PluginManager, name: str, dist: str | None, version: str | None, why: str) -> None:
    pm.roistory_disabled[name] = why  # type: ignore[attr-defined]
    if _warn_when_disabling:
        origin = f"{dist} {version}" if dist and version else dist or "unknown distribution"
        print(f"Warning: plugin '{name}' from {origin} is disabled: {why}", file=sys.stderr)


def quiet_disabled_plugins() -> None:
    """No warning for disabled plugins in this process (a batch worker: the parent warned once)."""
    global _warn_when_disabling
    _warn_when_disabling = False


def disabled_plugins(pm: pluggy.PluginManager) -> dict[str, str]:
    """Entry-point name -> why it was left out, for plugins that failed to load."""
    return dict(getattr(pm, "roistory_disabled", {}))


def _module_of(plugin: object) -> str | None:
    return plugin.__name__ if isinstance(plugin, types.ModuleType) else type(plugin).__module__


def plugin_at_fault(exc: BaseException, pm: pluggy.PluginManager | None = None) -> str | None:
    """One line naming the plugin, the hook (or function) and the exception, when plugin code raised it.

    Walks the traceback from the outside in; the first frame in a plugin's module
    is where roistory handed control to that plugin (a hook, or a callback it registered).
    """
    pm = pm or _manager
    if pm is None:
        return None
    modules = {_module_of(plugin): name for name, plugin in loaded_plugins(pm)}
    traceback = exc.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        name = modules.get(frame.f_globals.get("__name__"))
        if name is not None:
            info = plugin_info(pm, name)
            origin = f" from {info.distribution}" if info.distribution else ""
            function = frame.f_code.co_name
            where = f"hook {function}" if function in hookspecs.HOOK_NAMES else f"{function}()"
            return f"plugin '{name}'{origin} failed in {where}: {type(exc).__name__}: {exc}"
        traceback = traceback.tb_next
    return None


def loaded_plugins(pm: pluggy.PluginManager) -> list[tuple[str, object]]:
    """(name, plugin) of every registered plugin, by name; blocked names are left out."""
    return sorted(((n, p) for n, p in pm.list_name_plugin() if p is not None), key=lambda item: str(item[0]))


def plugin_info(pm: pluggy.PluginManager, name: str) -> PluginInfo:
    """Provenance of a registered plugin; plugins registered by hand are 'local'."""
    known: dict[str, PluginInfo] = getattr(pm, "roistory_plugin_info", {})
    return known.get(name, PluginInfo(name, None, None, False))


_manager: pluggy.PluginManager | None = None


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager, built (and plugins loaded) on first call."""
    global _manager
    if _manager is None:
        _manager = new_plugin_manager()
    return _manager


# --------------------------------------------------------------------------
# Registry: the items plugins register, validated, with who provided them
# --------------------------------------------------------------------------

ITEM_TYPES: dict[str, type] = {
    "source": SourceType,
    "metric": Metric,
    "model": AttributionModel,
    "section": ReportSection,
    "theme": Theme,
    "catalog": Catalog,
    "incrementality": IncrementalityReader,
    "edition": Edition,
}


def build_registry(pm: pluggy.PluginManager | None = None) -> Registry:
    """Call every ``register_*`` hook, one plugin at a time, so each item is traced to its plugin."""
    pm = pm or get_plugin_manager()
    registry = Registry()
    for kind, (hook_name, key) in KINDS.items():
        hook = getattr(pm.hook, hook_name)
        # registration order: entry points load sorted by name, hand-registered plugins after
        for impl in hook.get_hookimpls():
            plugin_name = impl.plugin_name

            def register(item: Any, *, _kind=kind, _key=key, _plugin=plugin_name) -> None:
                expected = ITEM_TYPES[_kind]
                if not isinstance(item, expected):
                    raise PluginError(
                        f"plugin '{_plugin}' registered {type(item).__name__!r} "
                        f"where a {expected.__name__} was expected"
                    )
                name = getattr(item, _key)
                if name in registry.items[_kind]:
                    other = registry.providers[(_kind, name)]
                    raise PluginError(
                        f"plugin '{_plugin}' registers {_kind} '{name}', already registered by plugin '{other}'"
                    )
                registry.items[_kind][name] = item
                registry.providers[(_kind, name)] = _plugin

            if os.environ.get("ROISTORY_TRACE_PLUGINS"):
                print(f"roistory hook {hook_name} -> {plugin_name}", file=sys.stderr)
            try:
                impl.function(register=register)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(f"plugin '{plugin_name}' failed in {hook_name}: {type(exc).__name__}: {exc}") from exc
    return registry
