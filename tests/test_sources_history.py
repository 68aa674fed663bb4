"""The history store (roistory.history) and ``roistory history``: months accumulate, re-runs
replace, a damaged file never breaks a report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from roistory.config import config_from_dict
from roistory.errors import ConfigError
from roistory.history import HistoryConfig, list_stored, merge_history, store_and_merge
from roistory.history_command import history as history_command
from roistory.plugin_manager import build_registry
from roistory.sources import load_sources


def project(tmp_path: Path, spend: str, *, period: str = "2026-10", history: str | None = "history.duckdb"):
    (tmp_path / "spend.csv").write_text(spend)
    config = config_from_dict(
        {
            "report": {"period": period},
            "sources": [{"name": "google_ads", "type": "csv", "path": "spend.csv", "table": "spend"}],
        },
        path=tmp_path / "report.yaml",
    )
    if history:
        config = config.model_copy(update={"history": HistoryConfig(path=history)})  # until Config has the field
    return config


def run(config, *, write: bool = True):
    tables, inputs = load_sources(config, build_registry().sources)
    return store_and_merge(config, tables, inputs, write=write)


SEPTEMBER = "date,channel,cost\n2026-09-01,Email,10\n2026-09-15,Email,20\n"
OCTOBER = "date,channel,cost\n2026-10-01,Email,30\n2026-10-20,Email,40\n"
OCTOBER_REVISED = "date,channel,cost\n2026-10-01,Email,31\n2026-10-20,Email,41\n2026-10-31,Email,1\n"


def test_months_accumulate_and_reruns_replace(tmp_path):
    tables, findings = run(project(tmp_path, SEPTEMBER, period="2026-09"))
    assert len(tables["spend"]) == 2 and [f.code for f in findings] == ["history_created"]
    tables, findings = run(project(tmp_path, OCTOBER))
    assert list(tables["spend"]["cost"]) == [10.0, 20.0, 30.0, 40.0]
    assert next(f for f in findings if f.code == "history_rows").count == 2
    # the October export again, revised: October replaced, September kept, no duplicates
    for _ in range(2):
        tables, _ = run(project(tmp_path, OCTOBER_REVISED))
        assert list(tables["spend"]["cost"]) == [10.0, 20.0, 31.0, 41.0, 1.0]
    assert tables["spend"]["date"].dtype == "datetime64[ns]" and tables["spend"]["channel"].dtype == "str"
    months = {(m.source, m.month): m.rows for m in list_stored(tmp_path / "history.duckdb")}
    assert months == {("google_ads", "2026-09"): 2, ("google_ads", "2026-10"): 3}


def test_validate_reads_but_writes_nothing(tmp_path):
    run(project(tmp_path, SEPTEMBER, period="2026-09"))
    before = (tmp_path / "history.duckdb").stat().st_mtime_ns
    tables, _ = run(project(tmp_path, OCTOBER), write=False)
    assert list(tables["spend"]["cost"]) == [30.0, 40.0, 10.0, 20.0]
    assert (tmp_path / "history.duckdb").stat().st_mtime_ns == before
    assert [m.month for m in list_stored(tmp_path / "history.duckdb")] == ["2026-09"]


def test_without_history_settings_nothing_is_stored(tmp_path):
    tables, findings = run(project(tmp_path, OCTOBER, history=None))
    assert len(tables["spend"]) == 2 and findings == []
    assert not (tmp_path / "history.duckdb").exists()


def _damage(store: Path, how: str) -> None:
    data = bytearray(store.read_bytes())
    if how == "truncated":
        del data[len(data) // 3 :]
    else:  # a block whose checksum no longer matches
        data[4096:4200] = b"y" * 104
    store.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["bad-checksum", "truncated"])
def test_a_damaged_store_is_set_aside_and_rebuilt(tmp_path, how):
    run(project(tmp_path, SEPTEMBER, period="2026-09"))
    _damage(tmp_path / "history.duckdb", how)
    damaged = (tmp_path / "history.duckdb").read_bytes()
    tables, findings = run(project(tmp_path, OCTOBER))
    assert list(tables["spend"]["cost"]) == [30.0, 40.0]  # this run's rows, nothing invented
    rebuilt = next(f for f in findings if f.code == "history_rebuilt")
    assert rebuilt.severity == "warning" and "moved to history.duckdb.corrupt-" in rebuilt.message
    (aside,) = tmp_path.glob("history.duckdb.corrupt-*")
    assert aside.read_bytes() == damaged  # moved, not changed
    assert [m.month for m in list_stored(tmp_path / "history.duckdb")] == ["2026-10"]


@pytest.mark.parametrize(
    "content", [b"not a database" * 100, b"", b"date,channel,cost\n"], ids=["garbage", "empty-file", "csv"]
)
def test_a_file_that_is_not_a_store_is_never_touched(tmp_path, content):
    (tmp_path / "history.duckdb").write_bytes(content)
    for write in (True, False):
        with pytest.raises(ConfigError, match="history.path.*not a roistory history store"):
            run(project(tmp_path, OCTOBER), write=write)
    assert (tmp_path / "history.duckdb").read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.duckdb", "spend.csv"]


def test_another_programs_duckdb_file_is_never_touched(tmp_path):
    import duckdb

    with duckdb.connect(str(tmp_path / "history.duckdb")) as con:
        con.execute("CREATE TABLE accounts (id INTEGER)")
    before = (tmp_path / "history.duckdb").read_bytes()
    with pytest.raises(ConfigError, match="history.path.*DuckDB database but not a roistory history store"):
        run(project(tmp_path, OCTOBER))
    assert (tmp_path / "history.duckdb").read_bytes() == before


def test_a_store_outside_the_project_needs_allow_outside(tmp_path):
    (tmp_path / "proj").mkdir()
    outside = tmp_path / "shared.duckdb"
    config = project(tmp_path / "proj", OCTOBER, history=str(outside))
    with pytest.raises(ConfigError, match="history.path.*outside the report project.*allow_outside"):
        run(config)
    assert not outside.exists()
    allowed = config.model_copy(update={"history": HistoryConfig(path=str(outside), allow_outside=True)})
    run(allowed)
    assert [m.month for m in list_stored(outside)] == ["2026-10"]


def test_pending_write_changes_nothing_until_committed(tmp_path):
    run(project(tmp_path, SEPTEMBER, period="2026-09"))
    before = (tmp_path / "history.duckdb").read_bytes()
    config = project(tmp_path, OCTOBER)
    tables, inputs = load_sources(config, build_registry().sources)
    merged, _, pending = merge_history(config, tables, inputs)
    assert list(merged["spend"]["cost"]) == [10.0, 20.0, 30.0, 40.0]  # the report sees both months
    pending.discard()  # the run failed
    assert (tmp_path / "history.duckdb").read_bytes() == before
    assert [m.month for m in list_stored(tmp_path / "history.duckdb")] == ["2026-09"]
    _, _, pending = merge_history(config, tables, inputs)
    pending.commit()
    assert [m.month for m in list_stored(tmp_path / "history.duckdb")] == ["2026-09", "2026-10"]


def test_a_new_store_appears_only_on_commit(tmp_path):
    config = project(tmp_path, OCTOBER)
    tables, inputs = load_sources(config, build_registry().sources)
    _, findings, pending = merge_history(config, tables, inputs)
    assert [f.code for f in findings] == ["history_created"]
    assert not (tmp_path / "history.duckdb").exists()
    del pending  # dropped without commit: the file being built is removed too
    import gc

    gc.collect()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spend.csv"]


def test_a_damaged_store_during_validate_is_left_alone(tmp_path):
    run(project(tmp_path, SEPTEMBER, period="2026-09"))
    _damage(tmp_path / "history.duckdb", "truncated")
    damaged = (tmp_path / "history.duckdb").read_bytes()
    tables, findings = run(project(tmp_path, OCTOBER), write=False)
    assert len(tables["spend"]) == 2 and findings[0].code == "history_unreadable"
    assert (tmp_path / "history.duckdb").read_bytes() == damaged


def test_history_command_lists_and_drops(tmp_path):
    run(project(tmp_path, SEPTEMBER, period="2026-09"))
    run(project(tmp_path, OCTOBER))
    runner = CliRunner()
    store = str(tmp_path / "history.duckdb")
    result = runner.invoke(history_command, [store])
    assert result.exit_code == 0, result.output
    assert "google_ads" in result.output and "2026-09" in result.output and "2026-10" in result.output
    result = runner.invoke(history_command, [store, "--format", "json"])
    data = json.loads(result.output)
    assert [(m["month"], m["rows"]) for m in data["months"]] == [("2026-09", 2), ("2026-10", 2)]
    result = runner.invoke(history_command, [store, "--drop", "google_ads:2026-09"])
    assert result.exit_code == 0 and "Removed 2 rows" in result.output
    assert [m.month for m in list_stored(tmp_path / "history.duckdb")] == ["2026-10"]


def test_history_command_on_a_config_without_a_store_yet(tmp_path):
    (tmp_path / "report.yaml").write_text(
        "report: {period: 2026-10}\nsources:\n  - {name: s, type: csv, path: spend.csv, table: spend}\n"
    )
    result = CliRunner().invoke(history_command, [str(tmp_path / "report.yaml")])
    assert result.exit_code == 0 and "No history stored yet" in result.output


def test_history_keeps_the_columns_each_source_had(tmp_path):
    run(project(tmp_path, "date,channel,cost,clicks\n2026-09-01,Email,10,5\n", period="2026-09"))
    tables, _ = run(project(tmp_path, OCTOBER))
    assert "clicks" in tables["spend"] and "impressions" not in tables["spend"]
    assert tables["spend"]["clicks"].tolist()[0] == 5.0 and pd.isna(tables["spend"]["clicks"].tolist()[1])
