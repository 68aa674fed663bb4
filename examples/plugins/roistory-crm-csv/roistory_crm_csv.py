# -- start imports --
"""roistory-crm-csv: a CRM deals export (CSV) as roistory's ``leads`` table.

Provides the source type ``crm_csv`` and the metric ``crm_win_rate``.
"""

from __future__ import annotations

import pandas as pd
from roistory.api import Config, DataError, Metric, PeriodData, SourceConfig, SourceType, hookimpl

# -- end imports --

# -- start columns --
# Export headers copied as they are, and the leads column each becomes.
COLUMNS = {
    "Deal ID": "lead_id",
    "Contact ID": "person_id",
    "Contact Email": "email",
    "Original Source": "source_channel",
}
# Headers the reader parses itself.
PARSED = ["Create Date", "Close Date", "Deal Stage", "Amount"]
# What `options:` in report.yaml may change, with the defaults.
OPTIONS = {"date_format": "%m/%d/%Y", "won_stage": "Closed Won", "lost_stage": "Closed Lost"}
# -- end columns --


# -- start read --
def read_deals(source: SourceConfig, config: Config) -> pd.DataFrame:
    """Read a deals export into the columns of the canonical ``leads`` table.

    The index is the file's line number (the header is line 1), so the core's
    error messages point at the right line.
    """
    path = config.resolve(source.path or "")
    file = str(path)
    unknown = sorted(set(source.options) - set(OPTIONS))
    if unknown:
        raise DataError(
            f"unknown crm_csv option '{unknown[0]}'; use {', '.join(OPTIONS)}", file=file
        )
    options = {**OPTIONS, **source.options}

    deals = pd.read_csv(
        path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
    )
    deals.index = pd.RangeIndex(2, len(deals) + 2)
    deals.columns = [str(c).strip() for c in deals.columns]
    missing = [c for c in [*COLUMNS, *PARSED] if c not in deals.columns]
    if missing:
        raise DataError(f"missing column '{missing[0]}'; is this a CRM deals export?", file=file)

    leads = deals[list(COLUMNS)].rename(columns=COLUMNS)
    leads["created_at"] = parse_dates(deals["Create Date"], options["date_format"], file)
    closed = parse_dates(deals["Close Date"], options["date_format"], file)
    stage = deals["Deal Stage"].str.strip().str.casefold()
    leads["won_at"] = closed.where(stage == options["won_stage"].casefold())
    leads["lost_at"] = closed.where(stage == options["lost_stage"].casefold())
    leads["amount"] = parse_amounts(deals["Amount"], file)
    return leads


# -- end read --


# -- start helpers --
def parse_dates(text: pd.Series, date_format: str, file: str) -> pd.Series:
    """'10/03/2026' (US month/day/year by default) to ISO '2026-10-03'; blank stays blank."""
    text = text.str.strip()
    dates = pd.to_datetime(text, format=date_format, errors="coerce")
    bad = dates.isna() & text.notna()
    if bad.any():
        row = bad.idxmax()
        raise DataError(
            f"cannot read '{text[row]}' as a date in the format {date_format}",
            file=file,
            row=row,
            column=str(text.name),
        )
    return dates.dt.strftime("%Y-%m-%d")


def parse_amounts(text: pd.Series, file: str) -> pd.Series:
    """'$12,500.00' to 12500.0. Only US-style amounts are read: '1.000,00' is an error, not 1.0."""
    text = text.str.strip()
    plain = text.str.replace(r"^[$€£]\s*", "", regex=True)
    well_formed = plain.str.fullmatch(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")
    bad = text.notna() & ~well_formed.fillna(False).astype(bool)
    if bad.any():
        row = bad.idxmax()
        raise DataError(
            f"cannot read '{text[row]}' as an amount", file=file, row=row, column="Amount"
        )
    return pd.to_numeric(plain.str.replace(",", ""))


# -- end helpers --


# -- start source --
@hookimpl
def register_data_sources(register):
    register(
        SourceType(
            "crm_csv",
            read_deals,
            "CRM deals export (Deal ID, Create Date, Contact ID, Contact Email, Original Source, "
            "Close Date, Deal Stage, Amount) as the leads table. "
            "Options: date_format, won_stage, lost_stage.",
        )
    )


# -- end source --


# -- start metrics --
def closed_in_period(data: PeriodData) -> pd.DataFrame:
    """Deals won or lost in the period, with ``won`` 1.0 or 0.0."""
    won = data.rows("leads", "won_at")
    lost = data.rows("leads", "lost_at")
    lost = lost[~lost.index.isin(won.index)]
    return pd.concat([won.assign(won=1.0), lost.assign(won=0.0)])


def won_deals(data: PeriodData, dimension: str | None):
    return data.total(closed_in_period(data), "leads", dimension, "won")


def closed_deals(data: PeriodData, dimension: str | None):
    return data.total(closed_in_period(data), "leads", dimension)


METRICS = [
    Metric(
        "crm_won_deals",
        "Deals won",
        "count",
        "Deals won in the period (leads.won_at).",
        compute=won_deals,
        needs=("leads.won_at", "leads.lost_at"),
        family="internal",
    ),
    Metric(
        "crm_closed_deals",
        "Deals closed",
        "count",
        "Deals won or lost in the period (leads.won_at, leads.lost_at).",
        compute=closed_deals,
        needs=("leads.won_at", "leads.lost_at"),
        family="internal",
    ),
    Metric(
        "crm_win_rate",
        "Deal win rate",
        "percent",
        "Deals won in the period / deals won or lost in the period.",
        formula="crm_won_deals / crm_closed_deals",
    ),
]


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)


# -- end metrics --
