# -- start imports --
"""Tests for roistory-crm-csv. Run after ``pip install -e '.[test]'``: ``pytest``.

The ``roistory_pm`` fixture comes from ``roistory.testing``, which roistory
installs as a pytest plugin.
"""

import shutil
from pathlib import Path

import pandas as pd
import pytest
from roistory.api import DataError
from roistory.testing import make_leads, make_spend, plugin_registry, render_report, write_project

DEALS = Path(__file__).parent / "data" / "deals.csv"
# -- end imports --


# -- start project --
def crm_project(tmp_path, deals=DEALS, **options):
    """A report project for October 2026 reading ``deals`` with the crm_csv source."""
    shutil.copy(deals, tmp_path / "deals.csv")
    source = {"name": "crm", "type": "crm_csv", "path": "deals.csv", "table": "leads"}
    if options:
        source["options"] = options
    return write_project(tmp_path, {}, sources=[source], period="2026-10")


# -- end project --


# -- start installed --
def test_plugin_is_installed(roistory_pm):
    registry = plugin_registry(roistory_pm)
    assert registry.provider("source", "crm_csv") == "crm_csv"
    assert registry.provider("metric", "crm_win_rate") == "crm_csv"


# -- end installed --


# -- start revenue --
def test_won_deals_in_the_period_are_revenue(tmp_path, roistory_pm):
    rendered = render_report(crm_project(tmp_path), formats=["json"], pm=roistory_pm)

    # won in October 2026: deals 9002, 9004, 9006 and 9007
    assert rendered.metric("revenue") == pytest.approx(12_500 + 3_750.50 + 1_249.99 + 22_000)
    # closed in October 2026: those four won, 9003 and 9009 lost
    assert rendered.metric("crm_win_rate") == pytest.approx(4 / 6)
    assert rendered.metric("crm_win_rate", segment={"channel": "Paid Social"}) == 0.5


# -- end revenue --


# -- start errors --
@pytest.mark.parametrize(
    "amount, message",
    [("twelve", "cannot read 'twelve' as an amount"), ("$1.000,00", "cannot read '\\$1.000,00'")],
)
def test_bad_amount_names_file_line_and_column(tmp_path, roistory_pm, amount, message):
    deals = tmp_path / "export.csv"
    text = DEALS.read_text().splitlines()
    text[2] = text[2].replace('"$12,500.00"', f'"{amount}"')
    deals.write_text("\n".join(text) + "\n")

    with pytest.raises(DataError, match=rf"deals\.csv, row 3, column 'Amount': {message}"):
        render_report(crm_project(tmp_path, deals), formats=["json"], pm=roistory_pm)


# -- end errors --


# -- start more --
# -- start factories --
def test_win_rate_from_canonical_leads(tmp_path, roistory_pm):
    # make_leads(): L1-L3 won in March 2026; L4, from Paid Social, lost
    config = write_project(tmp_path, {"spend": make_spend(), "leads": make_leads()})
    rendered = render_report(config, formats=["json"], pm=roistory_pm)

    assert rendered.metric("crm_win_rate") == 0.75
    assert rendered.metric("crm_win_rate", segment={"channel": "Paid Social"}) == 0.5
    assert rendered.metric("crm_win_rate", segment={"channel": "Email"}) == 1.0
# -- end factories --


def test_us_dates_stages_and_amounts(tmp_path, roistory_pm):
    rendered = render_report(crm_project(tmp_path), formats=["json"], pm=roistory_pm)
    leads = rendered.report.tables["leads"].set_index("lead_id")

    won, lost, open_deal = leads.loc["9002"], leads.loc["9003"], leads.loc["9005"]
    assert (str(won["created_at"].date()), str(won["won_at"].date())) == (
        "2026-09-02",
        "2026-10-03",
    )
    assert won["amount"] == 12_500.0 and won["person_id"] == "502"
    assert won["source_channel"] == "Email Marketing"
    assert str(lost["lost_at"].date()) == "2026-10-08" and pd.isna(lost["won_at"])
    assert pd.isna(open_deal["won_at"]) and pd.isna(open_deal["lost_at"])
    assert pd.isna(leads.loc["9008", "email"]) and pd.isna(leads.loc["9008", "amount"])


def test_stage_names_are_options(tmp_path, roistory_pm):
    config = crm_project(tmp_path, won_stage="closed lost", lost_stage="-")
    rendered = render_report(config, formats=["json"], pm=roistory_pm)
    assert rendered.metric("revenue") == 4_200 + 6_100  # deals 9003 and 9009


def test_bad_date_and_unknown_option(tmp_path, roistory_pm):
    with pytest.raises(DataError, match=r"row 2, column 'Create Date': cannot read '08/28/2026'"):
        render_report(
            crm_project(tmp_path, date_format="%d.%m.%Y"), formats=["json"], pm=roistory_pm
        )
    with pytest.raises(DataError, match="unknown crm_csv option 'currency'"):
        render_report(crm_project(tmp_path, currency="EUR"), formats=["json"], pm=roistory_pm)


def test_a_channel_that_only_lost_wins_zero_percent(tmp_path, roistory_pm):
    leads = make_leads(
        won_at=["2026-03-06", None, "2026-03-11", None],
        lost_at=[None, "2026-03-09", None, "2026-03-20"],
    )
    config = write_project(tmp_path, {"leads": leads})
    rendered = render_report(config, formats=["json"], pm=roistory_pm)

    assert rendered.metric("crm_win_rate", segment={"channel": "Paid Social"}) == 0.0
    assert rendered.metric("crm_win_rate") == 0.5


def test_win_rate_needs_lost_deals(tmp_path, roistory_pm):
    config = write_project(tmp_path, {"spend": make_spend(), "leads": make_leads(lost_at=None)})
    rendered = render_report(config, formats=["json"], pm=roistory_pm)

    assert rendered.metric("crm_win_rate") is None
    maturity = {m["metric"]: m for m in rendered.json["maturity"]}
    assert maturity["crm_win_rate"] == {
        "metric": "crm_win_rate",
        "measurable": False,
        "needs": ["leads.lost_at"],
    }
# -- end more --
