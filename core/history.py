"""The history store: every run's canonical tables kept in one embedded DuckDB file.

Monthly exports usually cover one month; a board report needs 13-month trends
and year-ago comparisons. Each run stores its normalised rows by source and
month (the month of the table's date column) and reads back every month stored
for the report's sources, so trends accumulate run after run::

    history:
      path: history.duckdb      # relative to report.yaml; the default

- Idempotent: re-running a month replaces that source's rows for that month (in
  one transaction): no duplicates, whatever the number of runs.
- A month the current files cover wins over the stored one; months they do not
  cover come from the store.
- Only the report's sources are read back (a renamed source starts afresh; its
  old rows stay listed by ``roistory history`` until dropped with ``--drop``).
- A missing file is created. A file that cannot be opened (corrupt, not a
  DuckDB file) never breaks or corrupts a report: it is moved aside
  (``history.duckdb.corrupt-<time>``), a new store is built from this run's
  sources, and a data-quality warning says which months are missing. A store
  in use by another run is waited for briefly, then a clear error.

Layout: one table per canonical table (``spend``, ``touchpoints``, …) with
its canonical columns plus ``_source``, ``_month``, ``_seq``; ``_loads`` lists
(source, table, month, rows, columns, sha256, loaded_at, roistory_version).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from roistory.errors import DataError
from roistory.quality import Finding
from roistory.source_settings import HistoryConfig
from roistory.sources import PERIOD_COLUMN, TABLE_COLUMNS, LoadedSource

if TYPE_CHECKING:
    from roistory.config import Config

SCHEMA_VERSION = "1"
_SQL_TYPES = {"str": "VARCHAR", "date": "TIMESTAMP", "timestamp": "TIMESTAMP", "number": "DOUBLE", "signed": "DOUBLE", "flag": "DOUBLE"}


def history_settings(config: Config) -> HistoryConfig | None:
    """The report's history settings; None when it keeps no history."""
    value = getattr(config, "history", None)
    if value is None:
        return None
    if isinstance(value, HistoryConfig):
        settings = value
    elif isinstance(value, dict):
        settings = HistoryConfig.model_validate(value)
    elif isinstance(value, (str, Path)):
        settings = HistoryConfig(path=str(value))
    else:
        settings = HistoryConfig.model_validate(value.model_dump())
    return settings if settings.enabled else None


def history_path(config: Config) -> Path | None:
    settings = history_settings(config)
    return config.resolve(settings.path) if settings else None


class HistoryUnreadable(DataError):
    """The store exists but cannot be opened as a DuckDB database."""


class HistoryBusy(DataError):
    """Another process holds the store."""


@contextmanager
def open_store(path: Path, *, read_only: bool = False, wait: float = 5.0) -> Iterator[Any]:
    """A connection to the store (created when missing unless read-only)."""
    import duckdb

    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            message = str(exc)
            if "lock" in message.lower() and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            if "lock" in message.lower():
                raise HistoryBusy("the history store is in use by another roistory process; try again when it ends", file=str(path)) from None
            raise HistoryUnreadable(f"cannot open the history store: {_first_line(message)}", file=str(path)) from None
        except duckdb.Error as exc:
            raise HistoryUnreadable(f"cannot open the history store: {_first_line(str(exc))}", file=str(path)) from None
    try:
        try:
            if not read_only:
                _ensure_schema(con)
            else:
                _check_schema(con, path)
        except duckdb.Error as exc:
            raise HistoryUnreadable(f"the history store is damaged: {_first_line(str(exc))}", file=str(path)) from None
        try:
            yield con
        except (duckdb.IOException, duckdb.InternalException, duckdb.SerializationException) as exc:
            # damage found while reading or writing; a mistake in a query is not damage (re-raised)
            raise HistoryUnreadable(f"the history store is damaged: {_first_line(str(exc))}", file=str(path)) from None
    finally:
        con.close()


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


def _ensure_schema(con: Any) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT OR IGNORE INTO _meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    con.execute(
        "CREATE TABLE IF NOT EXISTS _loads (source VARCHAR, table_name VARCHAR, month DATE, rows BIGINT, "
        "columns VARCHAR, sha256 VARCHAR, loaded_at TIMESTAMP, roistory_version VARCHAR, PRIMARY KEY (source, table_name, month))"
    )
    for table, spec in TABLE_COLUMNS.items():
        columns = ", ".join(f'"{name}" {_SQL_TYPES[kind]}' for name, (kind, _) in spec.items())
        con.execute(f'CREATE TABLE IF NOT EXISTS "{table}" ({columns}, _source VARCHAR, _month DATE, _seq BIGINT)')
        present = {row[0] for row in con.execute(f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'").fetchall()}
        for name, (kind, _) in spec.items():
            if name not in present:  # a column added to the canonical table since the store was made
                con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {_SQL_TYPES[kind]}')


def _check_schema(con: Any, path: Path) -> None:
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "_loads" not in tables:
        raise HistoryUnreadable("is not a roistory history store (no _loads table)", file=str(path))


# --------------------------------------------------------------------------
# Storing
# --------------------------------------------------------------------------


def _source_frames(tables: dict[str, pd.DataFrame], inputs: list[LoadedSource]) -> list[tuple[LoadedSource, pd.DataFrame]]:
    """Split the stacked tables back into their sources (load_sources keeps config order)."""
    offsets: dict[str, int] = {}
    out = []
    for source in inputs:
        frame = tables.get(source.table)
        if frame is None:
            continue
        start = offsets.get(source.table, 0)
        out.append((source, frame.iloc[start : start + source.rows]))
        offsets[source.table] = start + source.rows
    return out


def _months(frame: pd.DataFrame, table: str) -> pd.Series:
    return frame[PERIOD_COLUMN[table]].dt.to_period("M").dt.to_timestamp()


def store(con: Any, tables: dict[str, pd.DataFrame], inputs: list[LoadedSource]) -> dict[str, list[pd.Timestamp]]:
    """Replace each source's months in the store with this run's rows (one transaction)."""
    from roistory import __version__

    stored: dict[str, list[pd.Timestamp]] = {}
    now = datetime.now().replace(microsecond=0)
    con.execute("BEGIN TRANSACTION")
    try:
        for source, frame in _source_frames(tables, inputs):
            table = source.table
            spec = TABLE_COLUMNS[table]
            months = _months(frame, table)
            distinct = sorted(months.dropna().unique())
            stored[source.name] = list(distinct)
            if not distinct:
                continue
            con.execute(
                f'DELETE FROM "{table}" WHERE _source = ? AND _month IN (SELECT UNNEST(?::DATE[]))',
                [source.name, [m.date() for m in distinct]],
            )
            con.execute(
                "DELETE FROM _loads WHERE source = ? AND table_name = ? AND month IN (SELECT UNNEST(?::DATE[]))",
                [source.name, table, [m.date() for m in distinct]],
            )
            payload = {name: frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=_dtype(kind)) for name, (kind, _) in spec.items()}
            arrow = pa.table(
                {
                    **{name: _to_arrow(series, spec[name][0]) for name, series in payload.items()},
                    "_source": pa.array(np.full(len(frame), source.name, dtype=object), pa.string()),
                    "_month": pa.array(months.to_numpy("datetime64[ns]")).cast(pa.date32()),
                    "_seq": pa.array(np.arange(len(frame), dtype=np.int64)),
                }
            )
            con.register("_incoming", arrow)
            names = ", ".join(f'"{c}"' for c in arrow.column_names)
            con.execute(f'INSERT INTO "{table}" ({names}) SELECT {names} FROM _incoming')
            con.unregister("_incoming")
            counts = months.value_counts()
            columns = json.dumps([c for c in frame.columns if c in spec])
            for month in distinct:
                con.execute(
                    "INSERT INTO _loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [source.name, table, month.date(), int(counts[month]), columns, source.sha256, now, __version__],
                )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return stored


def _dtype(kind: str) -> str:
    return {"str": "str", "date": "datetime64[ns]", "timestamp": "datetime64[ns]"}.get(kind, "float64")


def _to_arrow(series: pd.Series, kind: str) -> pa.Array:
    if kind == "str":
        return pa.array(series.astype("str"), from_pandas=True, type=pa.large_string())
    if kind in ("date", "timestamp"):
        return pa.array(series.to_numpy("datetime64[ns]"), pa.timestamp("ns"))
    return pa.array(series.to_numpy(float), pa.float64(), from_pandas=True)


# --------------------------------------------------------------------------
# Reading back
# --------------------------------------------------------------------------


def read_history(con: Any, config: Config, *, exclude: dict[str, list[pd.Timestamp]] | None = None) -> dict[str, pd.DataFrame]:
    """The stored rows of the report's sources, per table (minus ``exclude``: source -> months)."""
    exclude = exclude or {}
    out: dict[str, pd.DataFrame] = {}
    by_table: dict[str, list[str]] = {}
    for source in config.sources:
        by_table.setdefault(source.table, []).append(source.name)
    for table, names in by_table.items():
        spec = TABLE_COLUMNS[table]
        loads = con.execute(
            "SELECT source, columns FROM _loads WHERE table_name = ? AND source IN (SELECT UNNEST(?::VARCHAR[]))",
            [table, names],
        ).fetchall()
        if not loads:
            continue
        present = {c for _, columns in loads for c in json.loads(columns)}
        columns = [c for c in spec if c in present or spec[c][1]]
        skip = [(name, m.date()) for name in names for m in exclude.get(name, [])]
        query = f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)}, _source FROM "{table}" WHERE _source IN (SELECT UNNEST(?::VARCHAR[]))'
        params: list[Any] = [names]
        if skip:
            query += " AND NOT EXISTS (SELECT 1 FROM (SELECT UNNEST(?::VARCHAR[]) AS s, UNNEST(?::DATE[]) AS m) x WHERE x.s = _source AND x.m = _month)"
            params += [[s for s, _ in skip], [m for _, m in skip]]
        order = " ".join(f"WHEN '{n.replace(chr(39), chr(39) * 2)}' THEN {i}" for i, n in enumerate(names))
        query += f" ORDER BY CASE _source {order} END, _month, _seq"
        arrow = con.sql(query, params=params).to_arrow_table()
        frame = arrow.drop(["_source"]).to_pandas()
        for name in columns:
            kind = spec[name][0]
            frame[name] = frame[name].astype(_dtype(kind)) if kind != "str" else frame[name].astype("str")
        out[table] = frame
    return out


@dataclass(frozen=True)
class StoredMonth:
    source: str
    table: str
    month: str
    rows: int
    loaded_at: datetime
    sha256: str | None
    in_config: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "table": self.table,
            "month": self.month,
            "rows": self.rows,
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
            "sha256": self.sha256,
        }


def list_stored(path: Path) -> list[StoredMonth]:
    """What the store holds, per source and month."""
    with open_store(path, read_only=True) as con:
        rows = con.execute("SELECT source, table_name, month, rows, loaded_at, sha256 FROM _loads ORDER BY source, month").fetchall()
    return [StoredMonth(s, t, f"{m:%Y-%m}", int(n), at, sha) for s, t, m, n, at, sha in rows]


def drop(path: Path, source: str, month: str | None = None) -> int:
    """Remove a source (or one of its months) from the store; returns the rows removed."""
    with open_store(path) as con:
        loads = con.execute("SELECT table_name, month, rows FROM _loads WHERE source = ?", [source]).fetchall()
        chosen = [(t, m, n) for t, m, n in loads if month is None or f"{m:%Y-%m}" == month]
        con.execute("BEGIN TRANSACTION")
        for table, when, _ in chosen:
            con.execute(f'DELETE FROM "{table}" WHERE _source = ? AND _month = ?', [source, when])
            con.execute("DELETE FROM _loads WHERE source = ? AND table_name = ? AND month = ?", [source, table, when])
        con.execute("COMMIT")
    return sum(n for _, _, n in chosen)


# --------------------------------------------------------------------------
# The pipeline's entry point
# --------------------------------------------------------------------------


def _set_aside(path: Path) -> Path:
    target = path.with_name(f"{path.name}.corrupt-{datetime.now():%Y%m%d-%H%M%S}")
    path.replace(target)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.replace(target.with_name(target.name + ".wal"))
    return target


def store_and_merge(
    config: Config,
    tables: dict[str, pd.DataFrame],
    inputs: list[LoadedSource],
    *,
    write: bool = True,
) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Store this run's rows (``write``) and return the tables with every stored month added.

    Without a ``history`` setting the tables come back unchanged. ``write=False``
    (``roistory validate``) reads the store, if any, and writes nothing.
    """
    path = history_path(config)
    if path is None:
        return tables, []
    findings: list[Finding] = []
    current_months = {
        source.name: sorted(_months(frame, source.table).dropna().unique()) for source, frame in _source_frames(tables, inputs)
    }
    if not write:
        if not path.exists():
            return tables, []
        try:
            with open_store(path, read_only=True) as con:
                stored = read_history(con, config, exclude=current_months)
        except HistoryUnreadable as exc:
            return tables, [Finding("warning", "history_unreadable", 0, f"{exc}; a run would set it aside and rebuild it")]
        return _union(tables, stored, findings), findings
    created = not path.exists()
    try:
        with open_store(path) as con:
            store(con, tables, inputs)
            merged = read_history(con, config)
    except HistoryUnreadable as exc:
        moved = _set_aside(path)
        with open_store(path) as con:
            store(con, tables, inputs)
            merged = read_history(con, config)
        findings.append(
            Finding(
                "warning",
                "history_rebuilt",
                0,
                f"{exc}; it was moved to {moved.name} and a new store was built from this run's sources "
                "(months only the old store held are missing from trends)",
            )
        )
        created = False
    if created:
        findings.append(Finding("info", "history_created", 0, f"history store created: {path.name}"))
    out = dict(tables)
    earlier = 0
    for table, frame in merged.items():
        earlier += max(0, len(frame) - len(tables.get(table, ())))
        out[table] = frame
    if earlier:
        findings.append(
            Finding("info", "history_rows", earlier, f"{earlier} rows of earlier months read from the history store ({path.name})")
        )
    return out, findings


def _union(tables: dict[str, pd.DataFrame], stored: dict[str, pd.DataFrame], findings: list[Finding]) -> dict[str, pd.DataFrame]:
    out = dict(tables)
    added = 0
    for table, frame in stored.items():
        if not len(frame):
            continue
        added += len(frame)
        out[table] = pd.concat([tables[table], frame], ignore_index=True) if table in tables else frame
    if added:
        findings.append(Finding("info", "history_rows", added, f"{added} rows of earlier months read from the history store"))
    return out
