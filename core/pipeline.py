"""From a validated config to a computed report: load, attribute, measure, check.

The result is a read-only :class:`roistory.context.ReportContext`; rendering it
(HTML, PDF, JSON) is :mod:`roistory.render`'s job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from roistory import history, identity
from roistory.attribution import Journeys, JourneyStats, conversion_events
from roistory.attribution_run import check_models, journey_findings, journeys_by_dimension
from roistory.config import Config, config_from_dict
from roistory.context import ReportContext
from roistory.errors import ConfigError, unknown_name
from roistory.formatting import Formatter
from roistory.goals import check_company_goals, check_goals, met_at_baseline, parse_target
from roistory.i18n import N_
from roistory.incrementality import load_incrementality
from roistory.measures import Measures, period_bounds
from roistory.metrics import DIMENSIONS, Metric, check_formula_names, parse_formula
from roistory.periods import Period, parse_period
from roistory.plugin_manager import Registry, build_registry
from roistory.quality import Finding, overflowing_columns
from roistory.sources import (
    PERIOD_COLUMN,
    LoadedSource,
    load_sources,
    rows_outside_period,
    source_findings,
)
from roistory.themes import theme_from_folder

if TYPE_CHECKING:
    import pluggy

Report = ReportContext  # the name sections and hooks knew before the context was split out


def all_metrics(config: Config, registry: Registry) -> dict[str, Metric]:
    """Registered metrics plus the report's custom formulas."""
    metrics = dict(registry.metrics)
    for i, custom in enumerate(config.custom_metrics):
        key = f"custom_metrics[{i}]"
        if custom.id in metrics:
            raise ConfigError(f"'{custom.id}' is already a metric id", key=f"{key}.id")
        try:
            metrics[custom.id] = Metric(
                id=custom.id,
                label=custom.label or custom.id,
                unit=custom.unit,
                definition=custom.formula,
                formula=custom.formula,
                family="custom",
            )
        except ValueError as exc:
            raise ConfigError(str(exc), key=f"{key}.formula") from None
    for i, custom in enumerate(config.custom_metrics):
        check_formula_names(parse_formula(custom.formula), metrics, key=f"custom_metrics[{i}].formula")
    _check_formula_cycles(metrics)
    return metrics


def _check_formula_cycles(metrics: dict[str, Metric]) -> None:
    """Formulas that refer to each other in a loop would never finish: reject them up front."""
    state: dict[str, str] = {}  # "visiting" or "done"

    def visit(metric_id: str, path: list[str]) -> None:
        if state.get(metric_id) == "done" or metric_id not in metrics:
            return
        if state.get(metric_id) == "visiting":
            cycle = " -> ".join([*path[path.index(metric_id) :], metric_id])
            raise ConfigError(f"formulas refer to each other in a cycle: {cycle}", key="custom_metrics")
        state[metric_id] = "visiting"
        formula = metrics[metric_id].formula
        for name in sorted(parse_formula(formula).names) if formula else []:
            visit(name, [*path, metric_id])
        state[metric_id] = "done"

    for metric_id in metrics:
        visit(metric_id, [])


def check_config_against_registry(config: Config, registry: Registry) -> dict[str, Metric]:
    """Names in the config that no plugin provides: ConfigError naming the key."""
    file = str(config.path) if config.path else None
    try:
        for i, source in enumerate(config.sources):
            if source.type not in registry.sources:
                raise unknown_name("source type", source.type, list(registry.sources), f"sources[{i}].type")
            if registry.sources[source.type].needs_path and not source.path:
                raise ConfigError(f"a '{source.type}' source needs a path", key=f"sources[{i}].path")
        names = [s.name for s in config.sources]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise ConfigError(f"source name '{name}' is used twice", key=f"sources[{i}].name")
        metrics = all_metrics(config, registry)
        for i, metric_id in enumerate(config.metrics or []):
            if metric_id not in metrics:
                raise unknown_name("metric", metric_id, list(metrics), f"metrics[{i}]")
        for i, goal in enumerate(config.goals):
            if goal.metric and goal.metric not in metrics:
                error = unknown_name("metric", goal.metric, list(metrics), f"goals[{i}].metric")
                raise ConfigError(
                    f"goal '{goal.id}' is not Measurable: {error.args[0].split(': ', 1)[1]}", key=f"goals[{i}].metric"
                )
        attribution = config.attribution
        check_models(attribution.models or [], attribution.params, registry)
        if attribution.primary and attribution.primary not in (attribution.models or []):
            raise ConfigError(f"'{attribution.primary}' must be one of attribution.models", key="attribution.primary")
        for i, section in enumerate(config.sections or []):
            if section not in registry.sections:
                raise unknown_name("section", section, list(registry.sections), f"sections[{i}]")
        for i, edition in enumerate(config.report.edition or []):
            if edition not in registry.editions:
                raise unknown_name("edition", edition, list(registry.editions), f"report.edition[{i}]")
        check_goals(config, metrics, parse_period(config.report.period))
        check_company_goals(config)
        for i, item in enumerate(config.incrementality):
            if item.type not in registry.incrementality_readers:
                raise unknown_name(
                    "incrementality type", item.type, list(registry.incrementality_readers), f"incrementality[{i}].type"
                )
        names = [item.name for item in config.incrementality]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise ConfigError(f"incrementality name '{name}' is used twice", key=f"incrementality[{i}].name")
        theme = config.report.theme
        if theme not in registry.themes and not config.resolve(theme).is_dir():
            raise unknown_name("theme", theme, list(registry.themes), "report.theme")
        if theme not in registry.themes:
            extends = theme_from_folder(config.resolve(theme)).extends
            if extends and extends not in registry.themes:
                raise unknown_name("theme", extends, list(registry.themes), f"{theme}/theme.yaml: extends")
    except ConfigError as exc:
        if file and not exc.file:
            raise ConfigError(str(exc), file=file) from None
        raise
    return metrics


def _conversions_from_leads(leads: pd.DataFrame) -> pd.DataFrame | None:
    """SPEC: without a conversions table, won leads with an amount and a person convert."""
    needed = {"won_at", "amount", "person_id"}
    if not needed <= set(leads.columns):
        return None
    won = leads[leads["won_at"].notna() & leads["amount"].notna() & leads["person_id"].notna()]
    return pd.DataFrame(
        {
            "person_id": won["person_id"].to_numpy(),
            "timestamp": won["won_at"].to_numpy(),
            "revenue": won["amount"].to_numpy(float),
        }
    )


def _check_period_has_data(tables: dict[str, pd.DataFrame], period: Period, file: str | None) -> None:
    start, end = period_bounds(period)
    lows, highs = [], []
    for name, frame in tables.items():
        values = frame[PERIOD_COLUMN[name]].dropna()
        if values.empty:
            continue
        if ((values >= start) & (values < end)).any():
            return
        lows.append(values.min())
        highs.append(values.max())
    covered = f" (the data covers {min(lows):%Y-%m-%d} to {max(highs):%Y-%m-%d})" if lows else ""
    raise ConfigError(
        f"no data for the report period {period.label} in any source{covered}", file=file, key="report.period"
    )


def resolve_config(
    config: Config, registry: Registry, *, period: str | None = None, locale: str | None = None
) -> Config:
    """The config with command-line overrides applied and unset defaults taken from the
    plugins (``attribution.models``: the models registered with ``default=True``)."""
    if period or locale:
        data = config.model_dump(mode="json", exclude={"base_dir", "path"})
        data["report"].update({k: v for k, v in (("period", period), ("locale", locale)) if v})
        config = config_from_dict(data, path=config.path)
    if config.attribution.models is None:
        defaults = [model.id for model in registry.models.values() if model.default]
        attribution = config.attribution.model_copy(update={"models": defaults})
        config = config.model_copy(update={"attribution": attribution})
    return config


def build_report(
    config: Config,
    *,
    pm: pluggy.PluginManager | None = None,
    period: str | None = None,
    locale: str | None = None,
    write_history: bool = True,
) -> ReportContext:
    """Load every source and compute metrics, attribution and data quality."""
    registry = build_registry(pm)
    config = resolve_config(config, registry, period=period, locale=locale)
    metrics = check_config_against_registry(config, registry)
    current = parse_period(config.report.period)
    periods = {"current": current}
    for comparison in config.report.compare:
        periods[comparison] = current.previous() if comparison == "previous" else current.year_ago()

    tables, inputs = load_sources(config, registry.sources)
    incrementality = load_incrementality(config, registry.incrementality_readers)
    # history before identity: the store keeps rows as exported, merging happens per run
    tables, history_findings, pending = history.merge_history(config, tables, inputs, write=write_history)
    try:
        tables, identity_findings = identity.resolve(tables, config)
        _check_period_has_data(tables, current, str(config.path) if config.path else None)
    except BaseException:
        if pending is not None:
            pending.discard()
        raise

    dimensions = [
        d
        for d in DIMENSIONS
        if any(col in frame for frame in tables.values() for col in [d, f"source_{d}", f"acquisition_{d}"])
    ]
    journeys = _journeys(tables, dimensions, config)
    measures = Measures(config, registry, metrics, tables, journeys)
    attribution: dict[str, dict[str, pd.DataFrame]] = {}
    for model_id in config.attribution.models or []:
        for dimension in journeys:
            attribution.setdefault(model_id, {})[dimension] = measures.credits(model_id, current, dimension)
    formatter = Formatter(config.report.locale, config.report.currency)
    findings = _data_quality(config, metrics, tables, inputs, current, journeys, formatter)
    return ReportContext(
        config=config,
        registry=registry,
        metrics=metrics,
        periods=periods,
        tables=tables,
        inputs=tuple(inputs),
        formatter=formatter,
        dimensions=tuple(dimensions),
        measures=measures,
        attribution=attribution,
        journeys=journeys,
        incrementality=incrementality,
        data_quality=(*source_findings(inputs), *history_findings, *identity_findings, *findings),
        pm=pm,
        pending_history=pending,
    )


def _journeys(
    tables: dict[str, pd.DataFrame], dimensions: list[str], config: Config
) -> dict[str, tuple[Journeys, JourneyStats]]:
    """Cut touchpoints into journeys once per dimension; models then run per period on demand."""
    if "touchpoints" not in tables:
        return {}
    touchpoints = tables["touchpoints"]
    conversions = tables.get("conversions")
    if conversions is None and "conversion" not in touchpoints and "leads" in tables:
        conversions = _conversions_from_leads(tables["leads"])
    events = conversion_events(touchpoints, conversions)
    if events.empty:
        return {}
    return journeys_by_dimension(touchpoints, events, dimensions, config.attribution, config.engine)


def _data_quality(
    config: Config,
    metrics: dict[str, Metric],
    tables: dict[str, pd.DataFrame],
    inputs: list[LoadedSource],
    period: Period,
    journeys: dict[str, tuple[Journeys, JourneyStats]],
    formatter: Formatter,
) -> list[Finding]:
    findings: list[Finding] = []
    start, end = period_bounds(period)
    for source in inputs:
        if source.rows == 0:
            findings.append(
                Finding.of("warning", "empty_source", 0, N_("source '{source}' has no rows"), source=source.name)
            )
    for name, frame in tables.items():
        values = frame[PERIOD_COLUMN[name]]
        if not ((values >= start) & (values < end)).any():
            findings.append(
                Finding.of(
                    "warning",
                    "table_missing_for_period",
                    0,
                    N_("table '{table}' has no rows in {period}"),
                    table=name,
                    period=period.label,
                )
            )
    for i, goal in enumerate(config.goals):
        metric = metrics[goal.metric]
        if met_at_baseline(goal, metric, parse_target(goal, metric, f"goals[{i}]")):
            findings.append(
                Finding.of(
                    "warning",
                    "goal_met_at_baseline",
                    1,
                    N_("goal '{goal}': the target is already met at the baseline"),
                    goal=goal.id,
                )
            )
    if finding := rows_outside_period(tables, start, end):
        findings.append(finding)
    findings += overflowing_columns(tables)
    if "channel" in journeys:
        stats = journeys["channel"][1]
        findings += journey_findings(stats, config.attribution, formatter.money, window=(start, end))
    return findings
