"""The roistory hook specifications: everything a plugin can provide or change.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names
match the specs below. Installed plugins are found through the ``roistory``
entry-point group; the built-in plugins are registered the same way.

Compatibility rule: adding an argument to a hook is free (implementations opt in
by naming it); renaming or removing one goes through a deprecation cycle with
``warn_on_impl_args`` and a note in ``docs/changelog.md``.
All hooks are called with keyword arguments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable

    import click
    import jinja2

    from roistory.config import DeliveryConfig
    from roistory.context import ReportContext
    from roistory.delivery import Receipt
    from roistory.editions import Edition
    from roistory.i18n import Catalog
    from roistory.items import AttributionModel, IncrementalityReader, Metric, SourceType
    from roistory.review import Run
    from roistory.sections import ReportSection
    from roistory.themes import Theme

hookspec = pluggy.HookspecMarker("roistory")
hookimpl = pluggy.HookimplMarker("roistory")


# --------------------------------------------------------------------------
# Data sources
# --------------------------------------------------------------------------


@hookspec
def register_data_sources(register: Callable[[SourceType], None]) -> None:
    """Register source types that read raw data for the canonical tables.

    :param register: call ``register(SourceType(name=..., read=...))`` once per
        source type. ``name`` is what a report's ``sources[].type`` names.
        ``read(source, config)`` returns a :class:`pandas.DataFrame` whose index
        is the row number shown in error messages; the core then applies the
        source's ``columns`` rename map and ``values`` constants and validates
        the result against the canonical table.

    A name registered twice is an error naming both plugins.

    Added in 0.1.
    """


@hookspec
def register_incrementality_readers(register: Callable[[IncrementalityReader], None]) -> None:
    """Register readers of measured incrementality: lift tests, holdouts, MMM outputs.

    :param register: call ``register(IncrementalityReader(name=..., read=...))`` once
        per format. ``name`` is what a report's ``incrementality[].type`` names.
        ``read(item, config)`` returns a :class:`pandas.DataFrame` with the columns of
        :data:`roistory.api.INCREMENTALITY_COLUMNS` it knows, indexed by the file's
        row number; the core parses and checks them (errors name file, row and
        column) and shows the results beside the attribution models.

    A name registered twice is an error naming both plugins.

    Added in 0.2.
    """


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


@hookspec
def register_metrics(register: Callable[[Metric], None]) -> None:
    """Register metrics: base measures computed from tables, or formulas.

    :param register: call ``register(Metric(id=..., ...))`` once per metric.
        A base measure has ``compute(data, dimension)`` returning a number (no
        dimension) or a :class:`pandas.Series` indexed by segment; a derived
        metric has ``formula``, arithmetic over other metric ids, so that it
        aggregates over segments as a ratio of sums, never an average of ratios.
        ``headline`` and ``trend`` (``True`` or a number: its position, the
        built-ins using 10, 20, ...) make the metric a default KPI tile or
        monthly trend series exactly as a built-in is; ``maturity`` (1-3) is the
        measurement-maturity level the metric evidences.

    Added in 0.1.
    """


# --------------------------------------------------------------------------
# Attribution models
# --------------------------------------------------------------------------


@hookspec
def register_attribution_models(register: Callable[[AttributionModel], None]) -> None:
    """Register attribution models.

    :param register: call ``register(AttributionModel(id=..., attribute=...))``.
        ``attribute(journeys, params)`` receives integer-coded
        :class:`roistory.attribution.Journeys` and returns per-touch weights
        (one float per touch, summing to 1 within each converting journey) or
        a :class:`pandas.DataFrame` indexed by segment with ``conversions`` and
        ``revenue`` columns. Either way credits must sum to the journeys'
        conversions and revenue; the core checks this. Models registered with
        ``default=True`` run when a report does not set ``attribution.models``.

    Added in 0.1.
    """


# --------------------------------------------------------------------------
# Report sections and themes
# --------------------------------------------------------------------------


@hookspec
def register_report_sections(register: Callable[[ReportSection], None]) -> None:
    """Register report sections a report's ``sections:`` list can name.

    :param register: call ``register(ReportSection(id=..., template=..., build=...))``.
        ``build(report)`` receives the read-only
        :class:`roistory.api.ReportContext` and returns the template context
        for the section (a dict), or ``None`` to leave the section out of this
        report. ``template`` is looked up through the theme's template folders,
        so a theme or a report project can override it. A report without
        ``sections:`` shows the sections whose ``default`` is true by ``order``
        (the built-ins use 10, 20, ... 110; ``None`` comes last).

    Added in 0.1.
    """


@hookspec
def register_themes(register: Callable[[Theme], None]) -> None:
    """Register themes: template folders, stylesheets and brand settings.

    :param register: call ``register(Theme(name=..., templates=..., ...))``.
        A report selects one with ``report.theme``; a theme's templates take
        precedence over the built-in defaults, which stay reachable under the
        ``default:`` prefix (``{% extends "default:report.html.j2" %}``).

    Added in 0.1.
    """


@hookspec
def register_translations(register: Callable[[Catalog], None]) -> None:
    """Register a plugin's own translations of the text it puts in reports.

    :param register: call ``register(Catalog(domain=..., folder=...))``. ``folder``
        holds gettext catalogs as ``<locale>/LC_MESSAGES/<domain>.po`` (``es``,
        ``zh_Hant``, ...); ``domain`` names them (use the plugin's module name).
        Their messages are merged into the report's translations at load: a
        section's ``report.gettext(...)`` and a template's ``{{ _("...") }}`` find
        them. roistory's own catalog wins when both translate the same text.

    Added in 0.2.
    """


@hookspec
def register_editions(register: Callable[[Edition], None]) -> None:
    """Register editions: documents for one audience rendered from the same computed report.

    :param register: call ``register(Edition(id=..., title=..., sections=(...), ...))``.
        ``sections`` are section ids in order (ids no plugin registered are skipped),
        ``lead_metrics`` the metrics the KPI tiles show first, ``headline`` the metric
        the summary's first sentence states, ``topics`` what the summary speaks about
        (from ``roistory.editions.TOPICS``). A report asks for editions with
        ``report.edition`` or ``--edition``; each renders to ``<name>-<edition>.<ext>``.
        The built-ins are ``board``, ``cfo``, ``cmo`` and ``sales``.

    Added in 0.2.
    """


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


@hookspec
def prepare_jinja2_environment(env: jinja2.Environment, report: ReportContext) -> None:
    """Change the Jinja2 environment before a report is rendered.

    :param env: the sandboxed environment; add filters, globals or tests.
    :param report: the computed report about to be rendered (read-only).

    Added in 0.1.
    """


# --------------------------------------------------------------------------
# Delivery
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def deliver(destination: DeliveryConfig, run: Run | None, dry_run: bool) -> Receipt | None:
    """Send an approved report somewhere: a folder, e-mail, a client portal.

    Called once per entry of the report's ``delivery:`` list, after a
    successful render (``roistory run --deliver``) or by ``roistory deliver RUN``.
    Return ``None`` when ``destination.type`` is not yours; the first plugin
    that returns a :class:`roistory.api.Receipt` has handled it.

    :param destination: the ``delivery:`` entry: ``type``, ``name``, ``to``
        and ``cc`` (already checked to be e-mail addresses) and the plugin's own
        keys as attributes (``destination.host``; ``destination.model_extra``
        holds them all). Relative paths are relative to ``run.base_dir``.
    :param run: the approved :class:`roistory.api.Run`: ``run.outputs``
        (format → file), ``run.recorded_sha256``, ``run.title``,
        ``run.client``, ``run.period`` (2026-10), ``run.period_name`` (October 2026, in
        the report's language), ``run.locale``, ``run.base_dir``.
        ``None`` when roistory only checks the settings, before rendering.
    :param dry_run: check ``destination`` and say what would happen, sending
        nothing. Raise :class:`roistory.api.ConfigError` naming the bad key
        (exit code 2); raise :class:`roistory.api.DeliveryError` when sending
        fails (exit code 1), never with a password in the message.
    :return: a :class:`roistory.api.Receipt` (recipients, location, detail),
        recorded in ``<name>.deliveries.json`` with the outputs' SHA-256;
        ``None`` for a type this plugin does not deliver. First non-None
        result wins.

    Added in 0.2.
    """


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``roistory`` command line.

    :param cli: the root :class:`click.Group`; use ``@cli.command()``.

    Added in 0.1.
    """


HOOK_NAMES: tuple[str, ...] = tuple(name for name, value in list(globals().items()) if hasattr(value, "roistory_spec"))

__all__ = ["hookspec", "hookimpl", "HOOK_NAMES"]
