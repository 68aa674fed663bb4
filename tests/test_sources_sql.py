"""The ``sql`` source type against a real PostgreSQL server and a DuckDB file.

The PostgreSQL fixture makes a throwaway cluster with Debian's ``postgresql``
package (``initdb`` under /usr/lib/postgresql/*/bin) in a temporary folder, on a
free port of 127.0.0.1, with password authentication over TCP; it runs the
server as the ``postgres`` user when the tests run as root. Without the package
the PostgreSQL tests are skipped — except in CI (``CI`` set), where that is a
failure: ``make test`` installs the package.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from roistory.config import config_from_dict
from roistory.errors import ConfigError, DataError
from roistory.plugin_manager import build_registry
from roistory.sources import load_sources

PASSWORD = "s3cret-Pa55word"
USER = "roistory"


def _pg_bin() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A running PostgreSQL server: (host, port, database) with table ``crm_leads``."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed (Debian package 'postgresql'): `make test` installs it")
    # not under pytest's temporary folder: as root that one is private to root
    base = Path(tempfile.mkdtemp(prefix="roistory-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        os.chmod(base, 0o755)
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    pwfile = base / "pw"
    pwfile.write_text("admin-pw\n")
    os.chmod(pwfile, 0o644)

    def run(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{args[0]} failed: {done.stdout}\n{done.stderr}"

    run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        f"--pwfile={pwfile}",
        "-E",
        "UTF8",
        "--locale=C",
    )
    port = _free_port()
    run(
        str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
        "-o", f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off",
        "start",
    )  # fmt: skip
    try:
        run(
            str(bin_dir / "psql"), "-h", str(sockets), "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1",
            "-c", f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'", "-c", f"CREATE DATABASE marketing OWNER {USER}",
        )  # fmt: skip
        rows = "\n".join(
            f"INSERT INTO crm_leads VALUES ('L{i:05d}', DATE '2026-10-01' + {i % 30}, 'person{i % 700}@x.example', "
            f"{'NULL' if i % 3 else f'{(i % 50) * 10.5}'}::numeric(12,2), "
            f"{'NULL' if i % 7 else 'TIMESTAMP ' + repr(f'2026-10-{1 + i % 28:02d} 10:00:00')});"
            for i in range(2500)
        )
        setup = f"""
            CREATE TABLE crm_leads (
                id text PRIMARY KEY, created date NOT NULL, email text, amount numeric(12,2), won timestamp
            );
            {rows}
            CREATE TABLE spend (day date, channel char(12), cost double precision);
            INSERT INTO spend VALUES ('2026-10-01', 'Email', 5.5), ('2026-10-02', 'Paid Search', 120);
        """
        env = {**os.environ, "PGPASSWORD": PASSWORD}
        done = subprocess.run(
            [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", "marketing", "-v", "ON_ERROR_STOP=1", "-q", "-f", "-"],  # noqa: E501
            input=setup, capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        yield "127.0.0.1", port, "marketing"
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


def load(tmp_path: Path, options: dict, table: str = "leads", **source):
    config = config_from_dict(
        {
            "report": {"period": "2026-10"},
            "sources": [{"name": "crm", "type": "sql", "table": table, "options": options, **source}],
        },
        path=tmp_path / "report.yaml",
    )
    tables, inputs = load_sources(config, build_registry().sources)
    return tables[table], inputs[0]


QUERY = "SELECT id AS lead_id, created AS created_at, email, amount, won AS won_at FROM crm_leads ORDER BY id"


def test_postgres_query_in_chunks_with_password_from_the_environment(tmp_path, postgres, monkeypatch):
    host, port, db = postgres
    monkeypatch.setenv("ROISTORY_TEST_PGUSER", USER)
    monkeypatch.setenv("ROISTORY_TEST_PGPASSWORD", PASSWORD)
    url = f"postgresql://${{ROISTORY_TEST_PGUSER}}:${{ROISTORY_TEST_PGPASSWORD}}@{host}:{port}/{db}"
    frame, loaded = load(tmp_path, {"url": url, "query": QUERY, "chunk_rows": 1000})
    assert len(frame) == 2500 and loaded.rows == 2500
    assert frame["created_at"].dtype == "datetime64[ns]" and frame["amount"].dtype == "float64"
    assert frame["lead_id"].iloc[0] == "L00000"
    assert frame["amount"].notna().sum() == len(range(0, 2500, 3))
    assert frame["won_at"].notna().sum() == len(range(0, 2500, 7))


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "postgres"])
def test_postgres_table_with_password_env_option(tmp_path, postgres, monkeypatch, scheme):
    host, port, db = postgres
    monkeypatch.setenv("CRM_DB_PASSWORD", PASSWORD)
    options = {
        "url": f"{scheme}://{USER}@{host}:{port}/{db}",
        "table": "public.spend",
        "password_env": "CRM_DB_PASSWORD",
    }
    frame, _ = load(tmp_path, options, table="spend", columns={"day": "date"})
    # char(12) pads with spaces: trimmed like any text
    assert list(frame["channel"]) == ["Email", "Paid Search"]
    assert list(frame["cost"]) == [5.5, 120.0]


def test_postgres_wrong_password_names_host_not_password(tmp_path, postgres, monkeypatch):
    host, port, db = postgres
    monkeypatch.setenv("BAD_PW", "not-the-password-xyz")
    with pytest.raises(DataError) as info:
        load(tmp_path, {"url": f"postgresql://{USER}:${{BAD_PW}}@{host}:{port}/{db}", "query": QUERY})
    message = str(info.value)
    assert f"{host}:{port}" in message and "password authentication failed" in message
    assert "not-the-password-xyz" not in message and PASSWORD not in message


def test_postgres_bad_query_is_bad_input(tmp_path, postgres, monkeypatch):
    host, port, db = postgres
    monkeypatch.setenv("PGPW", PASSWORD)
    with pytest.raises(DataError, match="the query failed: .*no_such_table"):
        load(
            tmp_path,
            {"url": f"postgresql://{USER}:${{PGPW}}@{host}:{port}/{db}", "query": "SELECT * FROM no_such_table"},
        )


def test_connection_refused_names_host_and_port_never_the_password(tmp_path, monkeypatch):
    port = _free_port()  # nothing listens there
    monkeypatch.setenv("SECRET_PW", "hunter2-very-secret")
    with pytest.raises(DataError) as info:
        load(
            tmp_path,
            {
                "url": f"postgresql://analyst:${{SECRET_PW}}@127.0.0.1:{port}/crm",
                "query": "SELECT 1",
                "connect_timeout": 5,
            },
        )
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "connection refused" in message
    assert "hunter2" not in message and "\n" not in message


def test_connection_refused_through_the_command_line(cli, tmp_path):
    port = _free_port()
    config = cli.default_config()
    config["sources"][3] = {
        "name": "crm", "type": "sql", "table": "leads",
        "options": {"url": f"postgresql://analyst:${{SECRET_PW}}@127.0.0.1:{port}/crm", "query": "SELECT 1", "connect_timeout": 5},  # noqa: E501
    }  # fmt: skip
    path = cli.write_project(tmp_path / "proj", config)
    env = {**os.environ, "SECRET_PW": "hunter2-very-secret"}
    result = cli.run("run", path, "--out", tmp_path / "out", cwd=tmp_path, env=env)
    cli.assert_rejected(result, tmp_path / "out", f"127.0.0.1:{port}", "connection refused")
    assert "hunter2" not in result.output


def test_a_password_in_clear_in_the_config_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="password in clear") as info:
        load(tmp_path, {"url": "postgresql://analyst:hunter2@db.internal/crm", "query": "SELECT 1"})
    assert "hunter2" not in str(info.value)


def test_an_unset_environment_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE"):
        load(tmp_path, {"url": "postgresql://${NOT_SET_ANYWHERE}@db/crm", "query": "SELECT 1"})


def test_duckdb_file(tmp_path):
    import duckdb

    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marketing")
        con.execute(
            "CREATE TABLE marketing.spend AS SELECT DATE '2026-10-01' + (i % 31)::INT AS date, 'Email' AS channel, (i "
            "% 100) * 1.5 AS cost, i AS row_id FROM range(250000) t(i)"
        )
    frame, loaded = load(
        tmp_path, {"url": "duckdb:///warehouse.duckdb", "table": "marketing.spend", "chunk_rows": 50_000}, table="spend"
    )
    assert len(frame) == 250_000
    assert frame["date"].min() == pd.Timestamp("2026-10-01") and frame["cost"].max() == 148.5
    frame, _ = load(
        tmp_path,
        {
            "url": f"duckdb:///{path}",
            "query": "SELECT date, channel, sum(cost) AS cost FROM marketing.spend GROUP BY ALL ORDER BY date",
        },
        table="spend",
    )
    assert len(frame) == 31


def test_duckdb_missing_file(tmp_path):
    with pytest.raises(DataError, match="database file not found"):
        load(tmp_path, {"url": "duckdb:///nowhere.duckdb", "table": "spend"}, table="spend")


def test_sql_source_registered():
    assert "sql" in build_registry().sources
    assert sys.modules.get("roistory.plugins.sql_source") is not None


def test_without_the_sql_extra_the_error_names_it(tmp_path, monkeypatch):
    """SQLAlchemy comes with `roistory[sql]`: without it, one line says how to get it."""
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # what an uninstalled package looks like
    monkeypatch.setitem(sys.modules, "sqlalchemy.engine", None)
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, {"url": "postgresql://roistory@127.0.0.1:1/db", "query": "select 1"})
    message = str(caught.value)
    assert "pip install 'roistory[sql]'" in message
    assert "\n" not in message
