"""The Spark journey engine (``roistory[spark]``): the shared SQL rules on a Spark cluster.

``engine: {backend: spark, master: spark://host:7077, conf: {spark.executor.memory: 8g}}``.
The session is started once per process and reused. Inputs are temp views:
in-memory frames are sent as Arrow, files are read by Spark itself.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd

from roistory.engines.inputs import FileInput, FrameInput, date_range_where
from roistory.engines.sql_engines import frame_relations
from roistory.errors import ConfigError, DataError
from roistory.extras import require_extra

REQUIRED = ("person_id", "timestamp", "channel")


def _check_master(master: str) -> None:
    """A ``spark://host:port`` master must answer within seconds (Spark itself retries for minutes)."""
    if not master.startswith("spark://"):
        return
    for address in master[len("spark://") :].split(","):
        parsed = urlparse(f"spark://{address}")
        try:
            with socket.create_connection((parsed.hostname, parsed.port or 7077), timeout=5):
                return
        except OSError as exc:
            reason = exc.strerror or str(exc)
    raise ConfigError(f"engine spark: cannot reach the Spark master {master} ({reason})", key="engine.master")


def _check_java() -> None:
    """Spark's JVM needs ``java``: JAVA_HOME's if set, else on PATH (checked before Spark prints its own errors)."""
    home = os.environ.get("JAVA_HOME")
    if home:
        if not (Path(home) / "bin" / "java").is_file():
            raise ConfigError(f"engine spark: no Java at JAVA_HOME={home} (bin/java is missing)", key="engine.backend")
    elif shutil.which("java") is None:
        raise ConfigError(
            "engine spark: Java is not installed (install openjdk-17-jre-headless or set JAVA_HOME)",
            key="engine.backend",
        )


class SparkEngine:
    dialect = "spark"
    _sessions: dict[tuple, Any] = {}

    def __init__(self, session: Any):
        self.spark = session

    @classmethod
    def get(cls, settings: Any) -> SparkEngine:
        master = settings.master or "local[*]"
        conf = {str(k): str(v) for k, v in (settings.conf or {}).items()}
        key = (master, tuple(sorted(conf.items())))
        if key not in cls._sessions:
            cls._sessions[key] = cls._start(master, conf)
        return cls(cls._sessions[key])

    @staticmethod
    def _start(master: str, conf: dict[str, str]) -> Any:
        session_type = require_extra(
            "pyspark.sql", "spark", needed_for="engine spark", key="engine.backend"
        ).SparkSession
        _check_java()
        _check_master(master)
        builder = session_type.builder.master(master).appName("roistory")
        defaults = {
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "4",
            "spark.ui.showConsoleProgress": "false",
        }
        for key, value in {**defaults, **conf}.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
            session.sparkContext.setLogLevel("ERROR")  # Spark's warnings would drown roistory's one-line messages
            return session
        except Exception as exc:  # the JVM did not start: no Java, a bad conf value, an unreachable master
            text = str(exc)
            if "JAVA_GATEWAY_EXITED" in text or "JAVA_HOME" in text or "java" in text.lower():
                raise ConfigError(
                    "engine spark: Java did not start (install openjdk-17-jre-headless or set JAVA_HOME)",
                    key="engine.backend",
                ) from None
            raise ConfigError(
                f"engine spark: cannot start Spark: {text.splitlines()[0]}", key="engine.master"
            ) from None

    @contextmanager
    def inputs(self, source: Any, dimension: str) -> Iterator[None]:

        if isinstance(source, FrameInput):
            touches, conversions = frame_relations(source.touchpoints, source.events, dimension)
            self.spark.createDataFrame(touches).createOrReplaceTempView("roistory_touches")
            self.spark.createDataFrame(conversions).createOrReplaceTempView("roistory_conversions")
        elif isinstance(source, FileInput):
            self._files(source, dimension)
        else:
            raise ConfigError("spark reads frames and Parquet/CSV files", key="engine.backend")
        try:
            yield
        finally:
            self.spark.catalog.dropTempView("roistory_touches")
            self.spark.catalog.dropTempView("roistory_conversions")

    def _read(self, path: Any):
        from pyspark.sql import functions as F  # noqa: N812 - Spark's convention

        if not path.exists():
            raise DataError("file not found", file=str(path))
        reader = self.spark.read
        frame = (
            reader.parquet(str(path))
            if path.suffix.lower() in (".parquet", ".pq") or path.is_dir()
            else reader.csv(str(path), header=True, inferSchema=True)
        )
        return frame.withColumn("roistory_seq", F.monotonically_increasing_id())  # increasing in file order

    def _files(self, source: Any, dimension: str) -> None:
        touches = self._read(source.touchpoints)
        for column in (*REQUIRED, dimension):
            if column not in touches.columns:
                raise DataError(f"has no '{column}' column", file=str(source.touchpoints), column=column)
        touches.createOrReplaceTempView("roistory_raw_touches")
        where = date_range_where(source, "`")
        epoch = "unix_micros(CAST(`timestamp` AS TIMESTAMP))"
        self.spark.sql(
            f"SELECT CAST(person_id AS STRING) AS person_id, {epoch} AS t_us, CAST(`{dimension}` AS STRING) AS "
            "segment, "
            f"CAST(channel AS STRING) AS channel, roistory_seq AS seq FROM roistory_raw_touches {where}"
        ).createOrReplaceTempView("roistory_touches")
        if source.conversions is not None:
            conversions = self._read(source.conversions)
            revenue = "CAST(revenue AS DOUBLE)" if "revenue" in conversions.columns else "CAST(0 AS DOUBLE)"
            conversions.createOrReplaceTempView("roistory_raw_conversions")
            self.spark.sql(
                f"SELECT CAST(person_id AS STRING) AS person_id, {epoch} AS t_us, {revenue} AS revenue, "
                f"roistory_seq AS seq, 0 AS same_row FROM roistory_raw_conversions {where}"
            ).createOrReplaceTempView("roistory_conversions")
        else:
            if "conversion" not in touches.columns:
                raise DataError(
                    "no conversions: pass --conversions FILE, or give the touchpoints a 'conversion' column",
                    file=str(source.touchpoints),
                )
            revenue = "CAST(revenue AS DOUBLE)" if "revenue" in touches.columns else "CAST(0 AS DOUBLE)"
            extra = f"{where} AND" if where else "WHERE"
            self.spark.sql(
                f"SELECT CAST(person_id AS STRING) AS person_id, {epoch} AS t_us, {revenue} AS revenue, "
                f"roistory_seq AS seq, 1 AS same_row FROM roistory_raw_touches {extra} CAST(conversion AS INT) = 1"
            ).createOrReplaceTempView("roistory_conversions")

    def buckets(self) -> Iterator[None]:
        """One pass: Spark partitions the work itself."""
        yield

    def distinct(self, column: str) -> list[Any]:
        return [row[0] for row in self.spark.sql(f"SELECT DISTINCT {column} FROM roistory_touches").collect()]

    def fetch(self, sql: str) -> pd.DataFrame:
        try:
            return self.spark.sql(sql).toPandas()
        except Exception as exc:  # Spark's AnalysisException and friends
            raise DataError(f"engine spark: {str(exc).splitlines()[0]}", file="touchpoints") from None
