"""Source type ``sql``: a query or table from any SQLAlchemy database, or a DuckDB file.

::

    - name: crm_leads
      type: sql
      table: leads
      options:
        url: postgresql+psycopg://${PGUSER}@db.internal:5432/crm   # ${VAR} from the environment
        query: SELECT id AS lead_id, created AS created_at, email FROM leads
        # or  table: public.leads
        chunk_rows: 100000       # rows fetched per round trip (server-side cursor)
        password_env: CRM_DB_PASSWORD   # optional: the password's environment variable

Credentials never sit in report.yaml: a URL holding a password in clear is
refused; the password comes from ``${VAR}`` in the URL, ``password_env``, or
the driver's own mechanisms (libpq's ``PGPASSWORD`` or ``~/.pgpass``). Error
messages name the host and port, never the password.

``duckdb:///data/warehouse.duckdb`` reads a DuckDB file (relative paths from
the report's folder) with DuckDB's own client, read-only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from roistory.api import CORE_OPTIONS, ConfigError, DataError, SourceType, hookimpl, require_extra

if TYPE_CHECKING:
    from roistory.api import Config, SourceConfig

SQL_OPTIONS = {"url", "query", "table", "chunk_rows", "password_env", "connect_timeout"} | CORE_OPTIONS
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str, *, key: str) -> str:
    """``${VAR}`` (or ``${VAR:-default}``) replaced from the environment."""

    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(f"environment variable '{name}' is not set", key=key)

    return _ENV.sub(value, text)


def _clear_password(url: str) -> bool:
    """Does the URL as written in the config hold a literal password?"""
    match = re.match(r"^[A-Za-z0-9+._-]+://([^@/]*)@", url)
    if not match or ":" not in match.group(1):
        return False
    password = match.group(1).split(":", 1)[1]
    return bool(password) and not re.fullmatch(r"(\$\{[^}]+\})+", password)


def masked(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"^([A-Za-z0-9+._-]+://[^:@/]*):[^@/]*@", r"\1:***@", url)


def _settings(source: SourceConfig) -> dict[str, Any]:
    unknown = sorted(set(source.options) - SQL_OPTIONS)
    key = f"sources.{source.name}.options"
    if unknown:
        raise ConfigError(f"unknown sql option '{unknown[0]}'; use {', '.join(sorted(SQL_OPTIONS))}", key=key)
    options = dict(source.options)
    raw_url = options.get("url")
    if not raw_url:
        raise ConfigError("a sql source needs options.url (an SQLAlchemy URL)", key=f"{key}.url")
    if _clear_password(str(raw_url)):
        raise ConfigError(
            "the URL holds a password in clear; put it in an environment variable and write "
            "${VARIABLE} in its place, or use options.password_env",
            key=f"{key}.url",
        )
    if bool(options.get("query")) == bool(options.get("table")):
        raise ConfigError("a sql source needs exactly one of options.query and options.table", key=key)
    options["url"] = expand_env(str(raw_url), key=f"{key}.url")
    options["chunk_rows"] = int(options.get("chunk_rows", 100_000))
    return options


def _label(source: SourceConfig, url: str) -> str:
    return f"sql source '{source.name}' ({masked(url)})"


def _where(url: str) -> str:
    """'host:port' of a URL, for messages."""
    engine = require_extra("sqlalchemy.engine", "sql", needed_for="the sql source type")

    try:
        parsed = engine.make_url(url)
    except Exception:
        return "the database"
    defaults = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "mssql": 1433, "oracle": 1521}
    port = parsed.port or defaults.get(parsed.get_backend_name())
    host = parsed.host or "localhost"
    return f"{host}:{port}" if port else host


def _scrub(message: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


def _connection_error(exc: Exception, source: SourceConfig, url: str, secrets: list[str]) -> DataError:
    text = _scrub(str(getattr(exc, "orig", None) or exc), secrets)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("(Background")]
    reason = lines[0] if lines else type(exc).__name__
    lowered = text.lower()
    if "connection refused" in lowered:
        reason = "connection refused (is the server running and accepting TCP/IP connections?)"
    elif "timeout" in lowered or "timed out" in lowered:
        reason = "connection timed out"
    elif "password authentication failed" in lowered:
        reason = re.sub(r"^.*?(password authentication failed[^\n]*)", r"\1", reason)
    elif "could not translate host name" in lowered or "name or service not known" in lowered:
        reason = "unknown host name"
    reason = re.sub(r'connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: ', "", reason)
    return DataError(f"cannot connect to the database at {_where(url)}: {reason}", file=_label(source, url))


def _password(options: dict[str, Any]) -> str | None:
    name = options.get("password_env")
    if not name:
        return None
    if name not in os.environ:
        raise ConfigError(
            f"environment variable '{name}' (options.password_env) is not set", key="options.password_env"
        )
    return os.environ[name]


# --------------------------------------------------------------------------


def sql_chunks(source: SourceConfig, config: Config) -> Iterator[pd.DataFrame]:
    options = _settings(source)
    url = options["url"]
    if url.startswith("duckdb:"):
        yield from _duckdb_chunks(source, config, options)
        return
    yield from _sqlalchemy_chunks(source, options)


def read_sql(source: SourceConfig, config: Config) -> pd.DataFrame:
    frames = list(sql_chunks(source, config))
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames)


def _sqlalchemy_chunks(source: SourceConfig, options: dict[str, Any]) -> Iterator[pd.DataFrame]:
    sa = require_extra("sqlalchemy", "sql", needed_for="the sql source type")
    make_url = sa.engine.make_url

    url = options["url"]
    password = _password(options)
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(
            f"not an SQLAlchemy URL: {masked(url)} ({exc})", key=f"sources.{source.name}.options.url"
        ) from None
    if password is not None:
        parsed = parsed.set(password=password)
    secrets = [s for s in (password, parsed.password) if s]
    if parsed.get_backend_name() == "postgres":  # Heroku's and psql's spelling of postgresql://
        parsed = parsed.set(drivername="postgresql")
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg2", "", None):
        try:
            import psycopg  # noqa: F401

            parsed = parsed.set(drivername="postgresql+psycopg")
        except ImportError:
            pass
    connect_args: dict[str, Any] = {}
    timeout = int(options.get("connect_timeout", 10))
    if parsed.get_backend_name() in ("postgresql", "mysql", "mariadb"):
        connect_args["connect_timeout"] = timeout
    try:
        engine = sa.create_engine(parsed, connect_args=connect_args, poolclass=sa.pool.NullPool)
    except Exception as exc:  # missing driver, bad URL
        raise DataError(
            f"cannot use this database URL: {_scrub(str(exc), secrets)}", file=_label(source, url)
        ) from None
    query = options.get("query")
    if query:
        statement = sa.text(str(query))
    else:
        schema, _, name = str(options["table"]).rpartition(".")
        statement = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema or None))
    start = 1
    try:
        try:
            connection = engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise _connection_error(exc, source, url, secrets) from None
        with connection:
            try:
                result = connection.execution_options(
                    stream_results=True, max_row_buffer=options["chunk_rows"]
                ).execute(statement)
            except sa.exc.SQLAlchemyError as exc:
                message = _scrub(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0], secrets)
                raise DataError(f"the query failed: {message}", file=_label(source, url)) from None
            columns = list(result.keys())
            yielded = False
            while True:
                try:
                    rows = result.fetchmany(options["chunk_rows"])
                except sa.exc.SQLAlchemyError as exc:
                    message = _scrub(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0], secrets)
                    raise DataError(f"reading rows failed: {message}", file=_label(source, url)) from None
                if not rows and yielded:
                    break
                frame = _rows_to_frame(rows, columns, start)
                start += len(frame)
                yielded = True
                yield frame
                if not rows:
                    break
    finally:
        engine.dispose()


def _rows_to_frame(rows: list[Any], columns: list[str], start: int) -> pd.DataFrame:
    """Driver rows as a frame; each column's Python values become one Arrow type where they agree."""
    data = {}
    transposed = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    for name, values in zip(columns, transposed, strict=True):
        try:
            array = pa.array(values, from_pandas=True)
            data[name] = (
                array.to_pandas() if not pa.types.is_date(array.type) else array.cast(pa.timestamp("ns")).to_pandas()
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            data[name] = pd.Series([None if v is None else str(v) for v in values], dtype="str")
    frame = pd.DataFrame({name: pd.Series(series).reset_index(drop=True) for name, series in data.items()})
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def _duckdb_chunks(source: SourceConfig, config: Config, options: dict[str, Any]) -> Iterator[pd.DataFrame]:
    import duckdb

    url = options["url"]
    target = re.sub(r"^duckdb:(//)?/?", "", url) if not url.startswith("duckdb:////") else url[len("duckdb:///") :]
    target = target.split("?", 1)[0]
    if target in ("", ":memory:"):
        raise ConfigError(
            "a duckdb URL needs a database file: duckdb:///path/to/file.duckdb",
            key=f"sources.{source.name}.options.url",
        )
    path = Path(target) if Path(target).is_absolute() else config.resolve(target)
    label = f"sql source '{source.name}' ({path})"
    if not path.exists():
        raise DataError("database file not found", file=label)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise DataError(f"cannot open the DuckDB file: {str(exc).splitlines()[0]}", file=label) from None
    try:
        if options.get("query"):
            sql = str(options["query"])
        else:
            parts = [f'"{p}"' for p in str(options["table"]).split(".")]
            sql = f"SELECT * FROM {'.'.join(parts)}"
        try:
            reader = con.sql(sql).to_arrow_reader(options["chunk_rows"])
        except duckdb.Error as exc:
            raise DataError(f"the query failed: {str(exc).splitlines()[0]}", file=label) from None
        start = 1
        yielded = False
        for batch in reader:
            table = pa.Table.from_batches([batch])
            for i, column in enumerate(table.schema):
                if pa.types.is_date(column.type):
                    table = table.set_column(i, column.name, table.column(i).cast(pa.timestamp("ns")))
            frame = table.to_pandas()
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yielded = True
            yield frame
        if not yielded:
            schema = reader.schema
            frame = pa.Table.from_batches([], schema=schema).to_pandas()
            frame.index = pd.RangeIndex(1, 1)
            yield frame
    finally:
        con.close()


@hookimpl
def register_data_sources(register):
    register(
        SourceType(
            "sql",
            read_sql,
            "A query or table from an SQLAlchemy database URL or a DuckDB file, read in chunks "
            "(options: url, query | table, chunk_rows, password_env, connect_timeout).",
            chunks=sql_chunks,
        )
    )
