"""The journey engines agree: memory, DuckDB, PostgreSQL (pushdown) and a local Spark.

Random journeys (hypothesis) with timestamps on a coarse grid, so ties, gaps of
exactly the dormancy and touches exactly at the lookback edge are common, plus
conversions of people who never had a touch. The reference is the in-memory
engine: :func:`roistory.attribution.build_journeys` and the registered models.
Spark is slow to start, so it runs on one larger random set and on the example
project, sharing one ``local[2]`` session.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sources_sql import PASSWORD, USER, postgres  # noqa: F401 - the real PostgreSQL server fixture

from roistory.attribution import build_journeys, conversion_events, run_model
from roistory.config import EngineConfig
from roistory.engines import FrameInput, SqlInput, credits_for, journeys_for, summary_for
from roistory.paths import aggregate_paths
from roistory.plugin_manager import build_registry

EXAMPLE = Path(__file__).parent.parent / "examples" / "acme" / "report.yaml"
START = pd.Timestamp("2026-01-01")
CHANNELS = ["Direct", "Email", "Paid Search", "Social", None]
MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based", "last_non_direct",
          "markov", "markov_per_journey", "shapley"]  # fmt: skip
PARAMS = {"time_decay": {"half_life_days": 2}, "position_based": {"weights": [0.3, 0.3, 0.4]}}


# --------------------------------------------------------------------------
# Data


def _touchpoints(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": [f"p{p}" for p, _, _ in rows],
            "timestamp": pd.to_datetime([START + pd.Timedelta(hours=12 * t) for _, t, _ in rows]),
            "channel": pd.Series([CHANNELS[c] for _, _, c in rows], dtype=object),
        }
    )


def _conversions(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": [f"p{p}" for p, _, _ in rows],
            "timestamp": pd.to_datetime([START + pd.Timedelta(hours=12 * t) for _, t, _ in rows]),
            "revenue": pd.Series([r for _, _, r in rows], dtype=float),
        }
    )


touch_rows = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 40), st.integers(0, 4)), min_size=1, max_size=60)
conversion_rows = st.lists(
    st.tuples(st.integers(0, 8), st.integers(0, 40), st.sampled_from([0.0, 10.0, 99.5, 1234.25])), max_size=15
)


def _random_set(seed: int, people: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A larger random set in the same shape (half-day grid, ties, people without touches)."""
    rng = np.random.default_rng(seed)
    n = people * 5
    touches = list(zip(rng.integers(0, people, n), rng.integers(0, 80, n), rng.integers(0, 5, n), strict=True))
    m = people
    conversions = list(
        zip(rng.integers(0, people + 40, m), rng.integers(0, 80, m), rng.choice([0.0, 10.0, 99.5], m), strict=True)
    )
    return _touchpoints(touches), _conversions(conversions)


# --------------------------------------------------------------------------
# Comparison


def _reference(touchpoints, events, lookback, dormancy):
    registry = build_registry()
    journeys, stats = build_journeys(touchpoints, events, lookback_days=lookback, dormancy_days=dormancy)
    credits = {m: run_model(registry.models[m], journeys, PARAMS.get(m)) for m in MODELS}
    return journeys, stats, aggregate_paths(journeys), credits


def _path_dict(table) -> dict[str, tuple[float, float, float]]:
    return {
        path: (c, r, n)
        for path, c, r, n in zip(table.paths(), table.conversions, table.revenue, table.nulls, strict=True)
    }


def _assert_same_paths(expected, actual):
    assert expected.labels == actual.labels
    want, got = _path_dict(expected), _path_dict(actual)
    assert want.keys() == got.keys()
    for path, values in want.items():
        np.testing.assert_allclose(got[path], values, rtol=1e-9, atol=1e-9, err_msg=path)


def _assert_same_credits(expected: dict, actual: dict, stats):
    for model, frame in expected.items():
        got = actual[model]
        if len(stats.unattributed):
            orphan = got.loc["(no touchpoints)"]
            assert orphan["conversions"] == len(stats.unattributed)
            assert orphan["revenue"] == pytest.approx(stats.unattributed["revenue"].sum(), rel=1e-12)
            got = got.drop(index="(no touchpoints)")
        assert list(got.index) == list(frame.index), model
        np.testing.assert_allclose(got.to_numpy(float), frame.to_numpy(float), rtol=1e-9, atol=1e-9, err_msg=model)


def _assert_same_stats(expected, actual):
    assert actual.conversions == expected.conversions
    assert actual.touches_beyond_lookback == expected.touches_beyond_lookback
    assert actual.reengaged_journeys == expected.reengaged_journeys
    assert len(actual.unattributed) == len(expected.unattributed)
    assert actual.unattributed["revenue"].sum() == pytest.approx(expected.unattributed["revenue"].sum(), rel=1e-12)


def _check_engine(settings_or_input, touchpoints, events, lookback, dormancy):
    registry = build_registry()
    journeys, stats, paths, credits = _reference(touchpoints, events, lookback, dormancy)
    source = settings_or_input if isinstance(settings_or_input, SqlInput) else FrameInput(touchpoints, events)
    engine_settings = None if isinstance(settings_or_input, SqlInput) else settings_or_input
    models = [registry.models[m] for m in MODELS]
    got, got_stats = credits_for(
        source, engine_settings, models, PARAMS, lookback_days=lookback, dormancy_days=dormancy
    )
    summary = summary_for(source, engine_settings, lookback_days=lookback, dormancy_days=dormancy)
    _assert_same_paths(paths, summary.paths)
    _assert_same_credits(credits, got, stats)
    _assert_same_stats(stats, got_stats)


def _assert_same_journeys(touchpoints, events, settings_, lookback, dormancy):
    expected, stats = build_journeys(touchpoints, events, lookback_days=lookback, dormancy_days=dormancy)
    actual, got_stats = journeys_for(touchpoints, events, settings_, lookback_days=lookback, dormancy_days=dormancy)
    assert actual.labels == expected.labels
    for name in ("offsets", "codes", "hours_before", "converted", "revenue", "end"):
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name), err_msg=name)
    pd.testing.assert_frame_equal(got_stats.unattributed, stats.unattributed, check_dtype=False)
    _assert_same_stats(stats, got_stats)


# --------------------------------------------------------------------------
# DuckDB and PostgreSQL on hypothesis-generated journeys

lookbacks = st.integers(1, 6)
dormancies = st.integers(1, 8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(touch_rows, conversion_rows, lookbacks, dormancies)
def test_duckdb_matches_memory(touches, conversions, lookback, dormancy):
    touchpoints = _touchpoints(touches)
    events = conversion_events(touchpoints, _conversions(conversions))
    _check_engine(EngineConfig(backend="duckdb"), touchpoints, events, lookback, dormancy)
    _assert_same_journeys(touchpoints, events, EngineConfig(backend="duckdb"), lookback, dormancy)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(touch_rows, st.lists(st.sampled_from([0, 0, 1]), min_size=60, max_size=60), lookbacks, dormancies)
def test_duckdb_matches_memory_on_session_rows(touches, flags, lookback, dormancy):
    """Session format: a converting row is a touch and the conversion after it."""
    touchpoints = _touchpoints(touches)
    touchpoints["conversion"] = flags[: len(touchpoints)]
    touchpoints["revenue"] = np.where(touchpoints["conversion"] == 1, 50.0, np.nan)
    events = conversion_events(touchpoints, None)
    _check_engine(EngineConfig(backend="duckdb"), touchpoints, events, lookback, dormancy)


def test_duckdb_in_buckets_of_people_matches_memory(monkeypatch):
    """Large inputs run the rules once per hash bucket of person_id; the buckets add up to the same numbers."""
    from roistory.engines import sql_engines

    touchpoints, conversions = _random_set(7)
    events = conversion_events(touchpoints, conversions)
    # pretend each touch needs 4 MB, so the 2,000 touches need five buckets of a 4 GB memory_limit
    monkeypatch.setattr(sql_engines, "BYTES_PER_TOUCH", 4_000_000)
    counts = []
    count = sql_engines.DuckDBEngine.bucket_count

    def counted(engine):
        counts.append(count(engine))
        return counts[-1]

    monkeypatch.setattr(sql_engines.DuckDBEngine, "bucket_count", counted)
    _check_engine(EngineConfig(backend="duckdb", conf={"memory_limit": "4GB"}), touchpoints, events, 3, 5)
    assert counts and min(counts) == 5


def _load_postgres(server, touchpoints: pd.DataFrame, conversions: pd.DataFrame) -> str:
    import sqlalchemy as sa

    host, port, db = server
    url = f"postgresql+psycopg://{USER}:{PASSWORD}@{host}:{port}/{db}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        touchpoints.assign(idx=range(len(touchpoints))).to_sql(
            "parity_touchpoints", connection, if_exists="replace", index=False
        )
        conversions.assign(idx=range(len(conversions))).to_sql(
            "parity_conversions", connection, if_exists="replace", index=False
        )
    engine.dispose()
    return url


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(touch_rows, conversion_rows, lookbacks, dormancies)
def test_postgres_pushdown_matches_memory(postgres, touches, conversions, lookback, dormancy):  # noqa: F811
    touchpoints, conversion_table = _touchpoints(touches), _conversions(conversions)
    url = _load_postgres(postgres, touchpoints, conversion_table)
    source = SqlInput(
        url,
        'SELECT person_id, "timestamp", channel FROM parity_touchpoints ORDER BY idx',
        'SELECT person_id, "timestamp", revenue FROM parity_conversions ORDER BY idx',
    )
    _check_engine(source, touchpoints, conversion_events(touchpoints, conversion_table), lookback, dormancy)


def test_postgres_query_with_wrong_columns_is_one_line(cli, tmp_path, postgres):  # noqa: F811
    touchpoints, conversions = _random_set(1, people=5)
    url = _load_postgres(postgres, touchpoints, conversions)
    result = cli.run("attribute", url, "--query", "SELECT person_id, channel FROM parity_touchpoints",
                     "--conversions-query", "parity_conversions", "--model", "linear", cwd=tmp_path)  # fmt: skip
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "engine postgres" in result.stderr and "'timestamp'" in result.stderr


# --------------------------------------------------------------------------
# Spark (one local[2] session for the module)


@pytest.fixture(scope="session")
def spark_settings() -> EngineConfig:
    return EngineConfig(backend="spark", master="local[2]", conf={"spark.sql.shuffle.partitions": "2"})


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(touch_rows, conversion_rows), min_size=8, max_size=8), lookbacks, dormancies)
def test_spark_matches_memory(spark_settings, sets, lookback, dormancy):
    """Eight drawn sets side by side (people renamed apart): many cases per Spark job."""
    touch_frames, conversion_frames = [], []
    for i, (touches, conversions) in enumerate(sets):
        touch_frames.append(
            _touchpoints(touches).assign(person_id=lambda f, i=i: f"s{i}-" + f["person_id"].astype(str))
        )
        conversion_frames.append(
            _conversions(conversions).assign(person_id=lambda f, i=i: f"s{i}-" + f["person_id"].astype(str))
        )
    touchpoints = pd.concat(touch_frames, ignore_index=True)
    events = conversion_events(touchpoints, pd.concat(conversion_frames, ignore_index=True))
    _check_engine(spark_settings, touchpoints, events, lookback, dormancy)
    _assert_same_journeys(touchpoints, events, spark_settings, lookback, dormancy)


def _render_example(out: Path, engine: str) -> bytes:
    from roistory.runs import render_config

    paths = render_config(EXAMPLE, out, formats=["json"], engine=engine)
    return paths["json"].read_bytes()


def test_example_report_is_identical_on_every_engine(tmp_path, spark_settings):
    memory = _render_example(tmp_path / "memory", "memory")
    assert (
        hashlib.sha256(_render_example(tmp_path / "spark", "local[2]")).hexdigest()
        == hashlib.sha256(memory).hexdigest()
    )
    assert (
        hashlib.sha256(_render_example(tmp_path / "duckdb", "duckdb")).hexdigest() == hashlib.sha256(memory).hexdigest()
    )


def test_run_engine_option(tmp_path):
    """`roistory run --engine duckdb` (a fresh process) writes the in-memory JSON."""
    args = [sys.executable, "-m", "roistory.cli", "run", str(EXAMPLE), "--format", "json"]
    outputs = []
    for engine in ("memory", "duckdb"):
        out = tmp_path / engine
        done = subprocess.run(
            [*args, "--out", str(out), "--engine", engine], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append((out / "acme-2026-10.json").read_bytes())
    assert outputs[0] == outputs[1]


def test_unreachable_spark_master_is_one_line(cli, tmp_path):
    touchpoints, conversions = _random_set(2, people=5)
    touchpoints.to_csv(tmp_path / "t.csv", index=False)
    conversions.to_csv(tmp_path / "c.csv", index=False)
    result = cli.run("attribute", "t.csv", "--conversions", "c.csv", "--model", "linear",
                     "--engine", "spark://127.0.0.1:9", cwd=tmp_path)  # fmt: skip
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "engine.master" in result.stderr and "127.0.0.1:9" in result.stderr


def test_missing_java_is_one_line(cli, tmp_path):
    touchpoints, conversions = _random_set(3, people=5)
    touchpoints.to_csv(tmp_path / "t.csv", index=False)
    conversions.to_csv(tmp_path / "c.csv", index=False)
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java")}
    result = cli.run("attribute", "t.csv", "--conversions", "c.csv", "--model", "linear", "--engine", "spark",
                     cwd=tmp_path, env=env)  # fmt: skip
    assert result.code == 2, result.output
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Java" in result.stderr and "engine.backend" in result.stderr and "no-java" in result.stderr


def _attribute_csv(cli, folder: Path, *args: str) -> pd.DataFrame:
    import io

    result = cli.run("attribute", *args, "--model", ",".join(MODELS), "--format", "csv",
                     "--lookback-days", "3", "--dormancy-days", "5", cwd=folder)  # fmt: skip
    assert result.code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout)).set_index(["model", "channel"]).sort_index()


@pytest.mark.parametrize("session_rows", [False, True])
def test_attribute_reads_parquet_in_duckdb_like_memory(cli, tmp_path, session_rows):
    """`roistory attribute --engine duckdb` reads the files itself; the credits are the in-memory ones."""
    touchpoints, conversions = _random_set(11, people=300)
    touchpoints["channel"] = touchpoints["channel"].fillna("Other")  # a required value for the readers
    if session_rows:
        touchpoints["conversion"] = (np.arange(len(touchpoints)) % 7 == 0).astype(int)
        touchpoints["revenue"] = np.where(touchpoints["conversion"] == 1, 20.5, np.nan)
        touchpoints.to_parquet(tmp_path / "t.parquet")
        files = ["t.parquet"]
    else:
        touchpoints.to_parquet(tmp_path / "t.parquet")
        conversions.to_parquet(tmp_path / "c.parquet")
        files = ["t.parquet", "--conversions", "c.parquet"]
    memory = _attribute_csv(cli, tmp_path, *files, "--engine", "memory")
    duckdb = _attribute_csv(cli, tmp_path, *files, "--engine", "duckdb")
    assert list(duckdb.index) == list(memory.index)
    np.testing.assert_allclose(duckdb.to_numpy(float), memory.to_numpy(float), rtol=1e-9, atol=1e-9)
    assert memory.loc["linear"]["conversions"].sum() == pytest.approx(
        touchpoints["conversion"].sum() if session_rows else len(conversions), rel=1e-12
    )


def test_attribute_in_duckdb_rejects_missing_required_values(cli, tmp_path):
    touchpoints, conversions = _random_set(12, people=50)
    touchpoints.to_parquet(tmp_path / "t.parquet")  # some channels are missing
    conversions.to_parquet(tmp_path / "c.parquet")
    result = cli.run("attribute", "t.parquet", "--conversions", "c.parquet", "--model", "linear", "--engine", "duckdb",
                     cwd=tmp_path)  # fmt: skip
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    missing = int(touchpoints["channel"].isna().sum())
    assert f"column 'channel': {missing} rows have no value" in result.stderr


def test_attribute_date_range_keeps_the_same_events_on_every_file_engine(cli, tmp_path):
    """--since/--until: DuckDB pushes the range into the Parquet scan, memory filters after reading; same credit."""
    touchpoints, conversions = _random_set(13, people=300)
    touchpoints["channel"] = touchpoints["channel"].fillna("Other")
    touchpoints.to_parquet(tmp_path / "t.parquet")
    conversions.to_parquet(tmp_path / "c.parquet")
    stamps = pd.to_datetime(conversions["timestamp"]).sort_values()
    since, until = stamps.iloc[len(stamps) // 4], stamps.iloc[3 * len(stamps) // 4]
    window = ["--since", since.isoformat(), "--until", until.isoformat()]
    files = ["t.parquet", "--conversions", "c.parquet", *window]
    memory = _attribute_csv(cli, tmp_path, *files, "--engine", "memory")
    duckdb = _attribute_csv(cli, tmp_path, *files, "--engine", "duckdb")
    assert list(duckdb.index) == list(memory.index)
    np.testing.assert_allclose(duckdb.to_numpy(float), memory.to_numpy(float), rtol=1e-9, atol=1e-9)
    inside = ((stamps >= since) & (stamps < until)).sum()
    assert 0 < inside < len(conversions)
    assert memory.loc["linear"]["conversions"].sum() == pytest.approx(inside, rel=1e-12)


def test_bad_since_is_one_line(cli, tmp_path):
    touchpoints, conversions = _random_set(14, people=5)
    touchpoints.to_csv(tmp_path / "t.csv", index=False)
    conversions.to_csv(tmp_path / "c.csv", index=False)
    result = cli.run("attribute", "t.csv", "--conversions", "c.csv", "--model", "linear", "--since", "last week",
                     cwd=tmp_path)  # fmt: skip
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "--since" in result.stderr and "last week" in result.stderr


def test_missing_pyspark_names_the_extra(cli, tmp_path):
    """Without the spark extra, --engine spark stops with one line naming it (pyspark hidden by a stub package)."""
    touchpoints, conversions = _random_set(15, people=5)
    touchpoints.to_csv(tmp_path / "t.csv", index=False)
    conversions.to_csv(tmp_path / "c.csv", index=False)
    stub = tmp_path / "stub" / "pyspark"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('No module named pyspark')\n")
    env = {**os.environ, "PYTHONPATH": str(stub.parent)}
    result = cli.run("attribute", "t.csv", "--conversions", "c.csv", "--model", "linear", "--engine", "spark",
                     cwd=tmp_path, env=env)  # fmt: skip
    assert result.code == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "pip install 'roistory[spark]'" in result.stderr and "engine.backend" in result.stderr
