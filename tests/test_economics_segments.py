"""Customer economics (CLV from a 12-month churn window) and the segments beyond channel,
recomputed here with pandas from the example's tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from roistory.config import load_config
from roistory.pipeline import build_report
from roistory.render import write_report

EXAMPLE = Path(__file__).parent.parent / "examples" / "acme" / "report.yaml"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    report = build_report(load_config(EXAMPLE), write_history=False)
    paths = write_report(report, tmp_path_factory.mktemp("out"), ["html"])
    return report, paths["html"].read_text(encoding="utf-8")


def monthly_churn(customers: pd.DataFrame, last_month: str, months: int = 12) -> tuple[float, float]:
    """(customers churned, customer-months at risk) over the window, month by month."""
    churned = at_risk = 0
    for month in pd.period_range(end=last_month, periods=months, freq="M"):
        first, after = month.start_time, (month + 1).start_time
        risk = (customers["start_date"] < first) & (customers["end_date"].isna() | (customers["end_date"] >= first))
        at_risk += int(risk.sum())
        churned += int((risk & (customers["end_date"] < after)).sum())
    return churned, at_risk


def test_clv_divides_by_the_twelve_month_average_churn(example):
    report, _ = example
    customers = pd.read_csv(EXAMPLE.parent / "data" / "customers.csv", parse_dates=["start_date", "end_date"])
    churned, at_risk = monthly_churn(customers, "2026-10")
    assert report.value("monthly_churn_rate") == pytest.approx(churned / at_risk)
    day = pd.Timestamp("2026-10-31")
    active = customers[
        (customers["start_date"] <= day) & (customers["end_date"].isna() | (customers["end_date"] > day))
    ]
    margin = report.config.report.margin
    assert report.value("clv") == pytest.approx(active["mrr"].mean() * margin / (churned / at_risk))
    # not one month's churn: October alone gives another number
    assert report.value("churn_rate") != pytest.approx(churned / at_risk)


def test_economics_tiles_and_the_stated_window(example):
    report, html = example
    section = (
        html[html.index('id="economics"') :] if 'id="economics"' in html else html[html.index("Customer economics") :]
    )
    for label in ("Customer lifetime value", "CLV : CAC", "CAC payback", "Monthly churn (12-month average)"):
        assert label in section
    assert report.formatter.money(report.value("clv")) in section
    assert "over the 12 months November 2025 – October 2026" in section


def test_top_campaigns_are_ranked_by_revenue_with_their_spend(example):
    report, html = example
    revenue = report.value("revenue", dimension="campaign").drop(index=["(not set)"], errors="ignore")
    revenue = revenue.sort_values(ascending=False)  # touches without a campaign are not a campaign
    spend = report.tables["spend"]
    october = spend[(spend["date"] >= "2026-10-01") & (spend["date"] <= "2026-10-31")]
    spend_by_campaign = october.groupby("campaign")["cost"].sum()
    table = html[html.index('class="data segments segments-campaign"') :]
    table = table[: table.index("</table>")]
    rows = [cell.split("</th>")[0] for cell in table.split('<th scope="row">')[1:]]
    assert rows == [str(c) for c in revenue.index[:5]]
    assert report.formatter.money(spend_by_campaign[rows[0]]) in table.split('<th scope="row">')[1]
    assert f"Ranked by Revenue; 5 of {revenue.notna().sum()} shown." in html
