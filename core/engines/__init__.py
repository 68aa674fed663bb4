"""Journey engines: where touchpoints become journeys, a path table and heuristic credit sums.

- ``memory``: :func:`roistory.attribution.build_journeys` on numpy arrays (small inputs).
- ``duckdb``: the SQL rules of :mod:`roistory.engines.rules` in embedded DuckDB, on
  DataFrames or on Parquet/CSV files read directly (only the needed columns, and
  an optional date range, are read). Larger than memory, no server.
- ``spark``: the same SQL, transpiled by sqlglot, on a Spark cluster (``roistory[spark]``).
- ``postgres`` pushdown: the same SQL runs in the user's PostgreSQL around the
  ``sql`` source's query; only the path table and the sums come back.

Every engine gives the same numbers; ``tests/test_engines_parity.py`` checks it.
Two entry points, one per caller:

- :func:`journeys_for` — per-touch :class:`~roistory.attribution.Journeys` (what
  ``roistory run`` needs to credit any period), built by the chosen engine;
- :func:`credits_for` — the credit per model (``roistory attribute``): on a SQL
  engine the heuristics are summed in the engine and the data-driven models
  (Markov, Shapley) run locally on the path table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from roistory.attribution import (
    Journeys,
    JourneyStats,
    build_journeys,
    resolve_params,
    run_model,
    with_orphans,
)
from roistory.config import EngineConfig
from roistory.engines.inputs import FileInput, FrameInput, SqlInput
from roistory.engines.rules import NOT_SET, Rules, journey_rows_sql, summary_sql
from roistory.engines.spark import SparkEngine
from roistory.engines.sql_engines import DuckDBEngine, PostgresEngine
from roistory.errors import ConfigError
from roistory.paths import PathTable

BACKENDS = ("auto", "memory", "duckdb", "spark")
# engine auto: the in-memory engine below these sizes, DuckDB from them on
DUCKDB_FROM_ROWS = 20_000_000  # touchpoints already in memory (roistory run)
DUCKDB_FROM_BYTES = 512 * 2**20  # a touchpoints file read by roistory attribute

__all__ = [
    "BACKENDS",
    "EngineSummary",
    "FileInput",
    "FrameInput",
    "SqlInput",
    "credits_for",
    "journeys_for",
    "resolve_backend",
    "summary_for",
]


@dataclass
class EngineSummary:
    """What a SQL engine sends back: the path table, heuristic sums per model id, statistics.

    ``stats.unattributed`` has one row per conversion without touches but no timestamps
    (NaT) and their whole revenue on its first row: the summary returns only their
    number and revenue; :func:`journeys_for` gives each one.
    """

    paths: PathTable
    credits: dict[str, pd.DataFrame]
    stats: JourneyStats = field(default_factory=JourneyStats)


def resolve_backend(backend: str, *, rows: int | None = None, file_bytes: int | None = None) -> str:
    """``auto`` → memory for small inputs, DuckDB for large ones (see the module constants)."""
    if backend != "auto":
        return backend
    if rows is not None and rows >= DUCKDB_FROM_ROWS:
        return "duckdb"
    if file_bytes is not None and file_bytes >= DUCKDB_FROM_BYTES:
        return "duckdb"
    return "memory"


def _engine(settings: Any, source: Any):
    """The SQL engine object for ``settings`` (an EngineConfig) and the input kind."""
    if isinstance(source, SqlInput):
        return PostgresEngine(source.url)
    backend = settings.backend
    if backend == "duckdb":
        return DuckDBEngine(settings)
    if backend == "spark":
        return SparkEngine.get(settings)
    raise ConfigError(f"no SQL engine '{backend}'", key="engine.backend")


def _labels(engine: Any, column: str) -> list[str]:
    values = engine.distinct(column)
    return sorted({NOT_SET if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values})


def _rules(engine: Any, dimension: str, lookback_days: int, dormancy_days: int):
    labels = _labels(engine, "segment")
    channel_labels = _labels(engine, "channel") if dimension != "channel" else None
    return Rules(lookback_days, dormancy_days, labels, channel_labels)


def summary_for(
    source: FrameInput | FileInput | SqlInput,
    settings: Any,
    *,
    dimension: str = "channel",
    lookback_days: int = 90,
    dormancy_days: int = 180,
    heuristics: dict[str, tuple[str, dict[str, Any]]] | None = None,
) -> EngineSummary:
    """Path table, heuristic sums (model id → (rule, params)) and statistics, computed in the engine."""
    engine = _engine(settings, source)
    with engine.inputs(source, dimension):
        rules = _rules(engine, dimension, lookback_days, dormancy_days)
        sql = summary_sql(rules, heuristics or {}, engine.dialect)
        results = [engine.fetch(sql) for _ in engine.buckets()]
    return _summary(_added_up(results), rules.labels, heuristics or {})


def _added_up(results: list[pd.DataFrame]) -> pd.DataFrame:
    """The summaries of disjoint groups of people as one: every figure in them is a sum per (part, item)."""
    if len(results) == 1:
        return results[0]
    rows = pd.concat(results, ignore_index=True)
    return rows.groupby(["part", "item"], dropna=False, sort=False, as_index=False)[["a", "b", "c", "d", "e"]].sum()


def _summary(result: pd.DataFrame, labels: list[str], heuristics: dict) -> EngineSummary:
    part = result["part"].astype(str)
    groups = result[part == "path"]
    with_touches = groups["item"].notna() & (groups["item"].astype(str) != "")  # no path: orphan conversions
    table = _path_table(groups[with_touches], labels)
    credits = {}
    for model_id in heuristics:
        rows = result[part == f"credit:{model_id}"]
        frame = pd.DataFrame(
            {"conversions": np.zeros(len(labels)), "revenue": np.zeros(len(labels))},
            index=pd.Index(labels, name="segment"),
        )
        at = rows["item"].astype(int).to_numpy()
        frame.iloc[at, 0] = rows["a"].to_numpy(float)
        frame.iloc[at, 1] = rows["b"].to_numpy(float)
        credits[model_id] = frame
    orphans = groups[~with_touches]
    count = int(orphans["a"].sum())
    revenue = np.zeros(count)
    if count:  # only their number and revenue come back: one row per orphan, the revenue on the first
        revenue[0] = float(orphans["b"].sum())
    stats = JourneyStats(
        conversions=int(groups["a"].sum()),
        unattributed=pd.DataFrame(
            {"timestamp": pd.Series(pd.NaT, index=range(count), dtype="datetime64[ns]"), "revenue": revenue}
        ),
        touches_beyond_lookback=int(groups["d"].sum()),
        reengaged_journeys=int(groups["e"].sum()),
    )
    return EngineSummary(table, credits, stats)


def _path_table(paths: pd.DataFrame, labels: list[str]) -> PathTable:
    """Rows of (path of space-separated codes, conversions, revenue, nulls), sorted for a stable order."""
    # pyarrow: pandas' optional string engine, needed only by the SQL engines
    import pyarrow as pa
    import pyarrow.compute as pc

    paths = paths.sort_values("item", kind="stable")
    split = pc.split_pattern(pa.array(paths["item"].astype(str).to_numpy(), pa.string()), " ")
    lengths = pc.list_value_length(split).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = pc.cast(pc.list_flatten(split), pa.int32()).to_numpy(zero_copy_only=False)
    return PathTable(
        labels=tuple(labels),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        codes=codes.astype(np.int32),
        conversions=paths["a"].to_numpy(float),
        revenue=paths["b"].to_numpy(float),
        nulls=paths["c"].to_numpy(float),
    )


def journeys_for(
    touchpoints: pd.DataFrame,
    events: pd.DataFrame,
    settings: Any = None,
    *,
    dimension: str = "channel",
    lookback_days: int = 90,
    dormancy_days: int = 180,
) -> tuple[Journeys, JourneyStats]:
    """Journeys built by the configured engine (``settings``: an EngineConfig; None = auto).

    The SQL engines return the kept touches in the in-memory engine's order, so
    every model gives bit-identical credit whichever engine built them.
    """
    backend = resolve_backend(settings.backend if settings is not None else "auto", rows=len(touchpoints))
    if backend == "memory":
        return build_journeys(
            touchpoints, events, dimension=dimension, lookback_days=lookback_days, dormancy_days=dormancy_days
        )
    settings = settings if settings is not None and settings.backend != "auto" else EngineConfig(backend=backend)
    source = FrameInput(touchpoints, events)
    engine = _engine(settings, source)
    with engine.inputs(source, dimension):
        rules = _rules(engine, dimension, lookback_days, dormancy_days)
        rows = engine.fetch(journey_rows_sql(rules, engine.dialect))
        stats = _summary(engine.fetch(summary_sql(rules, {}, engine.dialect)), rules.labels, {}).stats
    orphans = rows[rows["orphan"].to_numpy(int) == 1]  # in journey order, like the in-memory engine's
    stats.unattributed = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(orphans["end_us"].to_numpy(np.int64) * 1000),
            "revenue": orphans["revenue"].to_numpy(float),
        }
    )
    return _journeys(rows, rules), stats


def _journeys(rows: pd.DataFrame, rules: Any) -> Journeys:
    orphan = rows["orphan"].to_numpy(int) == 1
    touches = rows[~orphan]
    pos = touches["pos"].to_numpy(np.int64)
    starts = np.flatnonzero(pos == 1)
    n = len(touches)
    t_us = touches["t_us"].to_numpy(np.int64)
    end_us = touches["end_us"].to_numpy(np.int64)
    channel_codes = touches["channel_code"].to_numpy(np.int32) if rules.channel_labels is not None else None
    return Journeys(
        labels=tuple(rules.labels),
        offsets=np.concatenate([starts, [n]]).astype(np.int64),
        codes=touches["code"].to_numpy(np.int32),
        hours_before=((end_us - t_us) * 1000) / 3.6e12,
        converted=touches["converts"].to_numpy(float)[starts],
        revenue=touches["revenue"].to_numpy(float)[starts],
        end=(end_us[starts] * 1000).astype("datetime64[ns]"),
        channel_codes=channel_codes,
        channel_labels=tuple(rules.channel_labels) if rules.channel_labels is not None else None,
    )


def credits_for(
    source: FrameInput | FileInput | SqlInput,
    settings: Any,
    models: list,
    params: dict[str, dict[str, Any]],
    *,
    dimension: str = "channel",
    lookback_days: int = 90,
    dormancy_days: int = 180,
) -> tuple[dict[str, pd.DataFrame], JourneyStats]:
    """Credit per model id (orphan conversions as their own segment) and the journey statistics.

    ``roistory attribute``'s single call: memory builds journeys and runs every
    model on them; a SQL engine sums the heuristics in place and hands the path
    table to the models that can learn from it (``AttributionModel.from_paths``).
    """
    backend = settings.backend if settings is not None else "auto"
    if backend == "memory" and not isinstance(source, SqlInput):
        frames = source if isinstance(source, FrameInput) else None
        if frames is None:
            raise ConfigError("the memory engine reads its input through roistory's readers", key="engine.backend")
        journeys, stats = build_journeys(
            frames.touchpoints,
            frames.events,
            dimension=dimension,
            lookback_days=lookback_days,
            dormancy_days=dormancy_days,
        )
        results = {m.id: run_model(m, journeys, params.get(m.id)) for m in models}
        return _with_orphans(results, stats), stats
    resolved = {m.id: resolve_params(m, params.get(m.id)) for m in models}
    for model in models:
        if model.engine_rule is None and model.from_paths is None:
            raise ConfigError(
                f"model '{model.id}' needs every touch in memory; use --engine memory (or engine: {{backend: memory}})",
                key="engine.backend",
            )
    heuristics = {m.id: (m.engine_rule, resolved[m.id]) for m in models if m.engine_rule is not None}
    summary = summary_for(
        source,
        settings,
        dimension=dimension,
        lookback_days=lookback_days,
        dormancy_days=dormancy_days,
        heuristics=heuristics,
    )
    results = {}
    for model in models:
        if model.engine_rule is not None:
            results[model.id] = summary.credits[model.id]
        else:
            results[model.id] = model.from_paths(summary.paths, resolved[model.id])
    return _with_orphans(results, summary.stats), summary.stats


def _with_orphans(results: dict[str, pd.DataFrame], stats: JourneyStats) -> dict[str, pd.DataFrame]:
    return {model_id: with_orphans(credits, stats.unattributed) for model_id, credits in results.items()}


SPARK_MASTERS = ("spark://", "local", "yarn", "k8s://", "mesos://")


def engine_from_option(value: str | None, base: Any = None) -> Any:
    """``--engine``: a backend name, or a Spark master URL (``spark://host:7077``, ``local[2]``) meaning spark.

    Overrides the backend of ``base`` (the report's ``engine:``), keeping its master and conf.
    """
    base = base if base is not None else EngineConfig()
    if value is None:
        return base
    value = value.strip()
    if value in BACKENDS:
        return base.model_copy(update={"backend": value})
    if value.startswith(SPARK_MASTERS):
        return base.model_copy(update={"backend": "spark", "master": value})
    raise ConfigError(f"unknown engine '{value}'; use {', '.join(BACKENDS)} or a Spark master URL", key="--engine")
