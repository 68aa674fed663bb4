"""Metrics: base measures computed from tables, and formulas over them.

A base measure (spend, leads, revenue, ...) is a sum or count that adds up over
segments. Every ratio (roi, cpl, ctr, ...) is a formula over measures, evaluated
on the totals of each segment, so a channel's CPL is the channel's spend over
the channel's leads, never an average of ratios. A value that cannot be
computed (missing input, zero denominator) is NaN here and "not measurable" in
every output, never 0.
"""

from __future__ import annotations

import ast
import difflib
import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from roistory.errors import ConfigError

if TYPE_CHECKING:
    from roistory.periods import Period

NOT_SET = "(not set)"
UNITS = ("currency", "ratio", "percent", "count", "days", "months")
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


@dataclass(frozen=True)
class Metric:
    """A metric a report can show.

    Exactly one of ``compute`` (a base measure) or ``formula`` (arithmetic over
    other metric ids; ``margin`` names the report's margin and ``period_months``
    the period's length in months) is given.
    ``compute(data, dimension)`` returns a number when ``dimension`` is None,
    else a Series indexed by segment; ``None`` when the data cannot be split
    by that dimension.
    """

    id: str
    label: str
    unit: str
    definition: str
    formula: str | None = None
    compute: Callable[[PeriodData, str | None], Value | None] | None = None
    needs: tuple[str, ...] = ()  # "table" or "table.column" read; "a.x|b.y" when either will do
    family: str = "value"  # value, efficiency, response, activity; "internal" = a building block only
    direction: str = "higher"  # which way is better: higher, lower, neutral
    display: str | None = None  # how to print it when not by unit: "percent", "multiple"
    # How values combine: "sum" (flows: segments and days add up), "ratio" (a formula,
    # recomputed from its parts), "level" (a stock such as MRR), "median", "share".
    aggregation: str | None = None
    # Where the metric shows by default, exactly as a built-in does (see placed_metrics):
    headline: bool | float = False  # a KPI tile
    trend: bool | float = False  # a monthly series in the report's trends
    maturity: int | None = None  # the maturity level (1 reach, 2 leads, 3 revenue) it evidences

    def __post_init__(self) -> None:
        if (self.formula is None) == (self.compute is None):
            raise ValueError(f"metric '{self.id}' needs exactly one of formula or compute")
        if self.unit not in UNITS:
            raise ValueError(f"metric '{self.id}' has unit '{self.unit}'; use one of {UNITS}")
        if self.formula is not None:
            parse_formula(self.formula, owner=self.id)
        for place in ("headline", "trend"):
            if not isinstance(getattr(self, place), bool | int | float | None):
                raise ValueError(f"metric '{self.id}': {place} is True, False or a number")
        if self.aggregation is None:
            object.__setattr__(self, "aggregation", "ratio" if self.formula else "sum")


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
# Formulas: parsed with ast, evaluated by walking the tree (no eval)
# --------------------------------------------------------------------------


class FormulaError(ValueError):
    def __init__(self, message: str, *, formula: str, position: int | None = None):
        where = f" at position {position + 1}" if position is not None else ""
        super().__init__(f"formula '{formula}'{where}: {message}")
        self.position = position


MAX_FORMULA_CHARS = 2000
MAX_FORMULA_NUMBER = 1e15  # a constant in a formula (a factor, a fee): beyond, a typo or an overflow

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr
    names: frozenset[str]

    def evaluate(self, values: dict[str, Value]) -> Value:
        return _evaluate(self.tree, values)


def parse_formula(text: str, *, owner: str | None = None) -> Formula:
    """Parse arithmetic over names and numbers: + - * / and parentheses (× ÷ − accepted)."""
    formula = _parse_formula(text)
    if owner and owner in formula.names:
        raise FormulaError(f"metric '{owner}' refers to itself", formula=text)
    return formula


@functools.lru_cache(maxsize=4096)
def _parse_formula(text: str) -> Formula:
    if len(text) > MAX_FORMULA_CHARS:  # its evaluation recurses once per operator
        raise FormulaError(f"longer than {MAX_FORMULA_CHARS} characters", formula=text[:40] + "…")
    normalised = text.replace("×", "*").replace("÷", "/").replace("−", "-")
    try:
        tree = ast.parse(normalised.strip(), mode="eval").body
    except SyntaxError as exc:
        raise FormulaError("syntax error", formula=text, position=(exc.offset or 1) - 1) from None
    except (RecursionError, MemoryError):  # ((((...)))) nested beyond the parser's stack
        raise FormulaError("nested too deeply", formula=text[:40] + "…") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            if not math.isfinite(float(node.value)) or abs(node.value) > MAX_FORMULA_NUMBER:  # 1e999 is inf
                raise FormulaError(
                    f"the number {normalised[node.col_offset:node.end_col_offset]} is out of range "
                    f"(at most {MAX_FORMULA_NUMBER:g})",
                    formula=text,
                    position=node.col_offset,
                )
            continue
        elif isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            continue
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            continue
        elif isinstance(node, ast.operator | ast.unaryop | ast.expr_context):
            continue
        else:
            kind = "a function call" if isinstance(node, ast.Call) else type(node).__name__
            raise FormulaError(
                f"{kind} is not allowed; use metric ids, numbers, + - * / and parentheses",
                formula=text,
                position=getattr(node, "col_offset", None),
            )
    return Formula(text, tree, frozenset(names))


def _divide(a: Value, b: Value) -> Value:
    if not isinstance(a, pd.Series) and not isinstance(b, pd.Series):
        return float("nan") if b == 0 or math.isnan(b) else float(a / b)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = a / b
    return result.replace([np.inf, -np.inf], np.nan)


def _evaluate(node: ast.expr, values: dict[str, Value]) -> Value:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    assert isinstance(node, ast.BinOp)
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    if isinstance(node.op, ast.Div):
        return _divide(left, right)
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    return left * right


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


def is_measurable(metric: Metric, data: PeriodData, metrics: dict[str, Metric]) -> bool:
    """True when every table/column the metric (or its formula's inputs) needs is present."""
    return not missing_inputs(metric, data, metrics)


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
        self._active: list[str] = []

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
        if metric_id in self._active:
            cycle = " -> ".join([*self._active[self._active.index(metric_id) :], metric_id])
            raise ConfigError(f"formulas refer to each other in a cycle: {cycle}", key="custom_metrics")
        self._active.append(metric_id)
        try:
            formula = parse_formula(metric.formula or "")
            values: dict[str, Value] = {"margin": self.data.margin, "period_months": self.data.period_months}
            for name in formula.names - set(self.FORMULA_CONSTANTS):
                value = self.value(name, dimension)
                if value is None:
                    return None
                values[name] = value
            result = formula.evaluate(values)
        finally:
            self._active.pop()
        if isinstance(result, pd.Series):
            return result.astype(float).replace([np.inf, -np.inf], np.nan)
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


def as_records(value: Value | None) -> list[tuple[Any, float]]:
    """(segment, value) pairs with not-measurable values dropped."""
    if value is None:
        return []
    if isinstance(value, pd.Series):
        return [(k, float(v)) for k, v in value.items() if pd.notna(v)]
    return [] if math.isnan(value) else [(None, float(value))]
