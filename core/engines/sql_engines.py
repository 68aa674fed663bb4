"""DuckDB (embedded) and PostgreSQL (pushdown) journey engines.

An engine only provides the two input relations of :mod:`roistory.engines.rules`
(``roistory_touches``, ``roistory_conversions``) in its dialect and runs a query;
the journey rules themselves are the shared SQL.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from roistory.engines.inputs import FileInput, FrameInput, date_range_where
from roistory.errors import ConfigError, DataError

REQUIRED = ("person_id", "timestamp", "channel")
# DuckDB's working memory per touch while the rules run (measured: ~0.42 KiB at 2M touches, sorts and windows
# included), and the share of memory_limit one bucket of people may take (the rest: scans, results, slack)
BYTES_PER_TOUCH = 512
BUCKET_SHARE_OF_MEMORY = 0.5
_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "KB": 10**3, "MB": 10**6, "GB": 10**9}


def frame_relations(touchpoints: pd.DataFrame, events: pd.DataFrame, dimension: str):
    """The two input relations as Arrow tables, from in-memory frames (timestamps as epoch µs)."""
    import pyarrow as pa

    def micros(values: pd.Series) -> np.ndarray:
        return values.to_numpy("datetime64[ns]").view(np.int64) // 1000

    def strings(frame: pd.DataFrame, column: str) -> pa.Array:
        if column not in frame:
            return pa.nulls(len(frame), pa.string())
        return pa.array(frame[column].astype(object).where(frame[column].notna(), None).to_numpy(), pa.string())

    touches = pa.table(
        {
            "person_id": strings(touchpoints, "person_id"),
            "t_us": micros(touchpoints["timestamp"]),
            "segment": strings(touchpoints, dimension),
            "channel": strings(touchpoints, "channel"),
            "seq": np.arange(len(touchpoints), dtype=np.int64),
        }
    )
    conversions = pa.table(
        {
            "person_id": strings(events, "person_id"),
            "t_us": micros(pd.Series(events["timestamp"].to_numpy())) if len(events) else np.zeros(0, np.int64),
            "revenue": events["revenue"].to_numpy(float) if len(events) else np.zeros(0),
            "seq": np.arange(len(events), dtype=np.int64),
            "same_row": events["same_row"].to_numpy(bool).astype(np.int32) if len(events) else np.zeros(0, np.int32),
        }
    )
    return touches, conversions


class DuckDBEngine:
    """Embedded DuckDB; spills to disk beyond ``memory_limit`` (conf: memory_limit, threads, temp_directory)."""

    dialect = "duckdb"

    def __init__(self, settings: Any):
        import duckdb

        self.connection = duckdb.connect()
        self.connection.execute("SET enable_progress_bar = false")  # it would print into roistory attribute's stdout
        # results are aggregated or explicitly ordered, so rows need not keep scan order (less memory, more
        # parallel); spill files go to the system temp folder, not ./.tmp under the working directory
        self._spill = tempfile.TemporaryDirectory(prefix="roistory-duckdb-")
        self.connection.execute("SET preserve_insertion_order = false")
        self.connection.execute(f"SET temp_directory = '{self._spill.name}'")
        for key, value in (getattr(settings, "conf", None) or {}).items():
            try:
                literal = str(value).replace("'", "''")
                self.connection.execute(f"SET {key} = '{literal}'")
            except duckdb.Error as exc:
                raise ConfigError(
                    f"duckdb rejects this setting: {str(exc).splitlines()[0]}", key=f"engine.conf.{key}"
                ) from None

    @contextmanager
    def inputs(self, source: Any, dimension: str) -> Iterator[None]:

        if isinstance(source, FrameInput):
            touches, conversions = frame_relations(source.touchpoints, source.events, dimension)
            self.connection.register("roistory_touches_all", touches)
            self.connection.register("roistory_conversions_all", conversions)
        elif isinstance(source, FileInput):
            self._files(source, dimension)
        else:
            raise ConfigError("duckdb reads frames and Parquet/CSV files", key="engine.backend")
        self._bucket(0, 1)
        try:
            yield
        finally:
            self.connection.close()
            self._spill.cleanup()

    def _bucket(self, k: int, n: int) -> None:
        """Point the rules' input relations at the people in hash bucket ``k`` of ``n`` (all of them when n = 1)."""
        for name in ("roistory_touches", "roistory_conversions"):
            relation = f"{name}_all"
            if n > 1:
                folder = Path(self._spill.name) / name / f"bucket={k}"
                relation = (
                    f"read_parquet('{folder}/*.parquet', hive_partitioning = false)"
                    if folder.is_dir()
                    else f"(SELECT * FROM {name}_all WHERE false)"  # no people fell in this bucket
                )
            self.connection.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {relation}")

    def _split(self, n: int) -> None:
        """Write each input relation once into one Parquet folder per bucket (in the spill folder).

        Each bucket then reads only its own people instead of scanning (and filtering) the whole input again.
        """
        for name in ("roistory_touches", "roistory_conversions"):
            folder = Path(self._spill.name) / name
            self.connection.execute(
                f"COPY (SELECT *, hash(person_id) % {n} AS bucket FROM {name}_all) "
                f"TO '{folder}' (FORMAT parquet, PARTITION_BY (bucket))"
            )

    def bucket_count(self) -> int:
        """How many hash buckets of people the touches need so that one bucket's sorts fit in memory.

        Journeys never cross people, so the rules run per bucket and the results add up to the whole;
        each bucket's windows then sort in memory instead of spilling, and memory stays flat as input grows.
        """
        touches = self.connection.execute("SELECT count(*) FROM roistory_touches_all").fetchone()[0]
        limit = self.connection.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        number, unit = str(limit).split()
        budget = float(number) * _UNITS.get(unit, 1) * BUCKET_SHARE_OF_MEMORY
        return max(1, math.ceil(touches * BYTES_PER_TOUCH / budget))

    def buckets(self) -> Iterator[None]:
        """Run the caller's query once per bucket of people (see :meth:`bucket_count`)."""
        n = self.bucket_count()
        if n > 1:
            self._split(n)
        for k in range(n):
            self._bucket(k, n)
            yield
        self._bucket(0, 1)

    def _scan(self, path: Path) -> str:
        quoted = str(path).replace("'", "''")
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq") or path.is_dir():
            target = f"{quoted}/**/*.parquet" if path.is_dir() else quoted
            return f"read_parquet('{target}', file_row_number = true, filename = true)"
        if suffix in (".csv", ".tsv", ".txt"):
            return f"(SELECT *, ROW_NUMBER() OVER () AS file_row_number, '' AS filename FROM read_csv('{quoted}'))"
        raise DataError("unsupported file type: use a .csv or .parquet file", file=str(path))

    def _columns(self, path: Path) -> list[str]:
        import duckdb

        if not path.exists():
            raise DataError("file not found", file=str(path))
        try:
            return [row[0] for row in self.connection.execute(f"DESCRIBE SELECT * FROM {self._scan(path)}").fetchall()]
        except duckdb.Error as exc:
            raise DataError(f"duckdb cannot read it: {str(exc).splitlines()[0]}", file=str(path)) from None

    def _files(self, source: Any, dimension: str) -> None:
        touch_columns = self._columns(source.touchpoints)
        for column in (*REQUIRED, dimension):
            if column not in touch_columns:
                raise DataError(f"has no '{column}' column", file=str(source.touchpoints), column=column)
        scan = self._scan(source.touchpoints)
        self._check_required(scan, source.touchpoints, REQUIRED)
        where = date_range_where(source, '"')
        # input order breaks ties at equal timestamps; one file needs no sort for it
        seq = (
            "file_row_number"
            if source.touchpoints.is_file()
            else "ROW_NUMBER() OVER (ORDER BY filename, file_row_number)"
        )
        self.connection.execute(
            f"""CREATE TEMP VIEW roistory_touches_all AS
            SELECT CAST(person_id AS VARCHAR) AS person_id, epoch_us(CAST("timestamp" AS TIMESTAMP)) AS t_us,
                   CAST("{dimension}" AS VARCHAR) AS segment, CAST(channel AS VARCHAR) AS channel,
                   {seq} AS seq
            FROM {scan} {where}"""
        )
        if source.conversions is not None:
            conv_columns = self._columns(source.conversions)
            for column in ("person_id", "timestamp"):
                if column not in conv_columns:
                    raise DataError(f"has no '{column}' column", file=str(source.conversions), column=column)
            self._check_required(self._scan(source.conversions), source.conversions, ("person_id", "timestamp"))
            revenue = "CAST(revenue AS DOUBLE)" if "revenue" in conv_columns else "CAST(0 AS DOUBLE)"
            self.connection.execute(
                f"""CREATE TEMP VIEW roistory_conversions_all AS
                SELECT CAST(person_id AS VARCHAR) AS person_id, epoch_us(CAST("timestamp" AS TIMESTAMP)) AS t_us,
                       {revenue} AS revenue, {seq} AS seq, 0 AS same_row
                FROM {self._scan(source.conversions)} {where}"""
            )
        else:
            if "conversion" not in touch_columns:
                raise DataError(
                    "no conversions: pass --conversions FILE, or give the touchpoints a 'conversion' column (0/1)",
                    file=str(source.touchpoints),
                )
            revenue = "CAST(revenue AS DOUBLE)" if "revenue" in touch_columns else "CAST(0 AS DOUBLE)"
            extra = f"{where} AND" if where else "WHERE"
            self.connection.execute(
                f"""CREATE TEMP VIEW roistory_conversions_all AS
                SELECT CAST(person_id AS VARCHAR) AS person_id, epoch_us(CAST("timestamp" AS TIMESTAMP)) AS t_us,
                       {revenue} AS revenue, {seq} AS seq, 1 AS same_row
                FROM {scan} {extra} CAST(conversion AS INTEGER) = 1"""
            )

    def _check_required(self, scan: str, path: Path, columns: tuple[str, ...]) -> None:
        """Missing required values stop the run, as roistory's readers do (one pass over those columns)."""
        counts = ", ".join(f'count(*) FILTER (WHERE "{c}" IS NULL)' for c in columns)
        missing = self.connection.execute(f"SELECT {counts} FROM {scan}").fetchone()
        for column, count in zip(columns, missing, strict=True):
            if count:
                raise DataError(f"{count} rows have no value (required)", file=str(path), column=column)

    def distinct(self, column: str) -> list[Any]:
        return [row[0] for row in self.connection.execute(f"SELECT DISTINCT {column} FROM roistory_touches").fetchall()]

    def fetch(self, sql: str) -> pd.DataFrame:
        import duckdb

        try:
            return self.connection.execute(sql).fetch_df()
        except duckdb.Error as exc:
            raise DataError(f"engine duckdb: {str(exc).splitlines()[0]}", file="touchpoints") from None


class PostgresEngine:
    """Pushdown: the rules run in PostgreSQL around the user's query (CTEs); only results come back."""

    dialect = "postgres"

    def __init__(self, url: str):
        self.url = url
        self._ctes: dict[str, str] = {}

    def _connect(self):
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        try:
            parsed = make_url(self.url)
        except Exception as exc:
            raise ConfigError(f"engine postgres: not an SQLAlchemy URL ({exc})", key="engine.url") from None
        if parsed.get_backend_name() == "postgres":  # Heroku's and psql's spelling
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_backend_name() != "postgresql":
            raise ConfigError(
                f"engine postgres: '{parsed.get_backend_name()}' is not PostgreSQL; use a postgresql:// URL",
                key="engine.url",
            )
        if parsed.get_driver_name() in ("psycopg2", "", None):
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return sa.create_engine(parsed, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 10})
        except (sa.exc.SQLAlchemyError, ImportError) as exc:  # a driver that is not installed or unknown
            raise ConfigError(f"engine postgres: cannot use this URL ({exc})", key="engine.url") from None

    @staticmethod
    def _relation(text: str) -> str:
        text = text.strip().rstrip(";")
        return f"({text}) AS src" if " " in text else text

    @contextmanager
    def inputs(self, source: Any, dimension: str) -> Iterator[None]:
        self.engine = self._connect()
        try:
            touch_columns = self._columns(source.touchpoints)
            for column in (*REQUIRED, dimension):
                if column not in touch_columns:
                    raise DataError(
                        f"engine postgres: the touchpoints query returns no '{column}' column "
                        f"(it returns {', '.join(touch_columns)})",
                        file="engine.touchpoints",
                        column=column,
                    )
            seq = "ROW_NUMBER() OVER ()"
            epoch = 'CAST(EXTRACT(EPOCH FROM "timestamp") * 1000000 AS BIGINT)'
            self._ctes["roistory_touches"] = (
                f'SELECT CAST(person_id AS TEXT) AS person_id, {epoch} AS t_us, CAST("{dimension}" AS TEXT) AS '
                "segment, "
                f"CAST(channel AS TEXT) AS channel, {seq} AS seq FROM {self._relation(source.touchpoints)}"
            )
            if source.conversions is not None:
                conv_columns = self._columns(source.conversions)
                for column in ("person_id", "timestamp"):
                    if column not in conv_columns:
                        raise DataError(
                            f"engine postgres: the conversions query returns no '{column}' column",
                            file="engine.conversions",
                            column=column,
                        )
                revenue = (
                    "CAST(revenue AS DOUBLE PRECISION)" if "revenue" in conv_columns else "CAST(0 AS DOUBLE PRECISION)"
                )
                self._ctes["roistory_conversions"] = (
                    f"SELECT CAST(person_id AS TEXT) AS person_id, {epoch} AS t_us, {revenue} AS revenue, {seq} AS "
                    "seq, "
                    f"0 AS same_row FROM {self._relation(source.conversions)}"
                )
            else:
                if "conversion" not in touch_columns:
                    raise DataError(
                        "engine postgres: the touchpoints query returns no 'conversion' column and there is no "
                        "conversions query",
                        file="engine.touchpoints",
                        column="conversion",
                    )
                revenue = (
                    "CAST(revenue AS DOUBLE PRECISION)" if "revenue" in touch_columns else "CAST(0 AS DOUBLE PRECISION)"
                )
                self._ctes["roistory_conversions"] = (
                    f"SELECT person_id, t_us, revenue, seq, 1 AS same_row FROM ("
                    f"SELECT CAST(person_id AS TEXT) AS person_id, {epoch} AS t_us, {revenue} AS revenue, {seq} AS "
                    "seq, "
                    f"CAST(conversion AS INTEGER) AS conversion FROM {self._relation(source.touchpoints)}) AS s "
                    "WHERE conversion = 1"
                )
            yield
        finally:
            self.engine.dispose()

    def buckets(self) -> Iterator[None]:
        """One pass: PostgreSQL plans its own memory."""
        yield

    def _columns(self, relation: str) -> list[str]:
        import sqlalchemy as sa

        try:
            with self.engine.connect() as connection:
                result = connection.execute(sa.text(f"SELECT * FROM {self._relation(relation)} LIMIT 0"))
                return list(result.keys())
        except sa.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise DataError(f"engine postgres: the query fails: {reason}", file="engine.touchpoints") from None

    def _with_inputs(self, sql: str) -> str:
        ctes = ", ".join(f"{name} AS ({body})" for name, body in self._ctes.items())
        assert sql.startswith("WITH ")
        return f"WITH {ctes}, {sql[5:]}"

    def distinct(self, column: str) -> list[Any]:
        return list(self.fetch(f"WITH x AS (SELECT 1) SELECT DISTINCT {column} FROM roistory_touches")[column])

    def fetch(self, sql: str) -> pd.DataFrame:
        import sqlalchemy as sa

        try:
            with self.engine.connect() as connection:
                result = connection.exec_driver_sql(self._with_inputs(sql))
                return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        except sa.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise DataError(f"engine postgres: {reason}", file="engine.touchpoints") from None
