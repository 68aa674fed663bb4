"""Source types ``google_ads``, ``meta_ads`` and ``linkedin_ads``: ad platform exports → ``spend``.

Each reads the file as the platform's UI writes it (CSV or .xlsx) and knows its
columns, so a report needs no ``columns:`` map:

- google_ads: a report downloaded from the Google Ads UI ("CSV" or "Excel CSV",
  UTF-16 tab-separated). Title and date-range lines above the header are
  skipped; "Total: Account" / "Total: Search" rows are dropped (and counted);
  "1,234", "$1,153.81", "12.50%", "< 10%", "--" are read as numbers or missing.
  Columns: Day (or Date, Week), Campaign, Campaign type → media_type, Currency
  code → currency, Impr., Clicks, Cost, Conv., Search impr. share,
  Country/Territory → market. Channel: "Paid Search" unless the report sets it.
- meta_ads: an Ads Manager export. Reporting starts (or Day) → date; Campaign
  name; Ad set name → audience; Impressions; Link clicks (else Clicks (all));
  Results → platform_conversions; "Amount spent (USD)" → cost, the currency
  taken from the header. Rows covering several days (an export without a daily
  breakdown) are dated at "Reporting starts" and counted in a finding.
  Channel: "Paid Social".
- linkedin_ads: a Campaign Manager performance report (UTF-16, tab-separated,
  report lines above the header, US dates "10/1/2026"). Start Date (in UTC) →
  date, Campaign Name, Campaign Type → media_type, Currency, Total Spent → cost,
  Impressions, Clicks, Conversions. Channel: "LinkedIn Ads".

``columns:`` and ``values:`` in the report still apply on top (e.g.
``values: {channel: Paid Social}``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from roistory.api import (
    ExportFormat,
    Finding,
    SourceType,
    add_findings,
    hookimpl,
    read_export,
    set_default,
)

if TYPE_CHECKING:
    from roistory.api import Config, SourceConfig

GOOGLE_ADS = ExportFormat(
    "Google Ads",
    {
        "date": ("Day", "Date", "Week", "Week (Mon - Sun)", "Week (Sun - Sat)"),
        "campaign": ("Campaign", "Campaign name"),
        "media_type": ("Campaign type", "Advertising channel type"),
        "currency": ("Currency code", "Currency"),
        "impressions": ("Impr.", "Impressions"),
        "clicks": ("Clicks",),
        "cost": ("Cost", "Cost (*)", "Spend"),
        "platform_conversions": ("Conv.", "Conversions"),
        "impression_share": ("Search impr. share", "Impr. share", "Search impression share"),
        "market": ("Country/Territory (User location)", "Country/Territory", "Country"),
    },
    required=("date", "cost"),
)

META_ADS = ExportFormat(
    "Meta Ads Manager",
    {
        "date": ("Day", "Reporting starts", "Date"),
        "campaign": ("Campaign name", "Campaign"),
        "audience": ("Ad set name", "Ad Set Name"),
        "impressions": ("Impressions",),
        "clicks": ("Link clicks", "Clicks (all)", "Clicks"),
        "platform_conversions": ("Results",),
        "cost": ("Amount spent (*)", "Amount spent", "Spend"),
        "currency": ("Currency",),
        "market": ("Country",),
    },
    required=("date", "cost"),
)

LINKEDIN_ADS = ExportFormat(
    "LinkedIn Campaign Manager",
    {
        "date": ("Start Date (in UTC)", "Start Date", "Date"),
        "campaign": ("Campaign Name", "Campaign"),
        "media_type": ("Campaign Type",),
        "currency": ("Currency",),
        "cost": ("Total Spent", "Amount Spent", "Total Spent (*)"),
        "impressions": ("Impressions",),
        "clicks": ("Clicks",),
        "platform_conversions": ("Conversions",),
    },
    required=("date", "cost"),
    defaults={"date_order": "mdy"},
)


def read_google_ads(source: SourceConfig, config: Config) -> pd.DataFrame:
    frame, mapping = read_export(source, config, GOOGLE_ADS)
    cost_header = next((h for h, t in mapping.items() if t == "cost"), "")
    code = re.search(r"\(([A-Z]{3})\)\s*$", cost_header)
    if code:
        set_default(frame, source, "currency", code.group(1))
    set_default(frame, source, "channel", "Paid Search")
    return frame


def read_meta_ads(source: SourceConfig, config: Config) -> pd.DataFrame:
    frame, mapping = read_export(source, config, META_ADS)
    cost_header = next((h for h, t in mapping.items() if t == "cost"), "")
    code = re.search(r"\(([A-Z]{3})\)\s*$", cost_header)
    if code:
        set_default(frame, source, "currency", code.group(1))
    set_default(frame, source, "channel", "Paid Social")
    starts = "date" if "Reporting ends" in frame.columns and mapping.get("Reporting starts") == "date" else None
    if starts:
        begin = frame["date"].astype("str").str.strip()
        end = frame["Reporting ends"].astype("str").str.strip()
        wide = (begin.notna() & end.notna() & (begin != end)).to_numpy()
        if wide.any():
            add_findings(
                frame,
                Finding(
                    "info",
                    "multi_day_rows",
                    int(wide.sum()),
                    f"source '{source.name}': {int(wide.sum())} rows cover several days (Reporting starts "
                    "≠ Reporting ends) and are dated at their first day; export with a daily breakdown "
                    "(Breakdown → By time → Day) for exact daily spend",
                ),
            )
    return frame


def read_linkedin_ads(source: SourceConfig, config: Config) -> pd.DataFrame:
    frame, _ = read_export(source, config, LINKEDIN_ADS)
    set_default(frame, source, "channel", "LinkedIn Ads")
    return frame


@hookimpl
def register_data_sources(register):
    register(SourceType("google_ads", read_google_ads, "Google Ads UI report export (CSV, Excel CSV or .xlsx) as spend.", needs_path=True))
    register(SourceType("meta_ads", read_meta_ads, "Meta Ads Manager export (CSV or .xlsx) as spend.", needs_path=True))
    register(SourceType("linkedin_ads", read_linkedin_ads, "LinkedIn Campaign Manager performance report (UTF-16 TSV, CSV or .xlsx) as spend.", needs_path=True))
