"""Not-measurable metrics never appear as 0: not in the JSON, the HTML or the PDF.

The fixture project here lacks the customers and email tables, so CAC, churn,
CLV, payback and every email metric cannot be measured. SPEC: "A metric whose
inputs are missing, or whose denominator is zero, is not measurable, never zero
or infinity: missing inputs are listed in the maturity section with the data
that would unlock them."
"""

from __future__ import annotations

import html as html_lib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

_DATASET = Path(__file__).parent / "fixtures" / "metrics" / "dataset.py"
if "roistory_metric_fixture" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("roistory_metric_fixture", _DATASET)
    sys.modules["roistory_metric_fixture"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["roistory_metric_fixture"])
D = sys.modules["roistory_metric_fixture"]

TABLES = ["spend", "touchpoints", "conversions", "leads", "web", "social"]  # no customers, no email

NOT_MEASURABLE = {
    # customers
    "new_customers": "customers",
    "cac": "customers",
    "customers_at_start": "customers",
    "active_customers": "customers",
    "churned_customers": "customers",
    "churn_rate": "customers",
    "mrr": "customers",
    "avg_mrr": "customers",
    "clv": "customers",
    "clv_to_cac": "customers",
    "payback_months": "customers",
    # email
    "email_sent": "email",
    "email_delivered": "email",
    "email_opens": "email",
    "email_clicks": "email",
    "email_replies": "email",
    "email_unsubscribes": "email",
    "email_bounces": "email",
    "email_delivery_rate": "email",
    "email_open_rate": "email",
    "email_click_rate": "email",
    "email_reply_rate": "email",
    "unsubscribe_rate": "email",
    "email_bounce_rate": "email",
    # custom formulas over them
    "cac_per_lead": "customers",
}
CUSTOM = [
    {"id": "cac_per_lead", "label": "CAC per lead", "formula": "cac / leads", "unit": "currency"},
    {"id": "pipeline_per_dollar", "label": "Pipeline per dollar", "formula": "pipeline / spend"},
    # inputs present, denominator zero: not measurable for every period and segment
    {
        "id": "spend_per_nothing",
        "label": "Spend per nothing",
        "formula": "spend / (leads - leads)",
        "unit": "currency",
    },
]
ZERO_DENOMINATOR = ["spend_per_nothing"]
# "0", "$0", "0.0%", "-0.0%", "0.00×", "+0.0 pts": a number that is zero
ZERO = re.compile(r"^[-+−]?\s?(?:[$€£]\s?)?0(?:[.,]0+)?\s?(?:%|×|x|pts)?$")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("not-measurable")
    config = D.base_config(TABLES)
    config["report"]["formats"] = ["html", "pdf", "json"]
    config["custom_metrics"] = CUSTOM
    config["goals"] = [
        {
            "id": "cac_goal",
            "objective": "CAC under $900",
            "metric": "cac",
            "baseline": 1200,
            "target": 900,
            "deadline": "2026-12-31",
            "owner": "CFO",
        },
    ]
    path = D.write_project(folder / "project", config, tables=TABLES)
    out = folder / "out"
    data, _done = D.run_json(path, out, formats="html,pdf,json")
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    pdf = next(out.glob("*.pdf"))
    pdf_text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return data, html, pdf_text


def _labels() -> dict[str, str]:
    labels = {m.id: m.label for m in D.builtin_registry().metrics.values()}
    labels.update({c["id"]: c["label"] for c in CUSTOM})
    return labels


LABELS = _labels()


def test_fixture_really_lacks_the_tables(outputs):
    data, _html, _pdf = outputs
    assert {i["table"] for i in data["inputs"]} == set(TABLES)


@pytest.mark.parametrize("metric_id", sorted(NOT_MEASURABLE))
def test_absent_from_json_metrics(outputs, metric_id):
    data, _html, _pdf = outputs
    records = [r for r in data["metrics"] if r["id"] == metric_id]
    assert records == [], f"{metric_id} is not measurable without {NOT_MEASURABLE[metric_id]}, JSON has {records[:3]}"


@pytest.mark.parametrize("metric_id", sorted(NOT_MEASURABLE))
def test_listed_in_maturity_with_what_it_needs(outputs, metric_id):
    data, _html, _pdf = outputs
    found = [r for r in data["maturity"] if r["metric"] == metric_id]
    assert len(found) == 1, f"{metric_id} should be listed once in maturity, found {found}"
    record = found[0]
    assert record["measurable"] is False, record
    assert record["needs"], f"{metric_id}: maturity must say which data would unlock it: {record}"
    table = NOT_MEASURABLE[metric_id]
    assert any(table in need for need in record["needs"]), f"{metric_id} needs {table}: {record['needs']}"


def test_measurable_metrics_are_still_reported(outputs):
    data, _html, _pdf = outputs
    ids = {r["id"] for r in data["metrics"] if r["period"] == "current" and not r["segment"]}
    for metric_id in (
        "spend",
        "revenue",
        "roi",
        "leads",
        "cpl",
        "sessions",
        "pipeline_per_dollar",
        "social_mentions",
    ):
        assert metric_id in ids, metric_id


def test_goal_on_a_not_measurable_metric_is_not_zero(outputs):
    data, _html, _pdf = outputs
    goal = next(g for g in data["goals"] if g["id"] == "cac_goal")
    assert goal["actual"] is None and goal["forecast"] is None and goal["progress"] is None, goal
    assert goal["status"] == "not_measurable", goal


def test_no_trend_for_not_measurable_metrics(outputs):
    data, _html, _pdf = outputs
    bad = [t for t in data.get("trends", []) if t["id"] in NOT_MEASURABLE]
    assert bad == [], bad[:3]


# --------------------------------------------------------------------------
# HTML and PDF
# --------------------------------------------------------------------------


def _text_nodes(html: str) -> list[str]:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    body = re.sub(r"<img\b[^>]*>", " ", body, flags=re.I)
    return [html_lib.unescape(t).strip() for t in re.split(r"<[^>]+>", body) if html_lib.unescape(t).strip()]


def test_html_kpi_tiles_never_show_zero_for_not_measurable(outputs):
    _data, html, _pdf = outputs
    tiles = re.findall(
        r'<div class="tile tile-([a-z0-9_]+)">.*?<div class="tile-value">(.*?)</div>',
        html,
        flags=re.S,
    )
    assert tiles, "the report has no KPI tiles"
    for metric_id, value in tiles:
        if metric_id in NOT_MEASURABLE:
            shown = html_lib.unescape(value).strip()
            assert shown == "n/m", f"KPI tile for not-measurable {metric_id} shows {shown!r}"


@pytest.mark.parametrize("metric_id", sorted(NOT_MEASURABLE))
def test_html_never_shows_a_zero_next_to_a_not_measurable_metric(outputs, metric_id):
    """Wherever the metric's label is printed (tiles, tables, goals), the value beside it is not 0."""
    _data, html, _pdf = outputs
    nodes = _text_nodes(html)
    label = LABELS[metric_id]
    bad = []
    for i, node in enumerate(nodes):
        if node == label or node.startswith(label + " ("):  # "CAC (channel: Email)" style labels too
            following = nodes[i + 1 : i + 3]
            bad += [f"{node!r} → {f!r}" for f in following if ZERO.match(f)]
    assert not bad, f"{metric_id} shown as zero in the HTML: {bad}"


def test_html_has_no_nan_or_infinity(outputs):
    _data, html, _pdf = outputs
    text = " ".join(_text_nodes(html))
    assert not re.search(r"\b(nan|NaN|inf|Infinity)\b|∞", text), re.search(
        r".{40}\b(nan|NaN|inf|Infinity)\b.{40}|∞", text
    )


def _zero_near(lines: list[str], label: str) -> list[str]:
    """Zero values right after ``label`` on its line, or just below it (pdftotext -layout keeps columns)."""
    bad = []
    pattern = re.compile(rf"(?<![\w]){re.escape(label)}(?![\w])")
    for i, line in enumerate(lines):
        for match in pattern.finditer(line):
            after = line[match.end() :].strip().split("  ")[0].strip()
            candidates = [after]
            if i + 1 < len(lines):
                below = lines[i + 1][max(0, match.start() - 2) : match.end() + 12].strip().split("  ")[0].strip()
                candidates.append(below)
            bad += [f"line {i + 1}: {line.strip()!r} → {c!r}" for c in candidates if c and ZERO.match(c)]
    return bad


@pytest.mark.parametrize("metric_id", sorted(NOT_MEASURABLE))
def test_pdf_never_shows_a_zero_next_to_a_not_measurable_metric(outputs, metric_id):
    _data, _html, pdf_text = outputs
    assert pdf_text.strip(), "pdftotext found no text"
    bad = _zero_near(pdf_text.splitlines(), LABELS[metric_id])
    assert not bad, f"{metric_id} shown as zero in the PDF: {bad}"


def test_pdf_and_html_list_what_is_not_measurable(outputs):
    """The maturity section names the missing data (customers, email) in both outputs."""
    _data, html, pdf_text = outputs
    text = " ".join(_text_nodes(html))
    for output in (text, pdf_text):
        assert "n/m" in output or "Not measurable" in output
        assert "customers" in output and "email" in output


def test_pdf_kpis_show_no_zero_dollar_tiles(outputs):
    """Every headline figure in this data set is measurable and non-zero, or not measurable:
    a '$0' in the PDF (outside a chart's axis ticks) is a not-measurable value printed as zero."""
    _data, _html, pdf_text = outputs
    money = re.compile(r"(?<![\d.,])\$[\d.,]+K?")
    zeros = [
        line.strip()
        for line in pdf_text.splitlines()
        if re.search(r"(?<![\d.,])\$0(?![\d.,])", line) and len(money.findall(line)) < 3  # 3+: axis ticks
    ]
    assert not zeros, f"'$0' printed in the PDF: {zeros[:5]}"


@pytest.mark.parametrize("metric_id", ZERO_DENOMINATOR)
def test_zero_denominator_is_omitted_and_listed_with_a_reason(outputs, metric_id):
    data, html, pdf_text = outputs
    assert [r for r in data["metrics"] if r["id"] == metric_id] == []
    record = next((r for r in data["maturity"] if r["metric"] == metric_id), None)
    assert record is not None and record["measurable"] is False, record
    assert record.get("reason") or record.get("needs"), f"say why {metric_id} is not measurable: {record}"
    label = next(c["label"] for c in CUSTOM if c["id"] == metric_id)
    nodes = _text_nodes(html)
    for i, node in enumerate(nodes):
        if node == label:
            assert not any(ZERO.match(f) for f in nodes[i + 1 : i + 3]), nodes[i : i + 3]
    assert not _zero_near(pdf_text.splitlines(), label)
