"""The read-only report context: what sections, models and hooks see of a computed report.

The pipeline (:func:`roistory.pipeline.build_report`) loads the data and computes
journeys, credits and data quality; this object exposes the results, the values
of any metric for any period (computed on demand through
:class:`roistory.measures.Measures`), the report's formatter and translations.
Nothing here changes the report: its mappings are read-only views.
Serialising it is :mod:`roistory.json_output`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd

from roistory.editions import FULL, Edition
from roistory.forecast import Forecast, pipeline_forecast
from roistory.goals import GoalResult, evaluate_goals
from roistory.i18n import translations
from roistory.incrementality import INCREMENTALITY_COLUMNS
from roistory.maturity import readiness_records
from roistory.metrics import missing_inputs
from roistory.periods import months_ending

if TYPE_CHECKING:
    import gettext

    import pluggy

    from roistory.attribution import Journeys, JourneyStats
    from roistory.config import Config
    from roistory.formatting import Formatter
    from roistory.history import PendingHistory
    from roistory.measures import Measures
    from roistory.metrics import Metric, MetricEngine
    from roistory.periods import Period
    from roistory.quality import Finding
    from roistory.registry import Registry
    from roistory.sources import LoadedSource


def _frozen(mapping: Mapping) -> Mapping:
    return mapping if isinstance(mapping, MappingProxyType) else MappingProxyType(dict(mapping))


@dataclass(frozen=True, eq=False)
class ReportContext:
    """A computed report, read-only: everything sections and renderers read.

    ``periods`` holds ``"current"`` and the configured comparisons;
    ``attribution`` maps model id -> dimension -> credits for the current
    period; ``journeys`` maps dimension -> (journeys, what building them left out).
    """

    config: Config
    registry: Registry
    metrics: Mapping[str, Metric]
    periods: Mapping[str, Period]
    tables: Mapping[str, pd.DataFrame]
    inputs: tuple[LoadedSource, ...]
    formatter: Formatter
    dimensions: tuple[str, ...]
    measures: Measures = field(repr=False)
    attribution: Mapping[str, Mapping[str, pd.DataFrame]] = field(default_factory=dict)
    journeys: Mapping[str, tuple[Journeys, JourneyStats]] = field(default_factory=dict)
    data_quality: tuple[Finding, ...] = ()
    # measured lift / MMM results (roistory.incrementality), one row per measured channel
    incrementality: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[*INCREMENTALITY_COLUMNS, "source"])
    )
    pm: pluggy.PluginManager | None = None  # the manager the report was built with (None: the process-wide one)
    pending_history: PendingHistory | None = None  # this run's history rows, committed once the outputs are written
    edition: Edition = FULL  # the audience being rendered for; see for_edition()
    _goals: list[GoalResult] = field(default_factory=list, repr=False)  # filled on first use
    _computed: dict[str, Any] = field(default_factory=dict, repr=False)  # results computed on first use

    def __post_init__(self) -> None:
        for name in ("metrics", "periods", "tables", "journeys"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        attribution = {model: _frozen(by_dimension) for model, by_dimension in self.attribution.items()}
        object.__setattr__(self, "attribution", MappingProxyType(attribution))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "dimensions", tuple(self.dimensions))
        object.__setattr__(self, "data_quality", tuple(self.data_quality))

    def for_edition(self, edition: Edition) -> ReportContext:
        """The same computed report (measures, caches, findings shared) told to ``edition``'s reader."""
        return replace(self, edition=edition)

    # -- periods and settings ----------------------------------------------------

    @property
    def period(self) -> Period:
        return self.periods["current"]

    @property
    def primary_model(self) -> str:
        return self.config.attribution.primary_model

    @property
    def selected_metrics(self) -> list[str]:
        """The metrics the report shows: ``metrics:`` and the custom metrics, else every non-internal one."""
        if self.config.metrics:
            return list(dict.fromkeys([*self.config.metrics, *(c.id for c in self.config.custom_metrics)]))
        return [m.id for m in self.metrics.values() if m.family != "internal"]

    @property
    def listed_metrics(self) -> list[str]:
        """The metrics the report's ``metrics:`` names: sections show them next to their
        defaults, whichever plugin registered them."""
        return list(self.config.metrics or [])

    def trend_periods(self, months: int = 13) -> list[Period]:
        """The calendar months ending with the one that holds the period's last day."""
        return months_ending(self.period, months)

    @property
    def journey_stats(self) -> JourneyStats | None:
        """What building the channel journeys left out (None without touchpoints)."""
        return self.journeys["channel"][1] if "channel" in self.journeys else None

    # -- values ------------------------------------------------------------------

    def engine_for(self, period: Period) -> MetricEngine:
        """Metric values for any period (trend months, goal windows), credited with the primary model."""
        return self.measures.engine_for(period)

    @property
    def engines(self) -> Mapping[str, MetricEngine]:
        """The metric engine of each of ``periods``."""
        return MappingProxyType({key: self.engine_for(period) for key, period in self.periods.items()})

    def credits(self, model_id: str, period: Period, dimension: str) -> pd.DataFrame | None:
        """A model's credit per segment for conversions in ``period``."""
        return self.measures.credits(model_id, period, dimension)

    def value(self, metric_id: str, period: str = "current", dimension: str | None = None) -> Any:
        """A number (NaN = not measurable), a Series per segment, or None (not segmentable)."""
        if period not in self.periods:
            return float("nan") if dimension is None else None
        return self.engine_for(self.periods[period]).value(metric_id, dimension)

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
        """The tables or columns a metric needs that the report's data lacks."""
        return missing_inputs(self.metrics[metric_id], self.engine_for(self.period).data, self.measures.metrics)

    def maturity_records(self) -> list[dict[str, Any]]:
        """Each reportable metric: measurable or not, and what it needs."""
        return readiness_records(self)

    @property
    def goals(self) -> list[GoalResult]:
        if not self._goals and self.config.goals:
            self._goals.extend(evaluate_goals(self))
        return list(self._goals)

    @property
    def forecast(self) -> Forecast | None:
        """Expected marketing-sourced revenue from the open pipeline (None: the data cannot support one)."""
        if "forecast" not in self._computed:
            self._computed["forecast"] = pipeline_forecast(self.tables, self.period)
        return self._computed["forecast"]

    # -- words -------------------------------------------------------------------

    @property
    def translations(self) -> gettext.NullTranslations:
        return translations(self.config.report.locale, tuple(self.registry.catalogs.values()))

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)
