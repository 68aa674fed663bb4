"""The audit trail: the manifest's hashes and versions, reproducibility, and ``roistory diff``."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib.metadata import version
from pathlib import Path

import pytest

NAME = "tinyco"


def project(cli, folder: Path, **report) -> Path:
    config = cli.default_config()
    config["report"].update(client=NAME, **report)
    return cli.write_project(folder, config)


def manifest(out: Path, period: str = "2026-10") -> dict:
    return json.loads((out / f"{NAME}-{period}.manifest.json").read_text())


def headline(report_json: dict) -> dict[str, float]:
    return {m["id"]: m["value"] for m in report_json["metrics"] if m["period"] == "current" and not m["segment"]}


def test_manifest_records_output_hashes_versions_and_effective_config(cli, tmp_path):
    config = project(cli, tmp_path / "p", formats=["json", "html", "pdf"])
    out = tmp_path / "out"
    assert cli.run("run", config, "--out", out, "--locale", "es", cwd=tmp_path).code == 0
    data = manifest(out)
    for fmt in ("json", "html", "pdf"):
        written = out / f"{NAME}-2026-10.{fmt}"
        assert data["outputs"][fmt] == {
            "file": written.name,
            "sha256": hashlib.sha256(written.read_bytes()).hexdigest(),
            "bytes": written.stat().st_size,
        }
    assert data["python"]["version"] == platform.python_version()
    for library in ("pandas", "weasyprint", "pluggy", "jinja2", "pydantic"):
        assert data["libraries"][library] == version(library)
    assert data["config"]["report"]["locale"] == "es"  # effective: the --locale override
    assert data["draft"] is False
    report_json = json.loads((out / f"{NAME}-2026-10.json").read_text())
    assert data["metrics"] == headline(report_json)
    assert data["report"]["period_name"] == "octubre de 2026"


def test_the_same_inputs_give_the_same_manifest_apart_from_timings(cli, tmp_path):
    config = project(cli, tmp_path / "p", formats=["json", "html", "pdf"])
    for out in ("a", "b"):
        assert cli.run("run", config, "--out", tmp_path / out, cwd=tmp_path).code == 0
    first, second = manifest(tmp_path / "a"), manifest(tmp_path / "b")
    assert first.pop("timings").keys() == second.pop("timings").keys() == {"rendered_at", "seconds"}
    assert first == second

    result = cli.run("diff", tmp_path / "a", tmp_path / "b", cwd=tmp_path)
    assert result.code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "no change (timings aside)"
    as_json = json.loads(cli.run("diff", tmp_path / "a", tmp_path / "b", "--format", "json", cwd=tmp_path).stdout)
    assert as_json["changed"] is False


def test_diff_of_two_months_names_the_metrics_that_moved(cli, tmp_path):
    config = project(cli, tmp_path / "p")
    for period in ("2026-09", "2026-10"):
        done = cli.run("run", config, "--out", tmp_path / period, "--period", period, cwd=tmp_path)
        assert done.code == 0, done.output
    result = cli.run("diff", tmp_path / "2026-09", tmp_path / "2026-10", "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.output
    diff = json.loads(result.stdout)

    before = headline(json.loads((tmp_path / "2026-09" / f"{NAME}-2026-09.json").read_text()))
    after = headline(json.loads((tmp_path / "2026-10" / f"{NAME}-2026-10.json").read_text()))
    moved = {m for m in before.keys() & after.keys() if abs(after[m] - before[m]) > 0.01 * abs(before[m])}
    appeared = before.keys() ^ after.keys()
    assert {"spend", "revenue", "leads"} <= moved
    assert {c["id"] for c in diff["metrics"]} == moved | appeared
    spend = next(c for c in diff["metrics"] if c["id"] == "spend")
    assert (spend["a"], spend["b"]) == (before["spend"], after["spend"]) == (105.0, 295.75)
    assert spend["relative"] == pytest.approx(295.75 / 105.0 - 1)
    assert {"key": "period", "a": "2026-09", "b": "2026-10"} in diff["report"]
    assert {"key": "report.period", "a": "2026-09", "b": "2026-10"} in diff["config"]
    assert diff["inputs"] == [] and diff["versions"] == []

    text = cli.run("diff", tmp_path / "2026-09", tmp_path / "2026-10", cwd=tmp_path).stdout
    assert "spend: 105 -> 295.8  (+181.7%)" in text


def test_diff_names_a_changed_input_and_threshold_hides_small_moves(cli, tmp_path):
    config = project(cli, tmp_path / "p")
    assert cli.run("run", config, "--out", tmp_path / "a", cwd=tmp_path).code == 0
    spend = tmp_path / "p" / "data" / "spend.csv"
    spend.write_text(spend.read_text() + "2026-10-20,Email,Newsletter,1.00,10,1\n")
    assert cli.run("run", config, "--out", tmp_path / "b", cwd=tmp_path).code == 0

    diff = json.loads(cli.run("diff", tmp_path / "a", tmp_path / "b", "--format", "json", cwd=tmp_path).stdout)
    [change] = diff["inputs"]
    assert change["source"] == "spend" and change["a"]["rows"] == 6 and change["b"]["rows"] == 7
    assert "sha256" in change["change"]
    # spend grew by 1 on 295.75 (0.3 %): under the default 1 % threshold, above 0.1 %
    assert "spend" not in {c["id"] for c in diff["metrics"]}
    low = cli.run("diff", tmp_path / "a", tmp_path / "b", "--format", "json", "--threshold", "0.001", cwd=tmp_path)
    assert "spend" in {c["id"] for c in json.loads(low.stdout)["metrics"]}


def test_diff_of_a_folder_that_is_not_a_run_is_bad_input(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = cli.run("diff", tmp_path / "empty", tmp_path / "empty2", cwd=tmp_path)
    cli.assert_rejected(result, None, "empty", "no *.manifest.json here")
