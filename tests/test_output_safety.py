"""What reaches the outputs from the data is inert: CSV cells a spreadsheet would run are
defused, and markup in any data value is escaped in the HTML."""

from __future__ import annotations

import csv
import io

import pytest

from roistory.safety import csv_safe

FORMULAS = ['=HYPERLINK("http://x.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tTab", "\rReturn"]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_cells_get_a_leading_quote(value):
    assert csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["Email", "Paid Search", "", "a=b", "x-y", 3.5, -3.5])
def test_other_cells_are_unchanged(value):
    assert csv_safe(value) == value


def test_attribute_csv_defuses_formula_channels(cli, tmp_path):
    names = ['=HYPERLINK("http://evil.example")', "+cmd|calc", "@SUM(A1)", "-1+1", "Email"]
    rows = ["person_id,timestamp,channel,conversion,revenue"]
    for i, name in enumerate(names):
        quoted = '"' + name.replace('"', '""') + '"'
        rows.append(f"P{i},2026-10-0{i + 1}T10:00:00,{quoted},1,100")
    (tmp_path / "sessions.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = cli.run("attribute", "sessions.csv", "--model", "last_touch", "--format", "csv", cwd=tmp_path)
    assert result.code == 0, result.output
    cells = [row[1] for row in csv.reader(io.StringIO(result.stdout))][1:]
    assert sorted(cells) == sorted(["'" + n if n[0] in "=+-@" else n for n in names])
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_markup_in_every_data_value_is_escaped_in_the_html(cli, tmp_path):
    """Channel, source channel, title, client, goal objective and owner, custom metric label
    (and campaigns, which this report does not show): each carries markup; none reaches
    the HTML as markup, and each is shown escaped (so the check is not vacuous)."""
    tag = lambda name: f"{name}{MARKUP}"  # noqa: E731
    files = {
        "data/spend.csv": (
            "date,channel,campaign,cost,impressions,clicks\n"
            f'2026-09-03,"{tag("chan-a")}","{tag("camp-a")}",90.00,900,30\n'
            f'2026-10-01,"{tag("chan-a")}","{tag("camp-a")}",120.50,1000,40\n'
            f'2026-10-02,Email,"{tag("camp-b")}",20.00,600,30\n'
        ),
        "data/touchpoints.csv": (
            "person_id,timestamp,channel,campaign\n"
            f'P1,2026-10-01T10:00:00,"{tag("chan-a")}","{tag("camp-a")}"\n'
            f'P2,2026-10-02T11:00:00,Email,"{tag("camp-b")}"\n'
        ),
        "data/conversions.csv": "person_id,timestamp,revenue\nP1,2026-10-05T12:00:00,500\nP2,2026-10-06T12:00:00,250\n",
        "data/leads.csv": (
            "lead_id,created_at,person_id,source_channel,mql_at,sql_at\n"
            f'L1,2026-10-01,P1,"{tag("lead-chan")}",2026-10-02,2026-10-04\n'
        ),
    }
    config = cli.default_config()
    config["report"].update(title=tag("title"), client=tag("client"), formats=["html"])
    config["custom_metrics"] = [{"id": "rev_per_spend", "label": tag("label"), "formula": "revenue / spend"}]
    config["goals"] = [
        {
            "id": "g1",
            "objective": tag("objective"),
            "metric": "revenue",
            "baseline": 100,
            "target": 2000,
            "deadline": "2026-12-31",
            "owner": tag("owner"),
        }
    ]
    project = cli.write_project(tmp_path / "proj", config, files=files)
    out = tmp_path / "out"
    result = cli.run("run", project, "--out", out, cwd=tmp_path)
    assert result.code == 0, result.output
    (html_file,) = out.glob("*.html")
    html = html_file.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html and "onerror=alert(1)>" not in html
    for name in ("chan-a", "lead-chan", "title", "client", "objective", "owner", "label"):
        assert f"{name}&lt;script&gt;" in html, f"{name} did not reach the HTML (the check would be empty)"
