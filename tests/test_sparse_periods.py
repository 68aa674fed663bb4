"""Sections degrade gracefully on periods with little data: a section with nothing to show
says so in one line instead of crashing the run ("Encountered all NA values")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[1] / "examples" / "acme" / "report.yaml"


def test_validate_on_a_sparse_month_of_the_example(cli, tmp_path):
    result = cli.run("validate", EXAMPLE, "--period", "2024-01", cwd=tmp_path)
    assert result.code == 0, result.output
    assert "valid, period 2024-01" in result.stdout


def test_run_on_a_sparse_month_of_the_example(cli, tmp_path):
    out = tmp_path / "out"
    result = cli.run("run", EXAMPLE, "--period", "2024-01", "--format", "html,json", "--out", out, cwd=tmp_path)
    assert result.code == 0, result.output
    data = json.loads(next(out.glob("*.json")).read_text())
    conversions = sum(r["conversions"] for r in data["attribution"] if r["model"] == "markov")
    assert conversions == 0  # the month has no conversion: nothing to attribute
    html = next(out.glob("*.html")).read_text()
    section = html.split('id="attribution"', 1)[1].split("</section>", 1)[0]
    assert section.count("<p") == 1 and "No conversions in January 2024" in section


@pytest.mark.parametrize("period", ["2026-09-01..2026-09-04", "2026-10-01..2026-10-01"])
def test_tiny_project_on_periods_with_touches_but_no_conversion(cli, tmp_path, period):
    config = cli.default_config()
    config["report"]["formats"] = ["html"]
    config_path = cli.write_project(tmp_path / "proj", config)
    out = tmp_path / "out"
    result = cli.run("run", config_path, "--period", period, "--out", out, cwd=tmp_path)
    assert result.code == 0, result.output
    html = next(out.glob("*.html")).read_text()
    assert "No conversions in" in html.split('id="attribution"', 1)[1].split("</section>", 1)[0]
