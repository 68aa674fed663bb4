"""The same project rendered twice gives the same bytes: HTML, JSON and PDF.

The two runs are separate processes that differ in everything that should not
matter: the --out folder, the working directory (so the config path is given
differently), the hash seed (set and dict ordering) and the machine's time zone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

FORMATS = ("html", "json", "pdf")


@pytest.fixture(scope="module")
def two_renders(cli, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("determinism")
    config = cli.default_config()
    config["report"]["compare"] = ["previous", "year_ago"]
    config["report"]["formats"] = list(FORMATS)
    config_path = cli.write_project(root / "proj", config)

    first, second = root / "out1", root / "elsewhere" / "out2"
    runs = [
        (first, root, config_path, {"PYTHONHASHSEED": "1", "TZ": "UTC"}),
        (
            second,
            config_path.parent,
            Path("report.yaml"),
            {"PYTHONHASHSEED": "2", "TZ": "Asia/Jakarta"},
        ),
    ]
    for out, cwd, config_arg, env in runs:
        result = cli.run("run", config_arg, "--out", out, cwd=cwd, env={**os.environ, **env})
        assert result.code == 0, result.output
    return first, second


def _report_file(folder: Path, fmt: str) -> Path:
    found = sorted(folder.glob(f"*.{fmt}"))
    found = [p for p in found if not p.name.endswith(".manifest.json")]
    assert len(found) == 1, f"expected one .{fmt} report in {folder}: {found}"
    return found[0]


def test_both_runs_write_the_same_file_names(two_renders):
    first, second = two_renders
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in second.iterdir())


def test_the_report_is_not_trivial(two_renders):
    """Determinism of an empty page proves little: the parts that tend to vary
    (charts, attribution, comparison periods) are in this report."""
    first, _ = two_renders
    data = json.loads(_report_file(first, "json").read_text(encoding="utf-8"))
    periods = {record["period"] for record in data["metrics"]}
    assert {"current", "previous"} <= periods
    assert {record["model"] for record in data["attribution"]} == {
        "first_touch",
        "last_touch",
        "linear",
    }
    html = _report_file(first, "html").read_text(encoding="utf-8")
    assert "data:image/svg+xml" in html, "the report should hold at least one chart"
    assert _report_file(first, "pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_byte_identical(two_renders, fmt):
    first, second = two_renders
    a, b = _report_file(first, fmt).read_bytes(), _report_file(second, fmt).read_bytes()
    if a != b:
        offset = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        pytest.fail(
            f"{fmt} differs between runs ({len(a)} vs {len(b)} bytes) at byte {offset}: "
            f"{a[max(0, offset - 60) : offset + 60]!r} vs {b[max(0, offset - 60) : offset + 60]!r}"
        )
