"""Metric values and attribution credit for any period, computed on demand and cached.

The pipeline builds one :class:`Measures` per report; the report context, goals
and trends read every number through it, so a month or a goal window is computed
once however many sections ask for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from roistory.attribution_run import model_credits
from roistory.metrics import MetricEngine, PeriodData

if TYPE_CHECKING:
    from roistory.attribution import Journeys, JourneyStats
    from roistory.config import Config
    from roistory.metrics import Metric
    from roistory.periods import Period
    from roistory.registry import Registry


def period_bounds(period: Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) as timestamps: the period's first instant and the instant after its last day."""
    return pd.Timestamp(period.start), pd.Timestamp(period.end) + pd.Timedelta(days=1)


class Measures:
    """Metric engines and attribution credits per period, cached by period."""

    def __init__(
        self,
        config: Config,
        registry: Registry,
        metrics: dict[str, Metric],
        tables: dict[str, pd.DataFrame],
        journeys: dict[str, tuple[Journeys, JourneyStats]],
    ):
        self.config = config
        self.registry = registry
        self.metrics = metrics
        self.tables = tables
        self.journeys = journeys
        self._credits: dict[tuple, pd.DataFrame] = {}
        self._engines: dict[tuple, MetricEngine] = {}
        self._table_facts: dict[Any, Any] = {}  # shared by every period's data

    def credits(self, model_id: str, period: Period, dimension: str) -> pd.DataFrame | None:
        """A model's credit per segment for conversions in ``period`` (None without journeys)."""
        key = (model_id, period.start, period.end, dimension)
        if key not in self._credits:
            if dimension not in self.journeys:
                return None
            journeys, stats = self.journeys[dimension]
            self._credits[key] = model_credits(
                self.registry.models[model_id],
                journeys,
                stats,
                self.config.attribution.params.get(model_id),
                provider=self.registry.provider("model", model_id),
                window=period_bounds(period),
            )
        return self._credits[key]

    def engine_for(self, period: Period) -> MetricEngine:
        """Metric values for ``period``, credited with the primary attribution model."""
        key = (period.start, period.end)
        if key not in self._engines:
            primary = self.config.attribution.primary_model
            data = PeriodData(
                period,
                self.tables,
                self.config.report.margin,
                attribution=lambda dimension, p=period: self.credits(primary, p, dimension),
                shared=self._table_facts,
            )
            self._engines[key] = MetricEngine(self.metrics, data)
        return self._engines[key]
