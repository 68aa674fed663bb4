"""From a validated config to a computed :class:`Report`: load, attribute, measure, check.

Rendering the report (HTML, PDF, JSON) is :mod:`roistory.render`'s job.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from roistory import __version__, history, identity
from roistory.attribution import (
    NO_TOUCHPOINTS,
    AttributionError,
    Journeys,
    JourneyStats,
    build_journeys,
    conversion_events,
    resolve_params,
    run_model,
)
from roistory.config import Config
from roistory.errors import ConfigError, PluginError
from roistory.formatting import Formatter
from roistory.goals import GoalResult, check_goals, evaluate_goals, met_at_baseline, parse_target
from roistory.maturity import assess
from roistory.metrics import (
    DIMENSIONS,
    Metric,
    MetricEngine,
    PeriodData,
    check_formula_names,
    missing_inputs,
    parse_formula,
)
from roistory.periods import Period, parse_period
from roistory.plugin_manager import Registry, build_registry
from roistory.quality import Finding
from roistory.sources import (
    PERIOD_COLUMN,
    LoadedSource,
    load_sources,
    rows_outside_period,
    source_findings,
)

if TYPE_CHECKING:
    import pluggy


def _unknown(kind: str, name: str, known: list[str], key: str) -> ConfigError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else f"; available: {', '.join(sorted(known))}"
    return ConfigError(f"unknown {kind} '{name}'{hint}", key=key)


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
                raise _unknown("source type", source.type, list(registry.sources), f"sources[{i}].type")
            if registry.sources[source.type].needs_path and not source.path:
                raise ConfigError(f"a '{source.type}' source needs a path", key=f"sources[{i}].path")
        names = [s.name for s in config.sources]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise ConfigError(f"source name '{name}' is used twice", key=f"sources[{i}].name")
        metrics = all_metrics(config, registry)
        for i, metric_id in enumerate(config.metrics or []):
            if metric_id not in metrics:
                raise _unknown("metric", metric_id, list(metrics), f"metrics[{i}]")
        for i, goal in enumerate(config.goals):
            if goal.metric and goal.metric not in metrics:
                error = _unknown("metric", goal.metric, list(metrics), f"goals[{i}].metric")
                raise ConfigError(f"goal '{goal.id}' is not Measurable: {error.args[0].split(': ', 1)[1]}", key=f"goals[{i}].metric")
        attribution = config.attribution
        for i, model in enumerate(attribution.models):
            if model not in registry.models:
                raise _unknown("attribution model", model, list(registry.models), f"attribution.models[{i}]")
        if attribution.primary and attribution.primary not in attribution.models:
            raise ConfigError(
                f"'{attribution.primary}' must be one of attribution.models", key="attribution.primary"
            )
        for model in attribution.params:
            if model not in registry.models:
                raise _unknown("attribution model", model, list(registry.models), f"attribution.params.{model}")
        for model in attribution.models:
            resolve_params(registry.models[model], attribution.params.get(model))  # bad params fail before any data is read
        for i, section in enumerate(config.sections or []):
            if section not in registry.sections:
                raise _unknown("section", section, list(registry.sections), f"sections[{i}]")
        check_goals(config, metrics, parse_period(config.report.period))
        theme = config.report.theme
        if theme not in registry.themes and not config.resolve(theme).is_dir():
            raise _unknown("theme", theme, list(registry.themes), "report.theme")
        if theme not in registry.themes:
            from roistory.themes import theme_from_folder

            extends = theme_from_folder(config.resolve(theme)).extends
            if extends and extends not in registry.themes:
                raise _unknown("theme", extends, list(registry.themes), f"{theme}/theme.yaml: extends")
    except ConfigError as exc:
        if file and not exc.file:
            raise ConfigError(str(exc), file=file) from None
        raise
    return metrics


@dataclass
class Report:
    """A computed report: everything sections and renderers read."""

    config: Config
    registry: Registry
    metrics: dict[str, Metric]
    periods: dict[str, Period]  # "current", and the configured comparisons
    tables: dict[str, pd.DataFrame]
    inputs: list[LoadedSource]
    formatter: Formatter
    engines: dict[str, MetricEngine]
    dimensions: list[str]
    # model id -> dimension -> credits for the current period
    attribution: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    journey_stats: JourneyStats | None = None
    data_quality: list[Finding] = field(default_factory=list)
    pm: Any = None  # the plugin manager the report was built with (None: the process-wide one)
    pending_history: history.PendingHistory | None = None  # committed once the outputs are written
    # dimension -> journeys and what building them left out
    journeys: dict[str, tuple[Journeys, JourneyStats]] = field(default_factory=dict)
    _credits: dict[tuple, pd.DataFrame] = field(default_factory=dict, repr=False)
    _engines: dict[tuple, MetricEngine] = field(default_factory=dict, repr=False)
    _goals: list[GoalResult] | None = field(default=None, repr=False)
    _table_facts: dict[Any, Any] = field(default_factory=dict, repr=False)  # shared by every period's data

    def credits(self, model_id: str, period: Period, dimension: str) -> pd.DataFrame | None:
        """A model's credit per segment for conversions in ``period``.

        Conversions that had no touchpoints are their own segment, so segment
        revenue adds up to total revenue.
        """
        key = (model_id, period.start, period.end, dimension)
        if key in self._credits:
            return self._credits[key]
        if dimension not in self.journeys:
            return None
        journeys, stats = self.journeys[dimension]
        start, end = _period_bounds(period)
        # non-converting journeys too: Markov and Shapley learn from paths that did not convert
        in_period = journeys.ending_between(start, end)
        model = self.registry.models[model_id]
        try:
            credits = run_model(model, in_period, self.config.attribution.params.get(model_id))
        except AttributionError as exc:  # a model broke conservation: say whose
            raise PluginError(f"plugin '{self.registry.provider('model', model_id)}': {exc}") from None
        orphans = stats.unattributed
        orphans = orphans[(orphans["timestamp"] >= start) & (orphans["timestamp"] < end)]
        if len(orphans):
            extra = pd.DataFrame(
                {"conversions": [float(len(orphans))], "revenue": [float(orphans["revenue"].sum())]},
                index=pd.Index([NO_TOUCHPOINTS], name="segment"),
            )
            credits = pd.concat([credits, extra])
        self._credits[key] = credits
        return credits

    def engine_for(self, period: Period) -> MetricEngine:
        """Metric values for any period (trend months, goal windows), credited with the primary model."""
        key = (period.start, period.end)
        if key not in self._engines:
            data = PeriodData(
                period,
                self.tables,
                self.config.report.margin,
                attribution=lambda dimension, p=period: self.credits(self.primary_model, p, dimension),
                shared=self._table_facts,
            )
            self._engines[key] = MetricEngine(self.metrics, data)
        return self._engines[key]

    def trend_periods(self, months: int = 13) -> list[Period]:
        """The calendar months ending with the one that holds the period's last day."""
        last = parse_period(f"{self.period.end.year}-{self.period.end.month:02d}")
        return [last.shifted_months(-k) for k in range(months - 1, -1, -1)]

    @property
    def goals(self) -> list[GoalResult]:
        if self._goals is None:
            self._goals = evaluate_goals(self)
        return self._goals

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    @property
    def translations(self):
        from roistory.i18n import translations

        return translations(self.config.report.locale)

    @property
    def period(self) -> Period:
        return self.periods["current"]

    @property
    def primary_model(self) -> str:
        return self.config.attribution.primary_model

    @property
    def selected_metrics(self) -> list[str]:
        if self.config.metrics:
            return list(dict.fromkeys([*self.config.metrics, *(c.id for c in self.config.custom_metrics)]))
        return [m.id for m in self.metrics.values() if m.family != "internal"]

    def value(self, metric_id: str, period: str = "current", dimension: str | None = None) -> Any:
        """A number (NaN = not measurable), a Series per segment, or None (not segmentable)."""
        engine = self.engines.get(period)
        if engine is None:
            return float("nan") if dimension is None else None
        return engine.value(metric_id, dimension)

    def segment_values(self, metric_ids: list[str], dimension: str, period: str = "current") -> pd.DataFrame:
        """One row per segment, one column per metric (NaN: not measurable for that segment)."""
        columns = {}
        for metric_id in metric_ids:
            value = self.value(metric_id, period, dimension)
            if isinstance(value, pd.Series):
                columns[metric_id] = value
        frame = pd.DataFrame(columns)
        return frame.reindex(columns=metric_ids)

    def missing_inputs(self, metric_id: str) -> list[str]:
        return missing_inputs(self.metrics[metric_id], self.engines["current"].data, self.metrics)

    def metric_records(self) -> list[dict[str, Any]]:
        """The JSON ``metrics`` list: every measurable value, by period and segment."""
        records = []
        for metric_id in self.selected_metrics:
            unit = self.metrics[metric_id].unit
            for period in self.periods:
                for dimension in [None, *self.dimensions]:
                    value = self.value(metric_id, period, dimension)
                    if value is None:
                        continue
                    items = value.items() if isinstance(value, pd.Series) else [(None, value)]
                    for segment, number in items:
                        if number is None or math.isnan(number):
                            continue
                        records.append(
                            {
                                "id": metric_id,
                                "period": period,
                                "segment": {dimension: segment} if dimension else {},
                                "value": float(number),
                                "unit": unit,
                            }
                        )
        return records

    TREND_METRICS = ("spend", "revenue", "roi", "roas", "leads", "mqls", "sqls", "conversions", "cpl", "cac", "pipeline")

    def trend_records(self) -> list[dict[str, Any]]:
        """Monthly totals over the 13 months ending with the period (an extension of SPEC's JSON)."""
        records = []
        months = self.trend_periods()
        for metric_id in [m for m in self.TREND_METRICS if m in self.selected_metrics]:
            if self.missing_inputs(metric_id):
                continue
            for month in months:
                value = self.engine_for(month).value(metric_id)
                if isinstance(value, float) and not math.isnan(value):
                    records.append({"id": metric_id, "month": month.label, "value": value})
        return records

    def maturity_records(self) -> list[dict[str, Any]]:
        records = []
        for metric_id in [m.id for m in self.metrics.values() if m.family != "internal"]:
            needs = self.missing_inputs(metric_id)
            record: dict[str, Any] = {"metric": metric_id, "measurable": not needs, "needs": needs}
            if not needs:
                value = self.value(metric_id)
                if isinstance(value, float) and math.isnan(value):
                    record["measurable"] = False
                    record["reason"] = "its denominator is zero in this period"
            records.append(record)
        return records

    def attribution_records(self) -> list[dict[str, Any]]:
        records = []
        for model, by_dimension in self.attribution.items():
            for dimension, credits in by_dimension.items():
                for segment, row in credits.iterrows():
                    records.append(
                        {
                            "model": model,
                            "segment": {dimension: segment},
                            "conversions": float(row["conversions"]),
                            "revenue": float(row["revenue"]),
                        }
                    )
        return records

    def as_json(self) -> dict[str, Any]:
        settings = self.config.report
        return {
            "roistory_version": __version__,
            "report": {
                "title": settings.title,
                "period": self.period.as_json(),
                "currency": settings.currency,
                "locale": settings.locale,
            },
            "inputs": [source.as_json() for source in self.inputs],
            "metrics": self.metric_records(),
            "attribution": self.attribution_records(),
            "goals": [goal.as_json() for goal in self.goals],
            "maturity": self.maturity_records(),
            "maturity_level": assess(self).as_json(),
            "trends": self.trend_records(),
            "data_quality": [finding.as_json() for finding in self.data_quality],
        }


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


def _period_bounds(period: Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(period.start), pd.Timestamp(period.end) + pd.Timedelta(days=1)


def _check_period_has_data(tables: dict[str, pd.DataFrame], period: Period, file: str | None) -> None:
    start, end = _period_bounds(period)
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
    raise ConfigError(f"no data for the report period {period.label} in any source{covered}", file=file, key="report.period")


def build_report(
    config: Config,
    *,
    pm: pluggy.PluginManager | None = None,
    period: str | None = None,
    locale: str | None = None,
    write_history: bool = True,
) -> Report:
    """Load every source and compute metrics, attribution and data quality."""
    registry = build_registry(pm)
    if period or locale:
        updates = {k: v for k, v in (("period", period), ("locale", locale)) if v}
        from roistory.config import config_from_dict

        data = config.model_dump(mode="json", exclude={"base_dir", "path"})
        data["report"].update(updates)
        config = config_from_dict(data, path=config.path)
    metrics = check_config_against_registry(config, registry)
    current = parse_period(config.report.period)
    periods = {"current": current}
    for comparison in config.report.compare:
        periods[comparison] = current.previous() if comparison == "previous" else current.year_ago()

    tables, inputs = load_sources(config, registry.sources)
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
        d for d in DIMENSIONS if any(col in frame for frame in tables.values() for col in [d, f"source_{d}", f"acquisition_{d}"])
    ]
    report = Report(
        config=config,
        registry=registry,
        metrics=metrics,
        periods=periods,
        tables=tables,
        inputs=inputs,
        formatter=Formatter(config.report.locale, config.report.currency),
        engines={},
        dimensions=dimensions,
        pm=pm,
        pending_history=pending,
    )
    _build_journeys(report)
    for model_id in config.attribution.models:
        for dimension in report.journeys:
            report.attribution.setdefault(model_id, {})[dimension] = report.credits(model_id, current, dimension)
    for key, each in periods.items():
        report.engines[key] = report.engine_for(each)
    report.data_quality = [*source_findings(inputs), *history_findings, *identity_findings, *_data_quality(report)]
    return report


def _build_journeys(report: Report) -> None:
    """Cut touchpoints into journeys once per dimension; models then run per period on demand."""
    tables, settings = report.tables, report.config.attribution
    if "touchpoints" not in tables:
        return
    touchpoints = tables["touchpoints"]
    conversions = tables.get("conversions")
    if conversions is None and "conversion" not in touchpoints and "leads" in tables:
        conversions = _conversions_from_leads(tables["leads"])
    events = conversion_events(touchpoints, conversions)
    if events.empty:
        return
    for dimension in [d for d in report.dimensions if d in touchpoints]:
        report.journeys[dimension] = build_journeys(
            touchpoints,
            events,
            dimension=dimension,
            lookback_days=settings.lookback_days,
            dormancy_days=settings.dormancy_days,
        )
    report.journey_stats = report.journeys["channel"][1] if "channel" in report.journeys else None


def _data_quality(report: Report) -> list[Finding]:
    findings: list[Finding] = []
    tables = report.tables
    start, end = _period_bounds(report.period)
    for source in report.inputs:
        frame = tables[source.table]
        if source.rows == 0:
            findings.append(Finding("warning", "empty_source", 0, f"source '{source.name}' has no rows"))
    for name, frame in tables.items():
        values = frame[PERIOD_COLUMN[name]]
        if not ((values >= start) & (values < end)).any():
            findings.append(
                Finding("warning", "table_missing_for_period", 0, f"table '{name}' has no rows in {report.period.label}")
            )
    for i, goal in enumerate(report.config.goals):
        metric = report.metrics[goal.metric]
        if met_at_baseline(goal, metric, parse_target(goal, metric, f"goals[{i}]")):
            findings.append(
                Finding("warning", "goal_met_at_baseline", 1, f"goal '{goal.id}': the target is already met at the baseline")
            )
    if finding := rows_outside_period(tables, start, end):
        findings.append(finding)
    stats = report.journey_stats
    if stats is not None:
        orphans = stats.unattributed
        in_period = orphans[(orphans["timestamp"] >= start) & (orphans["timestamp"] < end)]
        if len(orphans):
            findings.append(
                Finding(
                    "warning",
                    "conversions_without_touchpoints",
                    len(orphans),
                    f"{len(orphans)} conversions had no touchpoint in the {report.config.attribution.lookback_days}-day "
                    f"lookback ({len(in_period)} in this period, "
                    f"{report.formatter.money(float(in_period['revenue'].sum()))}); "
                    f"they are shown as '{NO_TOUCHPOINTS}' rather than credited to a channel",
                )
            )
        if stats.touches_beyond_lookback:
            findings.append(
                Finding(
                    "info",
                    "touchpoints_beyond_lookback",
                    stats.touches_beyond_lookback,
                    f"{stats.touches_beyond_lookback} touchpoints came more than "
                    f"{report.config.attribution.lookback_days} days before their conversion and get no credit",
                )
            )
        if stats.reengaged_journeys:
            findings.append(
                Finding(
                    "info",
                    "reengaged_after_dormancy",
                    stats.reengaged_journeys,
                    f"{stats.reengaged_journeys} journeys restarted after more than "
                    f"{report.config.attribution.dormancy_days} days of inactivity (re-engagement rule)",
                )
            )
    return findings
