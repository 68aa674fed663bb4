"""Bad input through the real command line: exit code 2, one line on stderr naming the
file and the row, column or key to fix, no traceback, and no report left in --out.

Row numbers follow the CSV reader's convention (core/sources/csv_reader.py): a row is
quoted by its line number in the file, the header being line 1.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

# An 8x8 PNG: what lands in data/ when someone saves a chart where the export should be.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc"
    "0000001449444154789c633c2127c7800d3061151db41200d0ca01143e63a899"
    "0000000049454e44ae426082"
)


def run_project(cli, tmp_path: Path, config=None, *, files=None, config_text=None, args=()):
    """Write a project into tmp_path/proj, run it with --out tmp_path/out from tmp_path."""
    config_path = cli.write_project(tmp_path / "proj", config, files=files, config_text=config_text)
    out = tmp_path / "out"
    result = cli.run("run", config_path, "--out", out, *args, cwd=tmp_path)
    return result, out


def spend_csv(*rows: str, header: str = "date,channel,cost") -> str:
    return "\n".join([header, *rows]) + "\n"


def test_the_good_project_renders(cli, tmp_path):
    """The baseline every case below breaks one thing of: it must itself succeed."""
    result, out = run_project(cli, tmp_path)
    assert result.code == 0, result.output
    written = cli.files_under(out)
    assert len(written) == 2 and sum(name.endswith(".manifest.json") for name in written) == 1, written
    assert all(name.endswith(".json") for name in written), written


# ---------------------------------------------------------------- the config file


def test_missing_config_file(cli, tmp_path):
    out = tmp_path / "out"
    result = cli.run("run", tmp_path / "nowhere" / "report.yaml", "--out", out, cwd=tmp_path)
    cli.assert_rejected(result, out, "report.yaml")


def test_malformed_yaml_names_file_and_line(cli, tmp_path):
    text = "report:\n  title: Tiny\n   period: 2026-10\nsources: []\n"
    result, out = run_project(cli, tmp_path, config_text=text)
    line = cli.assert_rejected(result, out, "report.yaml")
    assert re.search(r"\bline 3\b", line), line


def test_unknown_key_is_named_with_its_path(cli, tmp_path):
    config = cli.default_config()
    config["report"]["titel"] = "Tiny Co"
    result, out = run_project(cli, tmp_path, config)
    cli.assert_rejected(result, out, "report.yaml", "report.titel")


def test_unknown_key_in_a_source(cli, tmp_path):
    config = cli.default_config()
    config["sources"][1]["colums"] = {"Day": "date"}
    result, out = run_project(cli, tmp_path, config)
    cli.assert_rejected(result, out, "report.yaml", "sources[1].colums")


def test_unknown_source_type(cli, tmp_path):
    config = cli.default_config()
    config["sources"][0]["type"] = "cvs"
    result, out = run_project(cli, tmp_path, config)
    line = cli.assert_rejected(result, out, "report.yaml", "sources[0].type", "cvs")
    assert re.search(r"did you mean\W+csv\b", line), line


def test_unknown_metric_id_suggests_the_closest(cli, tmp_path):
    config = cli.default_config()
    config["metrics"] = ["roii", "roas"]
    result, out = run_project(cli, tmp_path, config)
    line = cli.assert_rejected(result, out, "report.yaml", "metrics[0]", "roii")
    assert re.search(r"did you mean\W+roi\b", line), line


def test_unknown_attribution_model(cli, tmp_path):
    config = cli.default_config()
    config["attribution"] = {"models": ["first_touch", "lienar"], "primary": "first_touch"}
    result, out = run_project(cli, tmp_path, config)
    line = cli.assert_rejected(result, out, "report.yaml", "attribution.models[1]", "lienar")
    assert re.search(r"did you mean\W+linear\b", line), line


def test_unknown_section(cli, tmp_path):
    config = cli.default_config()
    config["sections"] = ["summary", "kpiz"]
    result, out = run_project(cli, tmp_path, config)
    line = cli.assert_rejected(result, out, "report.yaml", "sections[1]", "kpiz")
    assert re.search(r"did you mean\W+kpis\b", line), line


@pytest.mark.parametrize("period", ["2026-13", "2026-10-31..2026-10-01"])
def test_invalid_period_in_config(cli, tmp_path, period):
    config = cli.default_config()
    config["report"]["period"] = period
    result, out = run_project(cli, tmp_path, config)
    cli.assert_rejected(result, out, "report.yaml", "report.period", period)


def test_invalid_period_on_the_command_line(cli, tmp_path):
    result, out = run_project(cli, tmp_path, args=("--period", "2026-Q5"))
    cli.assert_rejected(result, out, "period", "2026-Q5")


# ---------------------------------------------------------------- the data files


def test_data_file_missing(cli, tmp_path):
    result, out = run_project(cli, tmp_path, files={"data/conversions.csv": None})
    cli.assert_rejected(result, out, "conversions.csv")


def test_missing_column_suggests_the_closest_header(cli, tmp_path):
    """The export says 'Cost'; the rename map has a typo ('Costs'), so 'cost' is missing."""
    config = cli.default_config()
    config["sources"][0]["columns"] = {"Costs": "cost"}
    files = {"data/spend.csv": spend_csv("2026-10-01,Email,20", header="date,channel,Cost")}
    result, out = run_project(cli, tmp_path, config, files=files)
    line = cli.assert_rejected(result, out, "spend.csv", "did you mean")
    assert re.search(r"\bcost\b", line), f"the missing column 'cost' is not named: {line}"
    assert re.search(r"did you mean\W+Cost\b", line), line


@pytest.mark.parametrize(
    ("name", "content", "row", "column"),
    [
        (
            "spend",
            spend_csv("2026-10-01,Email,5", "2026-10-02,Email,6", "2026-13-45,Email,7"),
            4,
            "date",
        ),
        (
            "spend",
            spend_csv("2026-10-01,Email,5", "01/10/2026,Email,6"),
            3,
            "date",
        ),
        (
            "touchpoints",
            "person_id,timestamp,channel\nP1,2026-10-01T10:00:00,Email\nP2,next tuesday,Email\n",
            3,
            "timestamp",
        ),
    ],
    ids=["impossible-date", "non-iso-date", "timestamp"],
)
def test_unparseable_date_names_row_and_column(cli, tmp_path, name, content, row, column):
    result, out = run_project(cli, tmp_path, files={f"data/{name}.csv": content})
    line = cli.assert_rejected(result, out, f"{name}.csv")
    assert re.search(rf"\brow {row}\b", line), f"row {row} not named: {line}"
    assert re.search(rf"\b{column}\b", line), f"column {column} not named: {line}"


def test_non_numeric_cost_names_row_and_column(cli, tmp_path):
    content = spend_csv("2026-10-01,Email,5", "2026-10-02,Email,twelve", "2026-10-03,Email,7")
    result, out = run_project(cli, tmp_path, files={"data/spend.csv": content})
    line = cli.assert_rejected(result, out, "spend.csv", "twelve")
    assert re.search(r"\brow 3\b", line), line
    assert re.search(r"\bcost\b", line), line


def test_negative_cost_names_row_and_column(cli, tmp_path):
    content = spend_csv("2026-10-01,Email,5", "2026-10-02,Email,6", "2026-10-03,Email,7", "2026-10-04,Email,-7.5")
    result, out = run_project(cli, tmp_path, files={"data/spend.csv": content})
    line = cli.assert_rejected(result, out, "spend.csv")
    assert re.search(r"\brow 5\b", line), line
    assert re.search(r"\bcost\b", line), line
    assert "negative" in line.lower(), line


def test_row_number_is_the_line_number_after_a_blank_line(cli, tmp_path):
    """Line 3 is blank, the bad value is on line 4: the message must send the user to line 4
    (what an editor and a spreadsheet both show), not to the 3rd parsed row."""
    content = "date,channel,cost\n2026-10-01,Email,5\n\n2026-10-02,Email,abc\n"
    result, out = run_project(cli, tmp_path, files={"data/spend.csv": content})
    line = cli.assert_rejected(result, out, "spend.csv", "abc")
    assert re.search(r"\brow 4\b", line), f"the bad value is on line 4: {line}"


def test_no_data_in_the_report_period_names_the_period(cli, tmp_path):
    """Every row is outside 2024-03: the one line says which period and which config."""
    config = cli.default_config()
    config["report"]["period"] = "2024-03"
    result, out = run_project(cli, tmp_path, config)
    cli.assert_rejected(result, out, "2024-03", "report.yaml")


def test_empty_csv_file(cli, tmp_path):
    result, out = run_project(cli, tmp_path, files={"data/leads.csv": ""})
    line = cli.assert_rejected(result, out, "leads.csv")
    assert "empty" in line.lower(), line


@pytest.mark.parametrize("content", [PNG_BYTES, random.Random(0).randbytes(4096)], ids=["png", "random-bytes"])
def test_binary_file_named_csv(cli, tmp_path, content):
    result, out = run_project(cli, tmp_path, files={"data/spend.csv": content})
    cli.assert_rejected(result, out, "spend.csv")


# ---------------------------------------------------------------- roistory validate


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def test_validate_good_project_exits_0_and_writes_nothing(cli, tmp_path):
    config_path = cli.write_project(tmp_path / "proj")
    before = _snapshot(tmp_path)
    result = cli.run("validate", config_path, cwd=tmp_path)
    assert result.code == 0, result.output
    assert "Traceback" not in result.output
    assert result.stdout.strip(), "validate should print its findings"
    assert _snapshot(tmp_path) == before, "validate must not write anything"


def test_validate_bad_project_exits_2(cli, tmp_path):
    files = {"data/spend.csv": spend_csv("2026-10-01,Email,5", "2026-10-02,Email,-6")}
    config_path = cli.write_project(tmp_path / "proj", files=files)
    before = _snapshot(tmp_path)
    result = cli.run("validate", config_path, cwd=tmp_path)
    cli.assert_rejected(result, None, "spend.csv", "row 3", "cost")
    assert _snapshot(tmp_path) == before, "validate must not write anything"


def test_file_source_without_a_path(cli, tmp_path):
    config = cli.default_config()
    del config["sources"][1]["path"]
    result, out = run_project(cli, tmp_path, config)
    cli.assert_rejected(result, out, "report.yaml", "sources[1].path", "needs a path")


def test_no_attribution_model(cli, tmp_path):
    config = cli.default_config()
    config["attribution"] = {"models": []}
    result, out = run_project(cli, tmp_path, config)
    cli.assert_rejected(result, out, "report.yaml", "attribution.models")


def test_misspelt_theme_parent(cli, tmp_path):
    config = cli.default_config()
    config["report"]["theme"] = "brand"
    files = {"brand/theme.yaml": "extends: defualt\n"}
    result, out = run_project(cli, tmp_path, config, files=files)
    line = cli.assert_rejected(result, out, "report.yaml", "brand/theme.yaml: extends", "defualt")
    assert "did you mean 'default'" in line


def test_unquoted_year_period_is_a_period(cli, tmp_path):
    config = cli.default_config()
    config["report"]["period"] = 2026  # YAML reads `period: 2026` as a number
    result, out = run_project(cli, tmp_path, config)
    assert result.code == 0, result.output
    data = json.loads(next(out.glob("*.json")).read_text())
    assert data["report"]["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
