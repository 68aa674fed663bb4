"""Marketing's claim on the forecast: open pipeline × the stage's historical close rate,
placed by the stage's median time to close — recomputed here with pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from roistory.config import load_config
from roistory.pipeline import build_report
from roistory.testing import (
    make_conversions,
    make_spend,
    make_touchpoints,
    render_report,
    write_project,
)

EXAMPLE = Path(__file__).parent.parent / "examples" / "acme" / "report.yaml"


def crafted_leads() -> pd.DataFrame:
    """Three opportunities won after 30, 45 and 60 days and one lost (close rate 75%, median 45
    days); two open opportunities (1,000 and 2,000); one open deal from a non-marketing source."""
    rows = [
        ("W1", "Email", "2026-01-02", "2026-01-05", "2026-02-04", None, 500.0),
        ("W2", "Paid Search", "2026-01-02", "2026-01-10", "2026-02-24", None, 700.0),
        ("W3", "Paid Social", "2026-01-02", "2026-01-15", "2026-03-16", None, 900.0),
        ("X1", "Email", "2026-01-02", "2026-01-20", None, "2026-02-20", 400.0),
        ("O1", "Email", "2026-03-01", "2026-03-25", None, None, 1000.0),  # + 45 days: 2026-05-09
        ("O2", "Paid Search", "2026-02-01", "2026-03-01", None, None, 2000.0),  # + 45 days: 2026-04-15
        ("P1", "Partner", "2026-02-01", "2026-03-01", None, None, 5000.0),  # not marketing-sourced
    ]
    frame = pd.DataFrame(
        rows, columns=["lead_id", "source_channel", "created_at", "opportunity_at", "won_at", "lost_at", "amount"]
    )
    return frame


def test_the_crafted_pipeline_forecast_by_hand(tmp_path):
    tables = {
        "spend": make_spend(),
        "touchpoints": make_touchpoints(),
        "conversions": make_conversions(),
        "leads": crafted_leads(),
    }
    rendered = render_report(write_project(tmp_path, tables, config={"sections": ["forecast"]}))
    forecast = rendered.json["forecast"]
    assert [(f["period"], f["expected_revenue"]) for f in forecast] == [
        ("2026-04", pytest.approx(0.75 * 2000)),
        ("2026-05", pytest.approx(0.75 * 1000)),
    ]
    assert "close rate" in forecast[0]["method"]
    assert rendered.report.forecast.total == pytest.approx(0.75 * 3000)
    assert "$2,250" in rendered.html and "3 won of 4 resolved" in rendered.html


def _pandas_forecast(tables: dict[str, pd.DataFrame], period_end: str) -> pd.Series:
    """The rule of core/forecast.py written again, lead by lead."""
    end = pd.Timestamp(period_end) + pd.Timedelta(days=1)
    history_start = pd.Timestamp(period_end).to_period("M").to_timestamp() - pd.DateOffset(months=12)
    channels = set()
    for name in ("spend", "touchpoints", "web"):
        if name in tables and "channel" in tables[name]:
            channels |= set(tables[name]["channel"].dropna())
    leads = tables["leads"]
    leads = leads[leads["source_channel"].isin(channels) & leads["amount"].notna()]
    stages = [("opportunity_at"), ("sql_at"), ("mql_at"), ("created_at")]

    def before_end(column):
        return leads[column].notna() & (leads[column] < end)

    won, lost = before_end("won_at"), before_end("lost_at")
    resolved = (won & (leads["won_at"] >= history_start)) | (lost & (leads["lost_at"] >= history_start))
    rate, lag = {}, {}
    for column in stages:
        cohort = before_end(column) & resolved
        rate[column] = (cohort & won).sum() / cohort.sum() if cohort.sum() else None
        lag[column] = (leads.loc[cohort & won, "won_at"] - leads.loc[cohort & won, column]).dt.days.median()
    expected: dict[str, float] = {}
    first = end.to_period("M")
    for _, lead in leads[~won & ~lost].iterrows():
        stage = next((c for c in stages if pd.notna(lead[c]) and lead[c] < end), None)
        if stage is None or rate[stage] is None:
            continue
        month = max((lead[stage] + pd.Timedelta(days=lag[stage] if pd.notna(lag[stage]) else 0)).to_period("M"), first)
        expected[str(month)] = expected.get(str(month), 0.0) + lead["amount"] * rate[stage]
    return pd.Series(expected).sort_index()


def test_the_example_forecast_equals_open_pipeline_times_close_rate():
    report = build_report(load_config(EXAMPLE), write_history=False)
    expected = _pandas_forecast(dict(report.tables), "2026-10-31")
    assert report.forecast is not None and len(expected) > 0
    got = pd.Series(dict(report.forecast.months))
    pd.testing.assert_series_equal(got, expected[expected != 0], check_names=False, rtol=1e-9)
    assert report.forecast.total == pytest.approx(expected.sum())


def test_no_forecast_without_lost_dates(tmp_path):
    """A lead never marked lost would count as open forever: no forecast rather than a guess."""
    leads = crafted_leads().drop(columns=["lost_at"])
    tables = {
        "spend": make_spend(),
        "touchpoints": make_touchpoints(),
        "conversions": make_conversions(),
        "leads": leads,
    }
    rendered = render_report(write_project(tmp_path, tables, config={"sections": ["summary", "forecast"]}))
    assert rendered.json["forecast"] == []
    assert "Marketing&#39;s claim on the forecast" not in rendered.html and "claim on the forecast" not in rendered.html
