"""Metrics: base measures computed from tables, and formulas over them.

A base measure (spend, leads, revenue, ...) is a sum or count that adds up over
segments. Every ratio (roi, cpl, ctr, ...) is a formula over measures, evaluated
on the totals of each segment, so a channel's CPL is the channel's spend over
the channel's leads, never an average of ratios. A value that cannot be
computed (missing input, zero denominator) is NaN here and "not measurable" in
every output, never 0.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from roistory.errors import ConfigError
from roistory.formulas import Formula, FormulaError, parse_formula  # noqa: F401 (re-exported)
from roistory.items import UNITS, Metric  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from roistory.periods import Period

NOT_SET = "(not set)"
DIMENSIONS = ("channel", "campaign", "media_type", "audience", "market")

# Which column of each table holds a dimension (tables not listed lack it).
DIMENSION_COLUMNS: dict[str, dict[str, str]] = {
    "spend": {d: d for d in DIMENSIONS},
    "touchpoints": {d: d for d in DIMENSIONS},
    "leads": {"channel": "source_channel", "campaign": "source_campaign", "market": "market"},
    "customers": {"channel": "acquisition_channel", "market": "market"},
    "email": {"campaign": "campaign"},
    "web": {"channel": "channel"},
}

Value = float | pd.Series


def marketing_channels(tables: Mapping[str, pd.DataFrame]) -> set[str]:
    """Channels marketing pays for or reaches people through: spend, touchpoint and web channels."""
    channels: set[str] = set()
    for table in ("spend", "touchpoints", "web"):
        frame = tables.get(table)
        if frame is not None and "channel" in frame:
            channels |= set(frame["channel"].dropna().unique())
    return channels


def placed_metrics(metrics: Iterable[Metric], place: str) -> list[Metric]:
    """The metrics whose ``place`` attribute (``headline`` or ``trend``) is set, in their order.

    A number places the metric among the others (lower first; the built-ins use
    10, 20, ...); ``True`` places it after the numbered ones; ties keep
    registration order.
    """

    def position(metric: Metric) -> float:
        value = getattr(metric, place)
        return math.inf if value is True else float(value)

    shown = [m for m in metrics if getattr(m, place) is not False and getattr(m, place) is not None]
    return sorted(shown, key=position)


# --------------------------------------------------------------------------
# Data for one period, as measures see it
# --------------------------------------------------------------------------


@dataclass
class PeriodData:
    """The canonical tables and attribution credit for one period.

    ``credits(dimension)`` is the primary attribution model's credit for
    conversions in the period: a DataFrame indexed by segment with
    ``conversions`` and ``revenue`` columns, or None without touchpoints.
    """

    period: Period
    tables: dict[str, pd.DataFrame]
    margin: float = 1.0
    attribution: Callable[[str], pd.DataFrame | None] | None = None
    _rows: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict, repr=False)
    shared: dict[Any, Any] = field(default_factory=dict, repr=False)

    def credits(self, dimension: str) -> pd.DataFrame | None:
        return self.attribution(dimension) if self.attribution else None

    @property
    def period_months(self) -> float:
        return float(self.period.months or self.period.days / 30.4375)

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Facts about the whole tables (not the period), shared by every period's data."""
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]

    def has(self, table: str, column: str | None = None) -> bool:
        frame = self.tables.get(table)
        if frame is None:
            return False
        if column is None:
            return True
        return self.memo(("has", table, column), lambda: column in frame and bool(frame[column].notna().any()))

    def segments(self, table: str, column: str) -> pd.Index:
        """Every segment the whole table has in ``column``: a segment with no rows this period counts 0."""
        return self.memo(
            ("segments", table, column),
            lambda: pd.Index(sorted(self.tables[table][column].fillna(NOT_SET).unique())),
        )

    def rows(self, table: str, date_column: str) -> pd.DataFrame:
        """Rows of ``table`` whose ``date_column`` falls in the period (cached: measures share them)."""
        key = (table, date_column)
        if key not in self._rows:
            # sorted by date once for all periods: each period is then a slice, not a scan
            ordered, dates = self.memo(("by_date", table, date_column), lambda: self._sorted(table, date_column))
            start = np.datetime64(pd.Timestamp(self.period.start), "ns")
            end = np.datetime64(pd.Timestamp(self.period.end) + pd.Timedelta(days=1), "ns")
            first, last = np.searchsorted(dates, [start, end], side="left")
            self._rows[key] = ordered.iloc[first:last]
        return self._rows[key]

    def _sorted(self, table: str, date_column: str) -> tuple[pd.DataFrame, np.ndarray]:
        frame = self.tables[table]
        dated = frame[frame[date_column].notna()].sort_values(date_column, kind="stable")
        return dated, dated[date_column].to_numpy("datetime64[ns]")

    def total(
        self, frame: pd.DataFrame, table: str, dimension: str | None, value: str | None = None, how: str = "sum"
    ) -> Value | None:
        """Sum (or ``how="median"``) ``value``, or count rows, overall or per segment of ``dimension``."""
        if dimension is None:
            if not value:
                return float(len(frame))
            return float(getattr(frame[value], how)()) if len(frame) or how == "sum" else float("nan")
        column = DIMENSION_COLUMNS.get(table, {}).get(dimension)
        if column is None or column not in frame:
            return None
        keys = frame[column].fillna(NOT_SET)
        grouped = frame.groupby(keys, sort=True)
        series = grouped[value].agg(how) if value else grouped.size()
        if how == "sum" and table in self.tables and column in self.tables[table]:
            series = series.reindex(self.segments(table, column), fill_value=0)
        return series.astype(float).rename_axis(dimension)


def period_total(table: str, date_column: str, column: str | None = None, *, where: str | None = None):
    """A ``compute`` for the common measure: sum ``column`` (or count rows) of ``table`` dated in the period.

    ``where`` keeps only rows where that column is filled in (e.g. the cost of
    rows that report clicks, so CPC is not diluted by channels without clicks).
    """

    def compute(data: PeriodData, dimension: str | None) -> Value | None:
        rows = data.rows(table, date_column)
        if where is not None:
            rows = rows[rows[where].notna()]
        return data.total(rows, table, dimension, column)

    return compute


def missing_inputs(metric: Metric, data: PeriodData, metrics: dict[str, Metric]) -> list[str]:
    if metric.formula is not None:
        out: list[str] = []
        for name in sorted(parse_formula(metric.formula).names):
            if name in metrics:
                out += [n for n in missing_inputs(metrics[name], data, metrics) if n not in out]
        return out
    missing = []
    for need in metric.needs:  # "a.x|b.y": either input will do
        options = need.split("|")
        if not any(data.has(table, column or None) for table, _, column in (o.partition(".") for o in options)):
            missing.append(" or ".join(options))
    return missing


# --------------------------------------------------------------------------
# Evaluation over periods and segments
# --------------------------------------------------------------------------


class MetricEngine:
    """Computes metric values for one period, with a cache per (metric, dimension)."""

    FORMULA_CONSTANTS = ("margin", "period_months")

    def __init__(self, metrics: dict[str, Metric], data: PeriodData):
        self.metrics = metrics
        self.data = data
        self._cache: dict[tuple[str, str | None], Value | None] = {}

    def value(self, metric_id: str, dimension: str | None = None) -> Value | None:
        """A number (NaN = not measurable) or a Series per segment; None if not segmentable."""
        key = (metric_id, dimension)
        if key not in self._cache:
            self._cache[key] = finite_or_nan(self._compute(metric_id, dimension))
        return self._cache[key]

    def _compute(self, metric_id: str, dimension: str | None) -> Value | None:
        metric = self.metrics[metric_id]
        if missing_inputs(metric, self.data, self.metrics):
            return float("nan") if dimension is None else None
        if metric.compute is not None:
            return metric.compute(self.data, dimension)
        # formulas never refer to each other in a cycle: roistory.pipeline rejects that up front
        formula = parse_formula(metric.formula or "")
        values: dict[str, Value] = {"margin": self.data.margin, "period_months": self.data.period_months}
        for name in formula.names - set(self.FORMULA_CONSTANTS):
            value = self.value(name, dimension)
            if value is None:
                return None
            values[name] = value
        result = formula.evaluate(values)
        if isinstance(result, pd.Series):
            return result.astype(float)  # infinities become NaN in value(), via finite_or_nan
        return float(result)


def finite_or_nan(value: Value | None) -> Value | None:
    """A value that overflowed a float (a sum of huge costs, inf/inf) is not measurable, never
    infinity; the data-quality section names the column (roistory.quality.overflowing_columns)."""
    if isinstance(value, pd.Series):
        if value.dtype.kind == "f" and np.isinf(value.to_numpy()).any():
            return value.replace([np.inf, -np.inf], np.nan)
        return value
    if isinstance(value, float | np.floating) and math.isinf(value):
        return float("nan")
    return value


def check_formula_names(formula: Formula, known: Iterable[str], *, key: str) -> None:
    """Unknown ids in a formula: error naming the formula, position and closest id."""
    known = set(known) | set(MetricEngine.FORMULA_CONSTANTS)
    for name in sorted(formula.names - known):
        position = formula.text.find(name)
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(
            f"formula '{formula.text}' at position {position + 1}: unknown metric id '{name}'{hint}",
            key=key,
        )
