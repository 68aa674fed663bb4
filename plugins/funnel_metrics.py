"""Funnel metrics: leads → MQL → SQL → opportunity → won, pipeline and sales cycle.

Funnel counts are events in the period (an MQL is a lead whose mql_at falls in
the period); rates divide counts of the same period. Segments use the lead's
source_channel / source_campaign / market.
"""

from __future__ import annotations

import pandas as pd

from roistory.api import Metric, PeriodData, hookimpl, marketing_channels, period_total


def sales_cycle_days(data: PeriodData, dimension: str | None):
    rows = data.rows("leads", "won_at")
    days = (rows["won_at"] - rows["created_at"]).dt.days.astype(float)
    if dimension is None:
        return float(days.median()) if len(days) else float("nan")
    frame = pd.DataFrame({"days": days}, index=rows.index).join(rows.drop(columns=["won_at"]))
    return data.total(frame, "leads", dimension, "days", how="median")


def _marketing_channels(data: PeriodData) -> set[str]:
    return data.memo("marketing_channels", lambda: marketing_channels(data.tables))


def _marketing_sourced(date_column: str):
    def compute(data: PeriodData, dimension: str | None):
        rows = data.rows("leads", date_column)
        rows = rows[rows["source_channel"].isin(_marketing_channels(data))]
        return data.total(rows, "leads", dimension)

    return compute


def _cohort_won(data: PeriodData, dimension: str | None):
    """Leads that became SQLs in the period and have been won since (any date up to the data's end)."""
    rows = data.rows("leads", "sql_at")
    return data.total(rows[rows["won_at"].notna()], "leads", dimension)


def _average_won_amount(data: PeriodData, dimension: str | None):
    """The mean amount of the deals won in the period that have one."""
    rows = data.rows("leads", "won_at")
    rows = rows[rows["amount"].notna()]
    amount = data.total(rows, "leads", dimension, "amount")
    deals = data.total(rows, "leads", dimension)
    if isinstance(deals, pd.Series):
        return amount / deals.where(deals > 0)
    return amount / deals if deals else None


METRICS = [
    Metric(
        "mqls",
        "MQLs",
        "count",
        "Leads that became marketing-qualified in the period (leads.mql_at).",
        compute=period_total("leads", "mql_at"),
        needs=("leads.mql_at",),
        trend=60,
    ),
    Metric(
        "sqls",
        "SQLs",
        "count",
        "Leads that became sales-qualified in the period (leads.sql_at).",
        compute=period_total("leads", "sql_at"),
        needs=("leads.sql_at",),
        trend=70,
    ),
    Metric(
        "opportunities",
        "Opportunities",
        "count",
        "Leads that reached opportunity in the period (leads.opportunity_at).",
        compute=period_total("leads", "opportunity_at"),
        needs=("leads.opportunity_at",),
    ),
    Metric(
        "won_deals",
        "Won deals",
        "count",
        "Leads won in the period (leads.won_at).",
        compute=period_total("leads", "won_at"),
        needs=("leads.won_at",),
    ),
    Metric(
        "won_amount",
        "Won deal value",
        "currency",
        "Sum of amount of leads won in the period.",
        compute=period_total("leads", "won_at", "amount"),
        needs=("leads.won_at", "leads.amount"),
    ),
    Metric(
        "pipeline",
        "Pipeline generated",
        "currency",
        "Sum of amount of leads reaching opportunity in the period.",
        compute=period_total("leads", "opportunity_at", "amount"),
        needs=("leads.opportunity_at", "leads.amount"),
        trend=110,
    ),
    Metric(
        "avg_deal_size",
        "Average deal size",
        "currency",
        "Won deal value / won deals that have an amount (a won deal without an amount is left out, not counted as "
        "zero).",
        compute=_average_won_amount,
        needs=("leads.won_at", "leads.amount"),
        aggregation="ratio",
    ),
    Metric(
        "mql_rate",
        "Lead → MQL rate",
        "percent",
        "MQLs in the period / leads created in the period.",
        formula="mqls / leads",
    ),
    Metric("sql_rate", "MQL → SQL rate", "percent", "SQLs in the period / MQLs in the period.", formula="sqls / mqls"),
    Metric(
        "opportunity_rate",
        "SQL → opportunity rate",
        "percent",
        "Opportunities in the period / SQLs in the period.",
        formula="opportunities / sqls",
    ),
    Metric(
        "close_rate",
        "Close rate",
        "percent",
        "Won deals in the period / SQLs in the period.",
        formula="won_deals / sqls",
    ),
    Metric(
        "cohort_won_deals",
        "Won deals of the period's SQLs",
        "count",
        "Leads that became SQLs in the period and have been won since (leads.won_at at any date).",
        compute=_cohort_won,
        needs=("leads.sql_at", "leads.won_at"),
        family="internal",
    ),
    Metric(
        "cohort_close_rate",
        "Close rate, SQL cohort",
        "percent",
        "Of the leads that became SQLs in the period, the share won so far: numerator and denominator "
        "come from the same leads, so it never exceeds 100% (close_rate can, when deals won now were "
        "SQLs in earlier periods).",
        formula="cohort_won_deals / sqls",
    ),
    Metric(
        "marketing_sourced_sqls",
        "Marketing-sourced SQLs",
        "count",
        "SQLs in the period whose source_channel is a marketing channel (one with spend, touchpoints or web traffic).",
        compute=_marketing_sourced("sql_at"),
        needs=("leads.sql_at", "leads.source_channel"),
    ),
    Metric(
        "marketing_sourced_won_deals",
        "Marketing-sourced won deals",
        "count",
        "Won deals in the period whose source_channel is a marketing channel.",
        compute=_marketing_sourced("won_at"),
        needs=("leads.won_at", "leads.source_channel"),
    ),
    Metric(
        "marketing_sourced_close_rate",
        "Close rate, marketing-sourced",
        "percent",
        "Marketing-sourced won deals / marketing-sourced SQLs, both in the period; compare with close_rate.",
        formula="marketing_sourced_won_deals / marketing_sourced_sqls",
    ),
    Metric(
        "cost_per_mql",
        "Cost per MQL",
        "currency",
        "Spend / MQLs in the period.",
        formula="spend / mqls",
        family="efficiency",
        direction="lower",
    ),
    Metric(
        "cost_per_sql",
        "Cost per SQL",
        "currency",
        "Spend / SQLs in the period.",
        formula="spend / sqls",
        family="efficiency",
        direction="lower",
    ),
    Metric(
        "sales_cycle_days",
        "Sales cycle",
        "days",
        "Median days from created_at to won_at of leads won in the period.",
        compute=sales_cycle_days,
        needs=("leads.won_at",),
        direction="lower",
        aggregation="median",
    ),
]


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
