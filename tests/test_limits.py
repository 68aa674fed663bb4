"""Limits that keep a run from hanging: FIFOs refused, chunk_mb checked, a per-report time
limit (nesting correctly with the renderer's), and one-line usage errors."""

from __future__ import annotations

import os
import time

import pytest

from roistory.limits import TimeLimitExceeded, time_limit


def test_a_fifo_as_a_data_file_is_refused_not_waited_for(cli, tmp_path):
    project = cli.write_project(tmp_path / "proj", files={"data/spend.csv": None})
    os.mkfifo(project.parent / "data" / "spend.csv")
    out = tmp_path / "out"
    started = time.monotonic()
    result = cli.run("run", project, "--out", out, cwd=tmp_path, timeout=120)
    cli.assert_rejected(result, out, "spend.csv", "FIFO")
    assert time.monotonic() - started < 100


def test_a_fifo_given_to_attribute_is_refused(cli, tmp_path):
    os.mkfifo(tmp_path / "touchpoints.csv")
    result = cli.run("attribute", "touchpoints.csv", "--model", "linear", cwd=tmp_path, timeout=120)
    cli.assert_rejected(result, None, "touchpoints.csv", "FIFO")


@pytest.mark.parametrize("value", [0, -1, "big", 10**6])
def test_chunk_mb_must_be_a_positive_size(cli, tmp_path, value):
    config = cli.default_config()
    config["sources"][0]["options"] = {"chunk_mb": value}
    project = cli.write_project(tmp_path / "proj", config)
    out = tmp_path / "out"
    cli.assert_rejected(cli.run("run", project, "--out", out, cwd=tmp_path), out, "chunk_mb")


@pytest.mark.parametrize("value", [0, -5, 10**6])
def test_time_limit_out_of_range_is_a_config_error(cli, tmp_path, value):
    config = cli.default_config()
    config["report"]["time_limit"] = value
    project = cli.write_project(tmp_path / "proj", config)
    out = tmp_path / "out"
    cli.assert_rejected(cli.run("run", project, "--out", out, cwd=tmp_path), out, "report.time_limit")


def test_report_time_limit_from_the_config(cli, tmp_path):
    config = cli.default_config()
    config["report"].update(time_limit=3, theme="slow", formats=["html"])
    project = cli.write_project(tmp_path / "proj", config)
    (project.parent / "slow" / "templates").mkdir(parents=True)
    (project.parent / "slow" / "templates" / "report.html.j2").write_text(
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", encoding="utf-8"
    )
    out = tmp_path / "out"
    result = cli.run("run", project, "--out", out, cwd=tmp_path)
    assert result.code == 1 and result.stderr.count("\n") == 1, result.output
    assert "time limit of 3 s" in result.stderr and cli.files_under(out) == []


class Inner(Exception):
    pass


def test_an_inner_limit_fires_first_when_shorter():
    with pytest.raises(Inner), time_limit(5, lambda: TimeLimitExceeded("outer")), time_limit(0.2, Inner):
        time.sleep(2)


def test_an_outer_limit_is_not_extended_by_a_longer_inner_one():
    with pytest.raises(TimeLimitExceeded), time_limit(0.3, lambda: TimeLimitExceeded("outer")), time_limit(5, Inner):
        time.sleep(2)


def test_an_inner_limit_gives_the_outer_one_back():
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded), time_limit(0.6, lambda: TimeLimitExceeded("outer")):
        with time_limit(5, Inner):
            time.sleep(0.1)
        time.sleep(3)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "args",
    [
        ("run",),
        ("run", "report.yaml", "--format", "docx"),
        ("nosuch",),
        ("run", "--bogus"),
        ("attribute", "x.csv"),
        ("new-plugin", "x", "--kind", "nope"),
        ("batch",),
    ],
    ids=[
        "missing-argument",
        "bad-format",
        "unknown-command",
        "unknown-option",
        "missing-option",
        "bad-choice",
        "batch-no-config",
    ],
)
def test_usage_errors_are_one_line(cli, tmp_path, args):
    (tmp_path / "report.yaml").write_text("report: {period: 2026-10}\n")
    result = cli.run(*args, cwd=tmp_path)
    assert result.code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "--help" in lines[0], result.stderr
    assert result.stdout == ""
