"""The platform source types on fixtures that mirror each tool's documented export, quirks
included (tests/fixtures/sources: title lines, totals rows, UTF-16 TSV, currency in a header,
report footers, lifecycle-stage dates, BigQuery's nested event schema)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from roistory.config import config_from_dict
from roistory.errors import DataError
from roistory.plugin_manager import build_registry
from roistory.sources import load_sources

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def load(tmp_path: Path, kind: str, fixture: str, table: str, **extra):
    shutil.copy(FIXTURES / fixture, tmp_path / fixture)
    report = {"period": "2026-10", **extra.pop("report", {})}
    config = config_from_dict(
        {"report": report, "sources": [{"name": kind, "type": kind, "path": fixture, "table": table, **extra}]},
        path=tmp_path / "report.yaml",
    )
    tables, inputs = load_sources(config, build_registry().sources)
    return tables[table], inputs[0]


def codes(loaded) -> dict[str, int]:
    return {f.code: f.count for f in loaded.findings}


@pytest.mark.parametrize(
    "fixture", ["google_ads_campaign_report.csv", "google_ads_excel_csv.csv"], ids=["csv", "excel-csv-utf16"]
)
def test_google_ads(tmp_path, fixture):
    frame, loaded = load(tmp_path, "google_ads", fixture, "spend")
    assert len(frame) == 8
    assert set(frame["media_type"]) == {"Search", "Display"}
    # the channel follows the campaign type (issue 9): Display campaigns are not Paid Search
    assert (frame["channel"] == frame["media_type"].map({"Search": "Paid Search", "Display": "Display"})).all()
    assert frame["cost"].sum() == pytest.approx(153.81 + 554.63 + 88.20 + 160.02 + 1012.45 + 79.95 + 149.10 + 602.18)
    assert frame["impressions"].iloc[1] == 3180  # "3,180"
    assert frame["impression_share"].iloc[0] == 0.9  # "> 90%"
    assert frame["impression_share"].iloc[4] == 0.1  # "< 10%"
    found = codes(loaded)
    assert found["totals_rows_dropped"] == 3  # Total: Account / Search / Display
    assert found["placeholder_values"] == 2  # "--" impression share on Display rows


def test_google_ads_missing_cost_column_suggests_mapping(tmp_path):
    (tmp_path / "gads.csv").write_text("Day,Campaign,Costs\n2026-10-01,Brand,5\n")
    config = config_from_dict(
        {
            "report": {"period": "2026-10"},
            "sources": [{"name": "g", "type": "google_ads", "path": "gads.csv", "table": "spend"}],
        },
        path=tmp_path / "report.yaml",
    )
    with pytest.raises(DataError, match=r"no 'Cost' column \(did you mean 'Costs'\?"):
        load_sources(config, build_registry().sources)


def test_meta_ads_currency_from_the_header_and_fx(tmp_path):
    frame, _ = load(tmp_path, "meta_ads", "meta_ads_export.csv", "spend", report={"currency": "EUR"})
    assert set(frame["currency"]) == {"EUR"} and set(frame["channel"]) == {"Paid Social"}
    assert frame["cost"].sum() == pytest.approx(203.91 + 141.09 + 278.60 + 100.94)
    assert list(frame["audience"])[:1] == ["Lookalike 1% - DE"]
    assert frame["clicks"].sum() == 122 + 91 + 146 + 57  # Link clicks
    with pytest.raises(DataError, match=r"EUR.*no EUR→USD rate"):
        load(tmp_path, "meta_ads", "meta_ads_export.csv", "spend")


def test_linkedin_ads_utf16_tsv_with_report_lines(tmp_path):
    frame, _ = load(tmp_path, "linkedin_ads", "linkedin_campaign_performance.csv", "spend")
    assert list(frame["date"].dt.strftime("%Y-%m-%d")) == ["2026-10-01", "2026-10-01", "2026-10-13", "2026-10-13"]
    assert set(frame["channel"]) == {"LinkedIn Ads"}
    assert frame["cost"].sum() == pytest.approx(88.36 + 248.98 + 118.13 + 204.09)
    assert frame["platform_conversions"].sum() == 3


def test_report_values_override_the_platform_default(tmp_path):
    frame, _ = load(
        tmp_path, "linkedin_ads", "linkedin_campaign_performance.csv", "spend", values={"channel": "Paid Social"}
    )
    assert set(frame["channel"]) == {"Paid Social"}


def test_hubspot_contacts_as_leads(tmp_path):
    frame, _ = load(tmp_path, "hubspot", "hubspot_contacts.csv", "leads")
    assert len(frame) == 6
    first = frame.iloc[0]
    assert first["lead_id"] == "51234501" and first["source_channel"] == "Paid Search"
    assert first["mql_at"] == pd.Timestamp("2026-09-05") and first["won_at"] == pd.Timestamp("2026-10-14")
    assert set(frame["source_channel"]) >= {"Paid Social", "Email", "Organic Search", "Direct", "Other Campaigns"}


def test_hubspot_contacts_as_customers(tmp_path):
    frame, loaded = load(tmp_path, "hubspot", "hubspot_contacts.csv", "customers")
    assert list(frame["customer_id"]) == ["51234501"]
    assert frame["start_date"].iloc[0] == pd.Timestamp("2026-10-14")
    assert codes(loaded)["not_customers"] == 5


def test_hubspot_deals(tmp_path):
    frame, _ = load(tmp_path, "hubspot", "hubspot_deals.csv", "leads")
    won = frame[frame["won_at"].notna()]
    assert list(won["amount"]) == [24000.0] and list(won["email"]) == ["ana.ruiz@nimbus.example"]
    assert frame["lost_at"].notna().sum() == 1
    assert (frame["opportunity_at"] == frame["created_at"]).all()


def test_salesforce_opportunities_with_footer_grand_totals_and_two_currencies(tmp_path):
    shutil.copy(FIXTURES / "salesforce_opportunities.csv", tmp_path)
    config = config_from_dict(
        {
            "report": {"period": "2026-10"},
            "sources": [{"name": "sf", "type": "salesforce", "path": "salesforce_opportunities.csv", "table": "leads"}],
        },
        path=tmp_path / "report.yaml",
    )
    config = config.model_copy(update={"fx": {"rates": {"EUR": 1.1}}})  # until Config has an fx field
    tables, inputs = load_sources(config, build_registry().sources)
    frame, loaded = tables["leads"], inputs[0]
    assert len(frame) == 4
    assert list(frame["amount"]) == [24000.0, 8500.0, 3200.0, pytest.approx(19800.0)]
    assert set(frame["currency"]) == {"USD"}
    assert frame["won_at"].notna().sum() == 2 and frame["lost_at"].notna().sum() == 1
    assert frame["won_at"].iloc[0] == pd.Timestamp("2026-10-14")  # 10/14/2026
    found = codes(loaded)
    assert found["totals_rows_dropped"] == 1  # "Grand Totals (4 records)"
    assert found["lines_skipped"] == 6  # blank, confidential, copyright, generated by, company
    assert found["currency_converted"] == 1


def test_salesforce_opportunities_without_a_rate(tmp_path):
    with pytest.raises(DataError, match=r"row 5, column 'currency'.*EUR"):
        load(tmp_path, "salesforce", "salesforce_opportunities.csv", "leads")


def test_salesforce_leads_report(tmp_path):
    frame, loaded = load(tmp_path, "salesforce", "salesforce_leads.csv", "leads")
    assert len(frame) == 4
    assert frame["created_at"].iloc[0] == pd.Timestamp("2026-09-03")  # 9/3/2026: US order
    assert frame["sql_at"].notna().sum() == 1
    assert codes(loaded)["lines_skipped"] == 6  # blank and footer lines


def test_salesforce_won_opportunities_as_customers(tmp_path):
    frame, loaded = load(tmp_path, "salesforce", "salesforce_opportunities.csv", "customers")
    assert list(frame["customer_id"]) == ["0015g00000NmB01", "0015g00000NmB04"]
    assert list(frame["acquisition_channel"]) == ["Web", "Trade Show"]


def test_mailchimp(tmp_path):
    frame, _ = load(tmp_path, "mailchimp", "mailchimp_campaigns.csv", "email")
    assert list(frame["date"].dt.strftime("%Y-%m-%d")) == ["2026-10-06", "2026-10-13", "2026-10-21"]
    assert list(frame["sent"]) == [12450, 30210, 2890]
    assert list(frame["opens"]) == [4321, 7012, 1602]
    assert frame["bounces"].sum() == 149 + 336 + 9


GA4 = "ga4_events_20261001_20261031.ndjson"


@pytest.fixture(params=["ndjson", "parquet"])
def ga4_file(request, tmp_path):
    if request.param == "ndjson":
        return GA4
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    pq.write_table(pj.read_json(FIXTURES / GA4), tmp_path / "ga4.parquet")
    return "ga4.parquet"


def load_ga4(tmp_path, name, table, **extra):
    if name == GA4:
        return load(tmp_path, "ga4", GA4, table, **extra)
    config = config_from_dict(
        {
            "report": {"period": "2026-10"},
            "sources": [{"name": "ga4", "type": "ga4", "path": name, "table": table, **extra}],
        },
        path=tmp_path / "report.yaml",
    )
    tables, inputs = load_sources(config, build_registry().sources)
    return tables[table], inputs[0]


def test_ga4_sessions_as_touchpoints(tmp_path, ga4_file):
    frame, _ = load_ga4(tmp_path, ga4_file, "touchpoints")
    assert len(frame) == 7  # one touch per session
    first = frame[frame["person_id"] == "1111.1001"]
    assert list(first["channel"]) == ["Paid Search", "Email", "Direct"]
    assert list(first["user_id"].fillna("-")) == ["-", "51234501", "51234501"]
    assert first["timestamp"].iloc[0] == pd.Timestamp("2026-10-01 09:00:05")
    assert set(frame["channel"]) == {"Paid Search", "Email", "Direct", "Paid Social", "Organic Search", "Referral"}


def test_ga4_purchases_as_conversions(tmp_path, ga4_file):
    frame, _ = load_ga4(tmp_path, ga4_file, "conversions")
    assert list(frame["revenue"]) == [2400.0, 480.0]
    assert list(frame["deal_id"]) == ["T-1001", "T-1002"]


def test_ga4_daily_web_sessions(tmp_path, ga4_file):
    frame, _ = load_ga4(tmp_path, ga4_file, "web")
    assert frame["sessions"].sum() == 7 and frame["conversions"].sum() == 2 and frame["new_users"].sum() == 3
    assert frame["pageviews"].sum() == 6


def test_ga4_default_channel_group():
    from roistory.plugins.ga4_source import default_channel

    assert default_channel("google", "cpc") == "Paid Search"
    assert default_channel("facebook", "paid_social") == "Paid Social"
    assert default_channel("l.facebook.com", "referral") == "Organic Social"
    assert default_channel("google", "organic") == "Organic Search"
    assert default_channel("(direct)", "(none)") == "Direct"
    assert default_channel("newsletter", "email") == "Email"
    assert default_channel("partner.example", "referral") == "Referral"
    assert default_channel(None, None, gclid=True) == "Paid Search"
    assert default_channel("dv360", "display") == "Display"
