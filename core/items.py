"""The item types plugins register: data sources, metrics, attribution models, incrementality readers.

A kernel module (standard library only): the plugin manager checks what a plugin
registers against these types without importing pandas, so ``roistory --help``
and ``roistory plugins`` stay fast. The modules that use the items
(:mod:`roistory.sources`, :mod:`roistory.metrics`, :mod:`roistory.attribution`)
re-export them under their historical names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from roistory.formulas import parse_formula

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from roistory.attribution import Journeys
    from roistory.config import Config, IncrementalityConfig, SourceConfig
    from roistory.metrics import PeriodData, Value

UNITS = ("currency", "ratio", "percent", "count", "days", "months")


@dataclass(frozen=True)
class SourceType:
    """A kind of source a report's ``sources[].type`` can name.

    ``read(source, config)`` returns the raw rows; the DataFrame's index is the
    row number quoted in error messages (for a CSV, the line number).

    ``chunks(source, config)``, when given, yields the same rows in several
    DataFrames (consecutive, each indexed by row number): the core then
    normalises one chunk at a time, so a file larger than memory is never held
    whole. ``read`` must still work (other tools call it).
    """

    name: str
    read: Callable[[SourceConfig, Config], pd.DataFrame]
    description: str = ""
    chunks: Callable[[SourceConfig, Config], Iterable[pd.DataFrame]] | None = None
    needs_path: bool = False  # True: a missing ``path`` is a config error naming sources[i].path


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

    @property
    def shown_as(self) -> str:
        """How a value prints: ``display`` when given, else by ``unit``."""
        return self.display or self.unit

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


@dataclass(frozen=True)
class AttributionModel:
    """An attribution model.

    ``attribute(journeys, params)`` returns per-touch weights (an array as long
    as ``journeys.codes``, summing to 1 within each converting journey) or a
    DataFrame indexed by segment label with ``conversions`` and ``revenue``.
    ``params`` holds ``defaults`` overridden by the report's ``attribution.params``.

    ``validate(params)``, when given, checks (and may normalise) the merged
    params before any data is touched; it raises :class:`ModelParamError`
    naming the bad parameter, which :func:`run_model` turns into a
    :class:`roistory.errors.ConfigError` keyed ``attribution.params.<model>.<param>``.
    A model that declares ``defaults`` only accepts those parameter names.
    ``default`` models run when a report's ``attribution.models`` is not set.

    For the SQL journey engines (:mod:`roistory.engines`): ``engine_rule`` names
    the heuristic the engine sums in place (``roistory.engines.rules.HEURISTIC_RULES``);
    ``from_paths(path_table, params)`` computes the credit from a
    :class:`~roistory.paths.PathTable` alone. A model with neither runs on the
    in-memory engine only.
    """

    id: str
    label: str
    description: str
    attribute: Callable[[Journeys, dict[str, Any]], np.ndarray | pd.DataFrame]
    defaults: dict[str, Any] = field(default_factory=dict)
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    default: bool = False
    engine_rule: str | None = None
    from_paths: Callable[[Any, dict[str, Any]], pd.DataFrame] | None = None


@dataclass(frozen=True)
class IncrementalityReader:
    """A format of lift-test or MMM results a report's ``incrementality[].type`` can name.

    ``read(item, config)`` returns a :class:`pandas.DataFrame` with the columns of
    :data:`INCREMENTALITY_COLUMNS` it knows (``channel``, ``method``, ``period_start``,
    ``period_end`` and one of ``incremental_revenue``/``incremental_conversions`` at
    least), indexed by the file's row number (shown in error messages); text or
    numbers, the core parses and checks them. ``item.options`` holds the entry's own settings.
    """

    name: str
    read: Callable[[IncrementalityConfig, Config], pd.DataFrame]
    description: str = ""
