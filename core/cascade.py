"""Settings that cascade: a report.yaml may ``extends:`` another (agency → client → report).

The chain is read from the nearest file up; the farthest file is applied first and
each nearer file on top of it, so the nearest setting wins. Merge rules:

- maps (``report``, ``attribution``, ``fx`` …) merge key by key, recursively;
- ``sources`` merge by ``name``, ``goals`` and ``custom_metrics`` by ``id``,
  ``delivery`` by ``name`` (else ``type``): an entry with the same key is merged
  into the inherited one, a new key is appended;
- every other list (``formats``, ``sections``, ``metrics`` …) is replaced whole.

A relative path in an inherited file is relative to *that* file: it is rewritten
relative to the nearest file's folder (``sources[].path``, ``report.theme`` when
it names a folder, ``fx.path``, ``history.path``, ``delivery[].path``).
Every value remembers which file set it (:attr:`Layers.origins`), for
``roistory config`` and for error messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from roistory.errors import ConfigError, DataError
from roistory.safety import require_regular_file

KEYED_LISTS = {
    "sources": ("name",),
    "goals": ("id",),
    "custom_metrics": ("id",),
    "incrementality": ("name",),
    "company_goals": ("id",),
    "delivery": ("name", "type"),
}
MAX_DEPTH = 20


@dataclass
class Layers:
    """A config chain merged: the data, the files (nearest first) and who set what."""

    data: dict[str, Any]
    files: list[Path]
    origins: dict[str, Path] = field(default_factory=dict)

    def origin(self, key: str) -> Path | None:
        """The file that set ``key`` (``report.period``, ``sources[crm].path``), or None for a default."""
        while key:
            if key in self.origins:
                return self.origins[key]
            key = _parent_key(key)
        return None


def _parent_key(key: str) -> str:
    cut = max(key.rfind("."), key.rfind("["))
    return key[:cut] if cut > 0 else ""


def item_key(list_name: str, item: Any) -> str | None:
    """The merge key of an entry of a keyed list (its name or id), or None."""
    if not isinstance(item, dict):
        return None
    for attribute in KEYED_LISTS.get(list_name, ()):
        if item.get(attribute) is not None:
            return str(item[attribute])
    return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load, except that a key written twice in one mapping is an error: plain
    YAML keeps the last one silently, so half of what the user wrote would be ignored."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<: *defaults' merges; the keys written beside it override those
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (it is already set above)", key_node.start_mark
                )
            if isinstance(key, str | int | float | bool):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse YAML safely, refusing duplicate keys (yaml.YAMLError like safe_load)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)


MAX_CONFIG_BYTES = 10 << 20  # a report.yaml is a few kB; /dev/zero would never end
MAX_YAML_VALUES = 1_000_000  # values after expanding aliases: a "billion laughs" stops here
MAX_YAML_DEPTH = 100  # a config nests a few levels; every reader of it recurses


def read_yaml(path: Path, *, shape: str = "a mapping with a 'report' key", empty_ok: bool = False) -> dict[str, Any]:
    """One config file (a report.yaml, or a theme.yaml with ``shape`` and ``empty_ok``) parsed,
    with errors naming the file (and line)."""
    try:
        require_regular_file(path, file=str(path))  # a FIFO would block, a device never end
        if path.is_file() and path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"is larger than {MAX_CONFIG_BYTES >> 20} MB: not a report config", file=str(path))
        text = path.read_text(encoding="utf-8")
    except DataError as exc:
        raise ConfigError(str(exc).removeprefix(f"{path}: "), file=str(path)) from None
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # a folder, no permission, a name too long, a NUL
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read: {reason}", file=str(path)) from None
    try:
        data = load_yaml(text)
    except RecursionError:
        raise ConfigError(f"nested more than {MAX_YAML_DEPTH} levels deep", file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}malformed YAML: {problem}", file=str(path)) from None
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"the file must be {shape}", file=str(path))
    _check_shape(data, str(path))
    return data


def _check_shape(data: Any, file: str) -> None:
    """YAML aliases share one object: refuse one that contains itself (every reader would recurse
    forever), nesting that expands past MAX_YAML_VALUES (a "billion laughs"), nesting deeper
    than MAX_YAML_DEPTH, and a NUL character ("\\0" in a quoted string), which no file name or
    setting can hold."""
    sizes: dict[int, int] = {}

    def size(node: Any, open_nodes: set[int], key: str) -> int:
        if isinstance(node, str) and "\0" in node:
            raise ConfigError("holds a NUL character (\\0)", file=file, key=key or None)
        if not isinstance(node, dict | list):
            return 1
        if id(node) in open_nodes:
            raise ConfigError("a YAML alias (*name) refers to a value that contains it", file=file, key=key or None)
        if len(open_nodes) >= MAX_YAML_DEPTH:
            raise ConfigError(f"nested more than {MAX_YAML_DEPTH} levels deep", file=file)
        if id(node) not in sizes:
            open_nodes.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            total = 1
            for name, child in items:
                where = f"{key}[{name}]" if isinstance(node, list) else f"{key}.{name}" if key else str(name)
                total += size(name, open_nodes, where) + size(child, open_nodes, where)
            sizes[id(node)] = total
            open_nodes.discard(id(node))
            if total > MAX_YAML_VALUES:
                raise ConfigError(f"expands to more than {MAX_YAML_VALUES:,} values through YAML aliases", file=file)
        return sizes[id(node)]

    size(data, set(), "")


def _chain(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(file, data) from the nearest file to the farthest it extends."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    current = Path(os.path.normpath(path))
    while True:
        # realpath, not resolve(): a symlink loop is then said by read_yaml's file check
        if os.path.realpath(current) in [os.path.realpath(file) for file, _ in chain]:
            loop = " -> ".join(str(file) for file, _ in chain) + f" -> {current}"
            raise ConfigError(f"extends loop: {loop}", file=str(chain[-1][0]), key="extends")
        if len(chain) >= MAX_DEPTH:
            raise ConfigError(f"more than {MAX_DEPTH} files extend each other", file=str(path), key="extends")
        data = read_yaml(current)
        chain.append((current, data))
        parent = data.get("extends")
        if parent is None:
            return chain
        if not isinstance(parent, str) or not parent.strip():
            raise ConfigError("must be the path of another report.yaml", file=str(current), key="extends")
        following = Path(os.path.normpath(current.parent / parent))
        if not following.is_file():
            raise ConfigError(f"'{parent}' not found ({following})", file=str(current), key="extends")
        current = following


def _rebase(value: Any, source_dir: Path, target_dir: Path, *, only_if_exists: bool = False) -> Any:
    if not isinstance(value, str) or not value or os.path.isabs(value):
        return value
    absolute = source_dir / value
    if only_if_exists and not absolute.exists():
        return value  # a theme *name*, not a folder
    return os.path.relpath(absolute, target_dir)


def rebase_paths(data: dict[str, Any], source_dir: Path, target_dir: Path) -> dict[str, Any]:
    """A copy of an inherited file's data with its relative paths made relative to ``target_dir``."""
    data = dict(data)
    if isinstance(data.get("report"), dict) and "theme" in data["report"]:
        report = dict(data["report"])
        report["theme"] = _rebase(report["theme"], source_dir, target_dir, only_if_exists=True)
        data["report"] = report
    for section in ("fx", "history"):
        if isinstance(data.get(section), dict) and "path" in data[section]:
            data[section] = {**data[section], "path": _rebase(data[section]["path"], source_dir, target_dir)}
    for section in ("sources", "delivery"):
        if isinstance(data.get(section), list):
            data[section] = [
                {**item, "path": _rebase(item["path"], source_dir, target_dir)}
                if isinstance(item, dict) and "path" in item
                else item
                for item in data[section]
            ]
    return data


def _record(value: Any, key: str, file: Path, origins: dict[str, Path]) -> None:
    """Note ``file`` as the origin of every leaf of ``value`` (set at ``key``), forgetting older ones."""
    for known in [k for k in origins if k == key or k.startswith((key + ".", key + "["))]:
        del origins[known]
    list_name = key.rsplit(".", 1)[-1]
    if isinstance(value, dict) and value:
        for name, child in value.items():
            _record(child, f"{key}.{name}" if key else str(name), file, origins)
    elif isinstance(value, list) and value and all(item_key(list_name, v) for v in value):
        for item in value:
            _record(item, f"{key}[{item_key(list_name, item)}]", file, origins)
    else:
        origins[key] = file


def _merge(base: Any, over: Any, key: str, file: Path, origins: dict[str, Path]) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for name, value in over.items():
            child = f"{key}.{name}" if key else str(name)
            if name in base:
                merged[name] = _merge(base[name], value, child, file, origins)
            else:
                merged[name] = value
                _record(value, child, file, origins)
        return merged
    if key in KEYED_LISTS and isinstance(base, list) and isinstance(over, list):
        return _merge_keyed(base, over, key, file, origins)
    _record(over, key, file, origins)
    return over


def _merge_keyed(base: list[Any], over: list[Any], key: str, file: Path, origins: dict[str, Path]) -> list[Any]:
    merged = list(base)
    positions = {item_key(key, item): i for i, item in enumerate(base) if item_key(key, item) is not None}
    for item in over:
        name = item_key(key, item)
        if name is not None and name in positions:
            index = positions[name]
            merged[index] = _merge(base[index], item, f"{key}[{name}]", file, origins)
            continue
        merged.append(item)
        if name is not None:
            positions[name] = len(merged) - 1
            _record(item, f"{key}[{name}]", file, origins)
        else:
            _record(item, key, file, origins)  # an entry without a key: the list is this file's
    return merged


def load_layers(path: str | Path) -> Layers:
    """Read ``path`` and every file it extends, merged nearest-wins (see the module docstring)."""
    path = Path(path)
    chain = _chain(path)
    target_dir = path.parent.resolve()
    merged: dict[str, Any] = {}
    origins: dict[str, Path] = {}
    for file, data in reversed(chain):
        data = {k: v for k, v in data.items() if k != "extends"}
        if file is not chain[0][0]:
            data = rebase_paths(data, file.parent.resolve(), target_dir)
        merged = _merge(merged, data, "", file, origins)
    return Layers(merged, [file for file, _ in chain], origins)


def key_of(loc: tuple[Any, ...], data: Any) -> str:
    """A validation error's location as a provenance key: list items of keyed lists by name."""
    key, node, parent_name = "", data, ""
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            name = item_key(parent_name, item)
            if name is None:
                key += f"[{part}]"
            else:
                key += f"[{name}]"
            node = item
        else:
            key += f".{part}" if key else str(part)
            node = node.get(part) if isinstance(node, dict) else None
            parent_name = str(part)
    return key
