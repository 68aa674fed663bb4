"""The core metric pack: spend and revenue, return (ROI, ROAS) and cost efficiency (CPL, CPA, CAC, CPC, CPM, CTR).

Base measures sum or count rows in the period; ratios are formulas over them.
Per-segment revenue and conversions are the primary attribution model's credit.
"""

from __future__ import annotations

import pandas as pd

from roistory.api import Metric, PeriodData, hookimpl, period_total


def _column(rows: pd.DataFrame, column: str) -> pd.Series:
    return rows[column] if column in rows else pd.Series(float("nan"), index=rows.index)


def conversion_rows(data: PeriodData) -> pd.DataFrame | None:
    """Conversions in the period with their revenue, by SPEC's order of precedence:
    the conversions table; else session-format touchpoints; else leads won in the period."""
    if data.has("conversions"):
        rows = data.rows("conversions", "timestamp")
        return pd.DataFrame({"revenue": _column(rows, "revenue")})
    if data.has("touchpoints", "conversion"):
        rows = data.rows("touchpoints", "timestamp")
        rows = rows[rows["conversion"] == 1]
        return pd.DataFrame({"revenue": _column(rows, "revenue")})
    if data.has("leads", "won_at"):
        rows = data.rows("leads", "won_at")
        if "amount" in rows:  # SPEC: won leads *with an amount* are the conversions
            rows = rows[rows["amount"].notna()]
        return pd.DataFrame({"revenue": _column(rows, "amount")})
    return None


def _attributed(data: PeriodData, dimension: str, column: str) -> pd.Series | None:
    """The primary model's credit; a segment with spend but no credit earned 0, not 'unknown'."""
    credits = data.credits(dimension)
    if credits is None:
        return None
    series = credits[column]
    spend = data.total(data.rows("spend", "date"), "spend", dimension, "cost") if data.has("spend") else None
    if spend is not None:
        series = series.reindex(series.index.union(spend.index), fill_value=0.0)
    return series.astype(float).rename_axis(dimension)


def revenue(data: PeriodData, dimension: str | None):
    if dimension is not None:
        return _attributed(data, dimension, "revenue")
    rows = conversion_rows(data)
    if rows is None or (len(rows) and rows["revenue"].isna().all()):
        return float("nan")  # e.g. a conversions table without revenue: never both tables, never 0
    return float(rows["revenue"].sum())


def conversions(data: PeriodData, dimension: str | None):
    if dimension is not None:
        return _attributed(data, dimension, "conversions")
    rows = conversion_rows(data)
    return float(len(rows)) if rows is not None else float("nan")


REVENUE_NEEDS = ("conversions.revenue|touchpoints.revenue|leads.amount",)
CONVERSION_NEEDS = ("conversions|touchpoints.conversion|leads.won_at",)

METRICS = [
    Metric(
        "spend",
        "Marketing spend",
        "currency",
        "Sum of spend.cost dated in the period.",
        compute=period_total("spend", "date", "cost"),
        needs=("spend",),
        family="efficiency",
        direction="neutral",
        headline=10,
        trend=10,
    ),
    Metric(
        "revenue",
        "Revenue",
        "currency",
        "Sum of conversions.revenue in the period (or, without a conversions table, the amount of leads "
        "won in the period). Per segment: the primary attribution model's credit.",
        compute=revenue,
        needs=REVENUE_NEEDS,
        headline=20,
        trend=20,
        maturity=3,
    ),
    Metric(
        "conversions",
        "Conversions",
        "count",
        "Number of conversions in the period. Per segment: the primary attribution model's credit.",
        compute=conversions,
        needs=CONVERSION_NEEDS,
        headline=50,
        trend=80,
    ),
    Metric(
        "leads",
        "Leads",
        "count",
        "Leads created in the period (leads.created_at).",
        compute=period_total("leads", "created_at"),
        needs=("leads",),
        family="value",
        headline=70,
        trend=50,
        maturity=2,
    ),
    Metric(
        "new_customers",
        "New customers",
        "count",
        "Customers whose start_date falls in the period.",
        compute=period_total("customers", "start_date"),
        needs=("customers",),
        headline=90,
    ),
    Metric(
        "impressions",
        "Impressions",
        "count",
        "Sum of spend.impressions in the period.",
        compute=period_total("spend", "date", "impressions"),
        needs=("spend.impressions",),
        family="response",
        maturity=1,
    ),
    Metric(
        "clicks",
        "Clicks",
        "count",
        "Sum of spend.clicks in the period.",
        compute=period_total("spend", "date", "clicks"),
        needs=("spend.clicks",),
        family="response",
        maturity=1,
    ),
    Metric(
        "click_cost",
        "Cost of click-reporting spend",
        "currency",
        "Sum of spend.cost over rows that report clicks (the numerator of CPC).",
        compute=period_total("spend", "date", "cost", where="clicks"),
        needs=("spend.clicks",),
        family="internal",
        direction="neutral",
    ),
    Metric(
        "impression_cost",
        "Cost of impression-reporting spend",
        "currency",
        "Sum of spend.cost over rows that report impressions (the numerator of CPM).",
        compute=period_total("spend", "date", "cost", where="impressions"),
        needs=("spend.impressions",),
        family="internal",
        direction="neutral",
    ),
    Metric(
        "roi",
        "ROI",
        "ratio",
        "Return on investment: (revenue × margin − spend) / spend.",
        formula="(revenue * margin - spend) / spend",
        display="percent",
        headline=30,
        trend=30,
        maturity=3,
    ),
    Metric(
        "roas",
        "ROAS",
        "ratio",
        "Return on ad spend: revenue / spend.",
        formula="revenue / spend",
        display="multiple",
        headline=40,
        trend=40,
    ),
    Metric(
        "cpl",
        "Cost per lead",
        "currency",
        "Spend / leads created in the period.",
        formula="spend / leads",
        family="efficiency",
        direction="lower",
        headline=80,
        trend=90,
        maturity=2,
    ),
    Metric(
        "cpa",
        "Cost per acquisition",
        "currency",
        "Spend / conversions in the period.",
        formula="spend / conversions",
        family="efficiency",
        direction="lower",
        headline=60,
    ),
    Metric(
        "cac",
        "Customer acquisition cost",
        "currency",
        "Spend / new customers in the period.",
        formula="spend / new_customers",
        family="efficiency",
        direction="lower",
        headline=100,
        trend=100,
    ),
    Metric(
        "cpc",
        "Cost per click",
        "currency",
        "Cost / clicks, over spend rows that report clicks.",
        formula="click_cost / clicks",
        family="efficiency",
        direction="lower",
        headline=120,
    ),
    Metric(
        "cpm",
        "Cost per thousand impressions",
        "currency",
        "Cost / impressions × 1000, over spend rows that report impressions.",
        formula="impression_cost / impressions * 1000",
        family="efficiency",
        direction="lower",
    ),
    Metric(
        "ctr",
        "Click-through rate",
        "percent",
        "Clicks / impressions.",
        formula="clicks / impressions",
        family="response",
        headline=110,
    ),
]


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
