"""Bad input to the sources (issue 4): each case exits 2 with one line naming the file, row
and column, or is loaded with what was dropped counted — never silently lost.

The command-line cases use the ``cli`` fixture (tests/conftest.py); the others load
through :func:`roistory.sources.load_sources`.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from roistory.config import config_from_dict
from roistory.errors import DataError
from roistory.plugin_manager import build_registry
from roistory.sources import load_sources, rows_outside_period

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def run_project(cli, tmp_path, config=None, *, files=None):
    config_path = cli.write_project(tmp_path / "proj", config, files=files)
    out = tmp_path / "out"
    return cli.run("run", config_path, "--out", out, cwd=tmp_path), out


def spend_csv(*rows: str, header: str = "date,channel,cost") -> str:
    return "\n".join([header, *rows]) + "\n"


def load(tmp_path: Path, name: str, content: str | bytes, **source):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    config = config_from_dict(
        {
            "report": {"period": "2026-10"},
            "sources": [{"name": "s", "type": "csv", "path": name, "table": "spend", **source}],
        },
        path=tmp_path / "report.yaml",
    )
    tables, inputs = load_sources(config, build_registry().sources)
    return tables["spend"], inputs[0]


# ---------------------------------------------------------------- through the command line


def test_empty_file(cli, tmp_path):
    result, out = run_project(cli, tmp_path, files={"data/spend.csv": ""})
    line = cli.assert_rejected(result, out, "spend.csv")
    assert "empty" in line


def test_header_only_file_is_a_source_without_rows(cli, tmp_path):
    """A header and no rows is a month without spend on that source, not an error: the report
    runs and says so in the data-quality findings."""
    result, out = run_project(cli, tmp_path, files={"data/conversions.csv": "person_id,timestamp,revenue\n"})
    assert result.code == 0, result.output
    report = json.loads((out / "proj-2026-10.json").read_text())
    codes = {f["code"] for f in report["data_quality"]}
    assert "empty_source" in codes


def test_missing_required_column_names_the_closest_header(cli, tmp_path):
    config = cli.default_config()
    config["sources"][0] = {
        "name": "google_ads",
        "type": "csv",
        "path": "data/spend.csv",
        "table": "spend",
        "columns": {"Spend": "cost", "Day": "date"},
        "values": {"channel": "Paid Search"},
    }
    files = {"data/spend.csv": spend_csv("2026-10-01,Brand,20", header="Day,Campaign,Cost")}
    result, out = run_project(cli, tmp_path, config, files=files)
    line = cli.assert_rejected(result, out, "spend.csv", "did you mean 'Cost'?")
    assert "'cost'" in line and "'Spend'" in line


@pytest.mark.parametrize("value", ["1.2.3", "N/A", "--", "12,34,5"])
def test_unparseable_number_in_a_required_column(cli, tmp_path, value):
    content = spend_csv("2026-10-01,Email,5", f'2026-10-02,Email,"{value}"', "2026-10-03,Email,7")
    result, out = run_project(cli, tmp_path, files={"data/spend.csv": content})
    line = cli.assert_rejected(result, out, "spend.csv", value)
    assert re.search(r"\brow 3\b", line) and "'cost'" in line, line


def test_mixed_date_formats_in_one_column(cli, tmp_path):
    content = spend_csv(
        "2026-10-01,Email,5", "2026-10-02,Email,6", "Oct 3, 2026,Email,7".replace("Oct 3, 2026", '"Oct 3, 2026"')
    )
    result, out = run_project(cli, tmp_path, files={"data/spend.csv": content})
    line = cli.assert_rejected(result, out, "spend.csv", "mixes date formats", "Oct 3, 2026")
    assert re.search(r"\brow 4\b", line) and "'date'" in line, line


def test_negative_cost(cli, tmp_path):
    content = spend_csv("2026-10-01,Email,5", "2026-10-02,Email,-6.5")
    result, out = run_project(cli, tmp_path, files={"data/spend.csv": content})
    line = cli.assert_rejected(result, out, "spend.csv", "negative", "-6.5")
    assert re.search(r"\brow 3\b", line) and "'cost'" in line, line


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, bytes(range(256)) * 16, b"PK\x03\x04" + b"\x00" * 200],
    ids=["png", "random-bytes", "xlsx-renamed"],
)
def test_binary_file_named_csv(cli, tmp_path, content):
    result, out = run_project(cli, tmp_path, files={"data/spend.csv": content})
    line = cli.assert_rejected(result, out, "spend.csv")
    assert "not a CSV text file" in line


# ---------------------------------------------------------------- loaded, with what changed counted


def test_totals_and_subtotal_rows_are_dropped_and_counted(tmp_path):
    content = spend_csv(
        "2026-10-01,Email,5",
        "2026-10-02,Email,6",
        "Subtotal,Email,11",
        "2026-10-03,Display,7",
        "Total,,18",
        '"Grand Totals (3 records)",,18',
    )
    frame, loaded = load(tmp_path, "spend.csv", content)
    assert list(frame["cost"]) == [5.0, 6.0, 7.0]
    totals = next(f for f in loaded.findings if f.code == "totals_rows_dropped")
    assert totals.count == 3 and "row 4 'Subtotal'" in totals.message
    assert loaded.rows_read == 6 and loaded.rows == 3


def test_placeholders_in_optional_columns_are_missing_and_counted(tmp_path):
    content = spend_csv(
        "2026-10-01,Email,5,--", "2026-10-02,Email,6,N/A", "2026-10-03,Email,7,120", header="date,channel,cost,clicks"
    )
    frame, loaded = load(tmp_path, "spend.csv", content)
    assert frame["clicks"].isna().sum() == 2
    finding = next(f for f in loaded.findings if f.code == "placeholder_values")
    assert finding.count == 2 and "clicks" in finding.message


def test_dates_outside_the_report_period_are_kept(tmp_path):
    content = spend_csv("2025-10-01,Email,5", "2026-09-30,Email,6", "2026-10-01,Email,7", "2027-01-01,Email,8")
    frame, _ = load(tmp_path, "spend.csv", content)
    assert len(frame) == 4
    finding = rows_outside_period({"spend": frame}, pd.Timestamp("2026-10-01"), pd.Timestamp("2026-11-01"))
    assert finding is not None and finding.count == 3 and finding.severity == "info"


def test_duplicate_rows_are_dropped_and_counted(tmp_path):
    content = spend_csv("2026-10-01,Email,5", "2026-10-02,Email,6", "2026-10-01,Email,5", "2026-10-01,Email,5")
    frame, loaded = load(tmp_path, "spend.csv", content)
    assert list(frame["cost"]) == [5.0, 6.0]
    finding = next(f for f in loaded.findings if f.code == "duplicate_rows")
    assert finding.count == 2 and "rows 4, 5" in finding.message and finding.severity == "warning"


def test_rows_differing_in_a_column_not_read_are_not_duplicates(tmp_path):
    content = spend_csv("2026-10-01,Email,5,A", "2026-10-01,Email,5,B", header="date,channel,cost,ad_group")
    frame, loaded = load(tmp_path, "spend.csv", content)
    assert len(frame) == 2 and not any(f.code == "duplicate_rows" for f in loaded.findings)


def test_duplicates_can_be_kept_or_refused(tmp_path):
    content = spend_csv("2026-10-01,Email,5", "2026-10-01,Email,5")
    frame, _ = load(tmp_path, "spend.csv", content, options={"duplicates": "keep"})
    assert len(frame) == 2
    with pytest.raises(DataError, match=r"row 3: 1 rows repeat an earlier row"):
        load(tmp_path, "spend.csv", content, options={"duplicates": "error"})


def test_error_wording_is_one_line(tmp_path):
    with pytest.raises(DataError) as info:
        load(tmp_path, "spend.csv", spend_csv("2026-10-01,Email,abc"))
    assert "\n" not in str(info.value)
    assert str(info.value).endswith("cannot read 'abc' as a number")


# ---------------------------------------------------------------- a file larger than memory should need

STREAM_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from roistory.config import config_from_dict
    from roistory.plugin_manager import build_registry
    from roistory.sources import load_sources
    path = Path(sys.argv[1])
    start = time.perf_counter()
    config = config_from_dict({"report": {"period": "2026-10"}, "sources": [{"name": "big", "type": "csv",
        "path": str(path), "table": "spend", "columns": {"Day": "date", "Channel": "channel", "Cost": "cost"}}]},
        path=path.parent / "report.yaml")
    tables, inputs = load_sources(config, build_registry().sources)
    print(json.dumps({"rows": len(tables["spend"]), "seconds": time.perf_counter() - start,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "frame": int(tables["spend"].memory_usage(deep=True).sum()), "cost": float(tables["spend"]["cost"].sum())}))
    """
)


def write_wide_export(path: Path, target_bytes: int, block_rows: int = 400_000) -> int:
    """A Google Ads-like export: three columns read, twelve not; every row distinct. Written
    block by block with numpy (fixed-width lines), so 2 GB take seconds, not minutes."""
    import numpy as np

    header = "Day,Channel,Cost,Ad ID," + ",".join(f"Extra {i}" for i in range(11)) + "\n"
    template = (
        "2026-10-DD,Paid Search,CCCCC.CC,IIIIIIIIIII," + ",".join(["Lorem ipsum dolor sit"] * 11) + "\n"
    ).encode()
    base = np.frombuffer(template, dtype=np.uint8)
    day, cost, ident = template.index(b"DD"), template.index(b"CCCCC"), template.index(b"IIIIIIIIIII")
    written, rows = 0, 0
    with path.open("wb") as out:
        out.write(header.encode())
        written += len(header)
        while written < target_bytes:
            n = min(block_rows, (target_bytes - written) // len(template) + 1)
            block = np.tile(base, (n, 1))
            ids = np.arange(rows, rows + n, dtype=np.int64)
            for k in range(11):
                block[:, ident + 10 - k] = 48 + (ids // 10**k) % 10
            days = 1 + ids % 28
            block[:, day], block[:, day + 1] = 48 + days // 10, 48 + days % 10
            cents = (ids * 7919) % 10_000_000
            for i, position in enumerate(reversed([cost + j for j in (0, 1, 2, 3, 4, 6, 7)])):
                block[:, position] = 48 + (cents // 10**i) % 10
            out.write(block.tobytes())
            written += block.size
            rows += n
    return rows


def test_a_2_gb_file_is_streamed_with_bounded_memory(tmp_path):
    """2 GB of CSV, loaded in a fresh process: peak memory stays well under the file's size
    (blocks of 64 MB are parsed one at a time; the columns not read are freed)."""
    path = tmp_path / "google_ads_2gb.csv"
    rows = write_wide_export(path, 2 * 1024**3)
    size = path.stat().st_size
    # CPU seconds of the loading process, not wall time: under pytest -n 2 on a shared
    # machine the wall clock measures the neighbours as much as the loader
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", STREAM_SCRIPT, str(path)], capture_output=True, text=True, timeout=600)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (children_after.ru_utime - children_before.ru_utime) + (children_after.ru_stime - children_before.ru_stime)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    path.unlink()
    assert result["rows"] == rows
    assert result["peak_rss"] < 0.6 * size, f"peak {result['peak_rss'] / 2**20:.0f} MB for a {size / 2**20:.0f} MB file"
    # the process holds the result (~35 bytes a row) plus a bounded working set, not the file
    assert result["peak_rss"] < result["frame"] + 900 * 2**20, result
    assert cpu < 120, f"loading 2 GB took {cpu:.0f} CPU seconds; it should take well under two minutes"
