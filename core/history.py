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
- Safe by construction: ``history.path`` must be inside the report project (unless
  ``history.allow_outside: true``), must not be the config or a data file, and, when the
  file exists, must be a roistory store (a DuckDB file with roistory's ``_meta`` table).
  Anything else — a folder, a FIFO, a CSV, another program's DuckDB file — is exit 2
  naming ``history.path``, and the file is left untouched.
- A failed run leaves the store as it was: this run's rows are written in one
  transaction that is committed only after every output is written
  (:class:`PendingHistory`); a new store is built beside the target and renamed into place.
- A missing file is created. A DuckDB file whose bytes are damaged (corrupt, truncated)
  never breaks a report: it is moved aside (``history.duckdb.corrupt-<time>``), a new
  store is built from this run's sources, and a data-quality warning says which months
  are missing. Any other failure to open it (a newer file format, no permission) is an
  error, not damage. A store in use by another run is waited for briefly, then a clear error.

Layout: one table per canonical table (``spend``, ``touchpoints``, …) with
its canonical columns plus ``_source``, ``_month``, ``_seq``; ``_loads`` lists
(source, table, month, rows, columns, sha256, loaded_at, roistory_version).
"""

from __future__ import annotations

import json
import os
import re
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from roistory import __version__
from roistory.errors import BadInputError, ConfigError, DataError
from roistory.i18n import N_, Nn_
from roistory.quality import Finding
from roistory.safety import inside, require_regular_file
from roistory.source_settings import HistoryConfig
from roistory.sources import PERIOD_COLUMN, TABLE_COLUMNS, LoadedSource

if TYPE_CHECKING:
    from roistory.config import Config

SCHEMA_VERSION = "1"
_SQL_TYPES = {
    "str": "VARCHAR",
    "date": "TIMESTAMP",
    "timestamp": "TIMESTAMP",
    "number": "DOUBLE",
    "signed": "DOUBLE",
    "flag": "DOUBLE",
}


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


class HistoryUnreadable(DataError):
    """The store is a DuckDB file that cannot be read: damaged (corrupt or truncated)."""


class HistoryBusy(DataError):
    """Another process holds the store."""


DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
# DuckDB's words for a file whose bytes are damaged; any other failure (a newer file format,
# no permission, a full disk) is an error to report, never a reason to set the file aside
_DAMAGE = ("corrupt", "could not read enough bytes", "checksum")


def _reject(path: Path, message: str, key: str | None) -> BadInputError:
    if key:
        return ConfigError(f"{path}: {message}", key=key)
    return DataError(message, file=str(path))


def identify(path: Path, *, key: str | None = "history.path") -> bool:
    """True when ``path`` holds a DuckDB file, False when nothing is there yet.

    Anything else there (a folder, a FIFO, an empty file, a CSV, the config) is a
    ConfigError naming ``key``: roistory never opens, overwrites or moves it.
    Whether the DuckDB file is a roistory store is checked once it is open.
    """
    if not os.path.lexists(path):
        return False
    if not path.exists():
        raise _reject(path, "is a broken symlink; history.path must name a new file or a roistory history store", key)
    try:
        require_regular_file(path)
        with path.open("rb") as handle:
            head = handle.read(12)
    except DataError as exc:
        raise _reject(
            path, str(exc).split(": ", 1)[-1] + "; history.path must name a roistory history store", key
        ) from None
    except OSError as exc:
        raise _reject(path, f"cannot read: {exc.strerror}", key) from None
    if head[8:12] != DUCKDB_MAGIC:
        what = "an empty file" if not head else "not a DuckDB file"
        raise _reject(
            path,
            f"is {what}, not a roistory history store; history.path must name a new file or an existing store",
            key,
        )
    return True


def _connect(path: Path, *, read_only: bool, wait: float, key: str | None) -> Any:
    """A DuckDB connection: waits for a store in use; tells damage from other failures."""
    import duckdb

    deadline = time.monotonic() + wait
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            message = _first_line(str(exc))
            if re.search(r"\block\b", message, re.IGNORECASE):  # not "block" of a corrupt file
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise HistoryBusy(
                    "the history store is in use by another roistory process; try again when it ends", file=str(path)
                ) from None
            if _is_damage(exc):
                raise HistoryUnreadable(f"the history store is damaged: {message}", file=str(path)) from None
            raise _reject(path, f"cannot open the history store: {message}", key) from None


@contextmanager
def open_store(
    path: Path, *, read_only: bool = False, wait: float = 5.0, key: str | None = "history.path"
) -> Iterator[Any]:
    """A connection to an existing roistory store (see :func:`identify`; nothing is created)."""
    import duckdb

    if not identify(path, key=key):
        raise _reject(path, "file not found", key)
    con = _connect(path, read_only=read_only, wait=wait, key=key)
    try:
        try:
            _check_schema(con, path, key)
            if not read_only:
                _ensure_schema(con)
        except duckdb.Error as exc:
            raise HistoryUnreadable(f"the history store is damaged: {_first_line(str(exc))}", file=str(path)) from None
        try:
            yield con
        except duckdb.Error as exc:
            if not _is_damage(exc):  # a mistake in a query is not damage
                raise
            raise HistoryUnreadable(f"the history store is damaged: {_first_line(str(exc))}", file=str(path)) from None
    finally:
        con.close()


def _is_damage(exc: Exception) -> bool:
    import duckdb

    message = str(exc).lower()
    return isinstance(exc, (duckdb.InternalException, duckdb.SerializationException)) or any(
        w in message for w in _DAMAGE
    )


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


def _ensure_schema(con: Any) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT OR IGNORE INTO _meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    con.execute(
        "CREATE TABLE IF NOT EXISTS _loads (source VARCHAR, table_name VARCHAR, month DATE, rows BIGINT, "
        "columns VARCHAR, sha256 VARCHAR, loaded_at TIMESTAMP, roistory_version VARCHAR, PRIMARY KEY (source, "
        "table_name, month))"
    )
    for table, spec in TABLE_COLUMNS.items():
        columns = ", ".join(f'"{name}" {_SQL_TYPES[kind]}' for name, (kind, _) in spec.items())
        con.execute(f'CREATE TABLE IF NOT EXISTS "{table}" ({columns}, _source VARCHAR, _month DATE, _seq BIGINT)')
        present = {
            row[0]
            for row in con.execute(
                f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
            ).fetchall()
        }
        for name, (kind, _) in spec.items():
            if name not in present:  # a column added to the canonical table since the store was made
                con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {_SQL_TYPES[kind]}')


def _check_schema(con: Any, path: Path, key: str | None = "history.path") -> None:
    """The marker of a roistory store: a ``_meta`` table with its schema version, and ``_loads``."""
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    version = None
    if {"_meta", "_loads"} <= tables:
        row = con.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchone()
        version = row[0] if row else None
    if version is None:
        raise _reject(path, "is a DuckDB database but not a roistory history store; roistory leaves it alone", key)


# --------------------------------------------------------------------------
# Storing
# --------------------------------------------------------------------------


def _source_frames(
    tables: dict[str, pd.DataFrame], inputs: list[LoadedSource]
) -> list[tuple[LoadedSource, pd.DataFrame]]:
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


def write_rows(con: Any, tables: dict[str, pd.DataFrame], inputs: list[LoadedSource]) -> dict[str, list[pd.Timestamp]]:
    """Replace each source's months with this run's rows, in the caller's transaction."""

    stored: dict[str, list[pd.Timestamp]] = {}
    now = datetime.now().replace(microsecond=0)
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
        payload = {
            name: frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=_dtype(kind))
            for name, (kind, _) in spec.items()
        }
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


def read_history(
    con: Any, config: Config, *, exclude: dict[str, list[pd.Timestamp]] | None = None
) -> dict[str, pd.DataFrame]:
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
        quoted = ", ".join(f'"{c}"' for c in columns)
        query = f'SELECT {quoted}, _source FROM "{table}" WHERE _source IN (SELECT UNNEST(?::VARCHAR[]))'
        params: list[Any] = [names]
        if skip:
            query += (
                " AND NOT EXISTS (SELECT 1 FROM (SELECT UNNEST(?::VARCHAR[]) AS s, UNNEST(?::DATE[]) AS m) x"
                " WHERE x.s = _source AND x.m = _month)"
            )
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


def list_stored(path: Path, *, key: str | None = None) -> list[StoredMonth]:
    """What the store holds, per source and month."""
    with open_store(path, read_only=True, key=key) as con:
        rows = con.execute(
            "SELECT source, table_name, month, rows, loaded_at, sha256 FROM _loads ORDER BY source, month"
        ).fetchall()
    return [StoredMonth(s, t, f"{m:%Y-%m}", int(n), at, sha) for s, t, m, n, at, sha in rows]


def drop(path: Path, source: str, month: str | None = None, *, key: str | None = None) -> int:
    """Remove a source (or one of its months) from the store; returns the rows removed."""
    with open_store(path, key=key) as con:
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


def store_location(config: Config) -> Path | None:
    """The store's path once it is known to be safe to use; None when the report keeps no history.

    Inside the report project unless ``history.allow_outside: true``; never the config or a
    data file; an existing file must be a DuckDB file (:func:`identify`). Else ConfigError.
    """
    settings = history_settings(config)
    if settings is None:
        return None
    path = config.resolve(settings.path)
    file = str(config.path) if config.path else None
    if not settings.allow_outside and not inside(path, config.base_dir):
        raise ConfigError(
            f"'{settings.path}' is outside the report project; set history.allow_outside: true to keep the store there",
            file=file,
            key="history.path",
        )
    taken = [config.path] if config.path else []
    taken += [config.resolve(s.path) for s in config.sources if s.path]
    if any(os.path.realpath(path) == os.path.realpath(other) for other in taken):
        raise ConfigError(
            f"'{settings.path}' is the report's config or a data file, not a history store",
            file=file,
            key="history.path",
        )
    identify(path)
    return path


def _set_aside(path: Path) -> Path:
    target = path.with_name(f"{path.name}.corrupt-{datetime.now():%Y%m%d-%H%M%S}")
    path.replace(target)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.replace(target.with_name(target.name + ".wal"))
    return target


def _new_store_file(path: Path) -> Path:
    """A fresh file beside ``path`` to build a new store in, renamed over ``path`` on commit.

    Named after this process, so a file left by a killed run is recognised and removed.
    """
    for stale in path.parent.glob(f".{path.name}.new-*"):
        pid = stale.name.rsplit("-", 1)[-1].removesuffix(".wal")
        if pid.isdigit() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)
    temporary = path.with_name(f".{path.name}.new-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.with_name(temporary.name + ".wal").unlink(missing_ok=True)
    return temporary


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PendingHistory:
    """This run's rows, written to the store in a transaction that is committed only when
    :meth:`commit` is called (after every output is written). Until then the store on disk
    is as it was: a run that fails, or is killed, changes nothing.

    A new store (or the replacement of a damaged one) is built in a file beside it and
    renamed into place on commit.
    """

    def __init__(self, con: Any, path: Path, *, building: Path | None = None, damaged: bool = False):
        self._con, self.path, self._building, self._damaged = con, path, building, damaged
        # a report dropped without commit() (an exception, a test) rolls back and tidies up
        self._finalizer = weakref.finalize(self, _discard, con, building)

    def commit(self) -> None:
        """Make this run's rows part of the store (one transaction, or one rename)."""
        if not self._finalizer.alive:
            return
        self._finalizer.detach()
        try:
            self._con.execute("COMMIT")
            self._con.close()
        except Exception:
            _discard(self._con, self._building)
            raise
        if self._building is not None:
            if self._damaged and self.path.exists():
                _set_aside(self.path)
            os.replace(self._building, self.path)

    def discard(self) -> None:
        """Leave the store as it was."""
        self._finalizer()


def _discard(con: Any, building: Path | None) -> None:
    try:
        con.execute("ROLLBACK")
    except Exception:  # nothing to roll back, or the connection is already gone
        pass
    try:
        con.close()
    except Exception:
        pass
    if building is not None:
        building.unlink(missing_ok=True)
        building.with_name(building.name + ".wal").unlink(missing_ok=True)


def _begin(path: Path, *, building: Path | None) -> Any:
    """A connection with an open transaction, on the store or on a new file being built."""
    import duckdb

    if building is None:
        con = _connect(path, read_only=False, wait=5.0, key="history.path")
        try:
            _check_schema(con, path)
            _ensure_schema(con)
        except duckdb.Error as exc:
            con.close()
            raise HistoryUnreadable(f"the history store is damaged: {_first_line(str(exc))}", file=str(path)) from None
        except BaseException:
            con.close()
            raise
    else:
        con = duckdb.connect(str(building))
        _ensure_schema(con)
    con.execute("BEGIN TRANSACTION")
    return con


def merge_history(
    config: Config,
    tables: dict[str, pd.DataFrame],
    inputs: list[LoadedSource],
    *,
    write: bool = True,
) -> tuple[dict[str, pd.DataFrame], list[Finding], PendingHistory | None]:
    """The tables with every stored month added, the findings, and (``write``) the pending store write.

    Without a ``history`` setting the tables come back unchanged. ``write=False``
    (``roistory validate``) reads the store, if any, and writes nothing. With ``write``,
    nothing reaches the disk until :meth:`PendingHistory.commit`.
    """
    path = store_location(config)
    if path is None:
        return tables, [], None
    findings: list[Finding] = []
    current_months = {
        source.name: sorted(_months(frame, source.table).dropna().unique())
        for source, frame in _source_frames(tables, inputs)
    }
    if not write:
        if not path.exists():
            return tables, [], None
        try:
            with open_store(path, read_only=True) as con:
                stored = read_history(con, config, exclude=current_months)
        except HistoryUnreadable as exc:
            unreadable = Finding.of(
                "warning",
                "history_unreadable",
                0,
                N_("{problem}; a run would set it aside and rebuild it"),
                problem=str(exc),
            )
            return tables, [unreadable], None
        return _union(tables, stored, findings), findings, None
    import duckdb

    created = not path.exists()
    damage: HistoryUnreadable | None = None
    con = None
    if not created:
        try:
            con = _begin(path, building=None)
            write_rows(con, tables, inputs)
            merged = read_history(con, config)
        except BaseException as exc:
            if con is not None:
                _discard(con, None)
            if isinstance(exc, HistoryUnreadable):
                damage = exc
            elif isinstance(exc, duckdb.Error) and _is_damage(exc):
                damage = HistoryUnreadable(f"the history store is damaged: {_first_line(str(exc))}", file=str(path))
            else:
                raise
    building = _new_store_file(path) if created or damage else None
    if building is not None:
        con = _begin(path, building=building)
        try:
            write_rows(con, tables, inputs)
            merged = read_history(con, config)
        except BaseException:
            _discard(con, building)
            raise
    pending = PendingHistory(con, path, building=building, damaged=damage is not None)
    if damage is not None:
        aside = f"{path.name}.corrupt-{datetime.now():%Y%m%d-%H%M%S}"
        findings.append(
            Finding.of(
                "warning",
                "history_rebuilt",
                0,
                N_(
                    "{problem}; once this run's outputs are written it is moved to {file} and a new store is built "
                    "from this run's sources (months only the old store held are missing from trends)"
                ),
                problem=str(damage),
                file=aside,
            )
        )
    if created:
        findings.append(Finding.of("info", "history_created", 0, N_("history store created: {file}"), file=path.name))
    out = dict(tables)
    earlier = 0
    for table, frame in merged.items():
        earlier += max(0, len(frame) - len(tables.get(table, ())))
        out[table] = frame
    if earlier:
        findings.append(
            Finding.of(
                "info",
                "history_rows",
                earlier,
                Nn_(
                    "{count} row of earlier months read from the history store ({file})",
                    "{count} rows of earlier months read from the history store ({file})",
                ),
                file=path.name,
            )
        )
    return out, findings, pending


def store_and_merge(
    config: Config,
    tables: dict[str, pd.DataFrame],
    inputs: list[LoadedSource],
    *,
    write: bool = True,
) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """:func:`merge_history`, committing the store write at once (no outputs to wait for)."""
    merged, findings, pending = merge_history(config, tables, inputs, write=write)
    if pending is not None:
        pending.commit()
    return merged, findings


def _union(
    tables: dict[str, pd.DataFrame], stored: dict[str, pd.DataFrame], findings: list[Finding]
) -> dict[str, pd.DataFrame]:
    out = dict(tables)
    added = 0
    for table, frame in stored.items():
        if not len(frame):
            continue
        added += len(frame)
        out[table] = pd.concat([tables[table], frame], ignore_index=True) if table in tables else frame
    if added:
        findings.append(
            Finding.of(
                "info",
                "history_rows",
                added,
                Nn_(
                    "{count} row of earlier months read from the history store",
                    "{count} rows of earlier months read from the history store",
                ),
            )
        )
    return out
