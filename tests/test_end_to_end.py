"""The bundled example, rendered as a user would, checked against numbers computed here
from the example CSVs with pandas alone (no roistory code)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "acme" / "data"
START, END = pd.Timestamp("2026-10-01"), pd.Timestamp("2026-11-01")


def _in_period(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    values = pd.to_datetime(frame[column])
    return frame[(values >= START) & (values < END)]


def expected_spend() -> dict[str, float]:
    """Spend per channel, reading each export with its own headers."""
    exports = {
        "Paid Search": ("google_ads.csv", "Day", "Cost"),
        "Paid Social": ("meta_ads.csv", "Reporting starts", "Amount spent (USD)"),
        "LinkedIn Ads": ("linkedin_ads.csv", "Start Date (in UTC)", "Total Spent"),
    }
    spend = {ch: float(_in_period(pd.read_csv(EXAMPLE / f), d)[c].sum()) for ch, (f, d, c) in exports.items()}
    other = _in_period(pd.read_csv(EXAMPLE / "other_spend.csv"), "date")
    spend.update(other.groupby("channel")["cost"].sum().astype(float).to_dict())
    return spend


def expected_linear_revenue(channel: str) -> float:
    """Linear attribution, written out: each conversion's touches strictly before it,
    since the person's previous conversion, within 90 days (no gap in the example exceeds
    the 180-day dormancy rule within a lookback window), share its revenue equally."""
    touches = pd.read_csv(EXAMPLE / "touchpoints.csv", parse_dates=["timestamp"])
    conversions = pd.read_csv(EXAMPLE / "conversions.csv", parse_dates=["timestamp"])
    by_person = {p: g.sort_values("timestamp") for p, g in touches.groupby("person_id")}
    all_conv = conversions.sort_values("timestamp")
    total = 0.0
    for row in _in_period(conversions, "timestamp").itertuples():
        own = by_person.get(row.person_id)
        if own is None:
            continue
        earlier = all_conv[(all_conv.person_id == row.person_id) & (all_conv.timestamp < row.timestamp)]
        since = earlier.timestamp.max() if len(earlier) else pd.Timestamp.min
        window = own[
            (own.timestamp < row.timestamp)
            & (own.timestamp >= since)
            & (own.timestamp >= row.timestamp - pd.Timedelta(days=90))
        ]
        if len(window):
            total += row.revenue * (window.channel == channel).sum() / len(window)
    return total


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "roistory.cli", "demo", "--out", str(out)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split()
    paths = {Path(p).suffix[1:]: Path(p) for p in printed}
    assert set(paths) == {"html", "pdf", "json"}
    data = json.loads(paths["json"].read_text())
    text = subprocess.run(
        ["pdftotext", "-layout", str(paths["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    return {"paths": paths, "json": data, "pdf_text": text, "out": out}


def metric(data, metric_id, segment=None, period="current"):
    hits = [
        m["value"]
        for m in data["metrics"]
        if m["id"] == metric_id and m["period"] == period and m["segment"] == (segment or {})
    ]
    assert len(hits) == 1, (metric_id, segment, period)
    return hits[0]


def test_totals_match_pandas(demo):
    spend = sum(expected_spend().values())
    conversions = _in_period(pd.read_csv(EXAMPLE / "conversions.csv"), "timestamp")
    revenue = float(conversions["revenue"].sum())
    roi = (revenue - spend) / spend
    data = demo["json"]
    assert metric(data, "spend") == pytest.approx(spend, abs=0.01)
    assert metric(data, "revenue") == pytest.approx(revenue, abs=0.01)
    assert metric(data, "roi") == pytest.approx(roi, rel=1e-9)
    text = demo["pdf_text"]
    assert f"${spend:,.0f}" in text
    assert f"${revenue:,.0f}" in text
    assert f"ROI of {roi * 100:,.1f}%" in text


def test_one_channel_matches_pandas(demo):
    channel = "LinkedIn Ads"
    spend = expected_spend()[channel]
    revenue = expected_linear_revenue(channel)
    roi = (revenue - spend) / spend
    data = demo["json"]
    segment = {"channel": channel}
    assert metric(data, "spend", segment) == pytest.approx(spend, abs=0.01)
    assert metric(data, "revenue", segment) == pytest.approx(revenue, rel=1e-9)
    assert metric(data, "roi", segment) == pytest.approx(roi, rel=1e-9)
    rows = [line for line in demo["pdf_text"].splitlines() if line.strip().startswith(channel)]
    assert any(f"${spend:,.0f}" in r and f"${revenue:,.0f}" in r and f"{roi * 100:,.1f}%" in r for r in rows), rows


MARGIN = 0.62  # a gross margin other than 1: ROI = (revenue × margin − spend) / spend


@pytest.fixture(scope="module")
def with_margin(tmp_path_factory):
    """The example with report.margin 0.62, JSON only, run as a user would."""
    import shutil

    import yaml

    project = tmp_path_factory.mktemp("margin") / "acme"
    shutil.copytree(EXAMPLE.parent, project, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    config = yaml.safe_load((project / "report.yaml").read_text(encoding="utf-8"))
    config["report"].update({"margin": MARGIN, "formats": ["json"]})
    (project / "report.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    out = project.parent / "out"
    result = subprocess.run(
        [sys.executable, "-m", "roistory.cli", "run", str(project / "report.yaml"), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    report = next(p for p in out.glob("*.json") if not p.name.endswith(".manifest.json"))
    return json.loads(report.read_text())


def test_roi_with_a_margin_matches_pandas(with_margin):
    """ROI counts the margin on revenue, not on profit after spend: with margin 0.62 the
    total and one channel's ROI are (revenue × 0.62 − spend) / spend, recomputed here."""
    spend_by_channel = expected_spend()
    spend = sum(spend_by_channel.values())
    revenue = float(_in_period(pd.read_csv(EXAMPLE / "conversions.csv"), "timestamp")["revenue"].sum())
    assert metric(with_margin, "roi") == pytest.approx((revenue * MARGIN - spend) / spend, rel=1e-9)
    assert metric(with_margin, "roas") == pytest.approx(revenue / spend, rel=1e-9)  # ROAS has no margin
    channel = "LinkedIn Ads"
    channel_spend, channel_revenue = spend_by_channel[channel], expected_linear_revenue(channel)
    assert metric(with_margin, "roi", {"channel": channel}) == pytest.approx(
        (channel_revenue * MARGIN - channel_spend) / channel_spend, rel=1e-9
    )


def test_json_has_the_spec_shape(demo):
    data = demo["json"]
    spec_keys = {
        "roistory_version",
        "report",
        "inputs",
        "metrics",
        "attribution",
        "goals",
        "maturity",
        "data_quality",
        "forecast",
        "drivers",
        "narrative",
        "recommendations",
    }  # SPEC "Additions"
    # documented extensions (incrementality: docs/incrementality.md)
    assert set(data) - spec_keys == {"maturity_level", "trends", "incrementality"}
    assert spec_keys <= set(data)
    assert data["report"]["period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    assert {i["source"] for i in data["inputs"]} >= {"google_ads", "touchpoints", "conversions"}
    assert all(len(i["sha256"]) == 64 for i in data["inputs"])
    assert {m["period"] for m in data["metrics"]} == {"current", "previous", "year_ago"}
    models = {a["model"] for a in data["attribution"]}
    assert models == {
        "first_touch",
        "last_touch",
        "last_non_direct",
        "linear",
        "time_decay",
        "position_based",
        "markov",
        "shapley",
    }
    conversions = len(_in_period(pd.read_csv(EXAMPLE / "conversions.csv"), "timestamp"))
    for model in models:
        rows = [a for a in data["attribution"] if a["model"] == model and "channel" in a["segment"]]
        assert sum(r["conversions"] for r in rows) == pytest.approx(conversions)


def test_pdf_is_a_board_report(demo):
    pdf = demo["paths"]["pdf"]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert "595.276 x 841.89" in info  # A4
    assert pages >= 4
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Acme Analytics" in first and "October 2026" in first
    second = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(pdf), "-"], capture_output=True, text=True).stdout
    assert re.search(rf"\b2\s*/\s*{pages}\b", second)  # page numbers in the footer
    assert "Acme Analytics — Marketing Performance" in second  # title in the footer
    for heading in ("Summary", "Key figures", "Channels", "Attribution", "Data quality", "Definitions"):
        assert heading in demo["pdf_text"]
    html = demo["paths"]["html"].read_text()
    assert "data:image/svg+xml;base64," in html  # vector charts, inline
    assert "<link" not in html and 'src="http' not in html  # self-contained


def test_manifest_records_inputs_and_versions(demo):
    manifest = json.loads(next(demo["out"].glob("*.manifest.json")).read_text())
    assert manifest["roistory_version"]
    assert any(p["name"] == "core_metrics" for p in manifest["plugins"])
    sources = {i["source"]: i for i in manifest["inputs"]}
    touchpoints = pd.read_csv(EXAMPLE / "touchpoints.csv")
    assert sources["touchpoints"]["rows"] == len(touchpoints)


def test_the_pdf_states_the_forecast_and_customer_economics(demo):
    """The forecast total and CLV printed in the PDF are the JSON's numbers."""
    text = demo["pdf_text"]
    total = sum(f["expected_revenue"] for f in demo["json"]["forecast"])
    assert total > 0 and f"${total:,.0f} of revenue after October 2026" in " ".join(text.split())
    clv = next(
        m["value"]
        for m in demo["json"]["metrics"]
        if m["id"] == "clv" and not m["segment"] and m["period"] == "current"
    )
    assert "Customer economics" in text and f"${clv:,.0f}" in text
