"""Customer economics: active customers, churn, MRR, CLV, CLV:CAC and payback.

A customer is active on a day when start_date <= day and end_date is empty or later.

CLV divides by the *average monthly churn over a window* — the
:data:`CHURN_WINDOW_MONTHS` calendar months ending with the period's last month — not
by one period's churn, which swings with a handful of cancellations: customers ended
in the window / customer-months at risk (each month, the customers active at its start;
a customer counts as churned in a month only if it was at risk at the month's start).
"""

from __future__ import annotations

import pandas as pd

from roistory.api import Metric, PeriodData, hookimpl, period_total


def _active_on(data: PeriodData, day: pd.Timestamp, *, strictly_before: bool) -> pd.DataFrame:
    customers = data.tables["customers"]
    started = customers["start_date"] < day if strictly_before else customers["start_date"] <= day
    if "end_date" in customers:
        ongoing = customers["end_date"].isna() | (
            customers["end_date"] >= day if strictly_before else customers["end_date"] > day
        )
    else:
        ongoing = pd.Series(True, index=customers.index)
    return customers[started & ongoing]


CHURN_WINDOW_MONTHS = 12


def _churn_window(data: PeriodData) -> pd.DataFrame:
    """Per customer: months at risk in the churn window, and whether it churned in one of them."""

    def compute() -> pd.DataFrame:
        customers = data.tables["customers"]
        last = pd.Timestamp(data.period.end).to_period("M")
        at_risk = pd.Series(0, index=customers.index)
        churned = pd.Series(0, index=customers.index)
        ends = customers["end_date"] if "end_date" in customers else pd.Series(pd.NaT, index=customers.index)
        for month in pd.period_range(end=last, periods=CHURN_WINDOW_MONTHS, freq="M"):
            first, after = month.start_time, (month + 1).start_time
            risk = (customers["start_date"] < first) & (ends.isna() | (ends >= first))
            at_risk += risk.astype(int)
            churned += (risk & ends.notna() & (ends < after)).astype(int)
        return customers.assign(_at_risk=at_risk.astype(float), _churned=churned.astype(float))

    return data.memo(("churn_window", data.period.end), compute)


def churn_window_customer_months(data: PeriodData, dimension: str | None):
    return data.total(_churn_window(data), "customers", dimension, "_at_risk")


def churn_window_churned(data: PeriodData, dimension: str | None):
    return data.total(_churn_window(data), "customers", dimension, "_churned")


def customers_at_start(data: PeriodData, dimension: str | None):
    return data.total(_active_on(data, pd.Timestamp(data.period.start), strictly_before=True), "customers", dimension)


def active_customers(data: PeriodData, dimension: str | None):
    return data.total(_active_on(data, pd.Timestamp(data.period.end), strictly_before=False), "customers", dimension)


def mrr(data: PeriodData, dimension: str | None):
    return data.total(
        _active_on(data, pd.Timestamp(data.period.end), strictly_before=False), "customers", dimension, "mrr"
    )


METRICS = [
    Metric(
        "customers_at_start",
        "Customers at period start",
        "count",
        "Customers active on the period's first day (started before it, not ended before it).",
        compute=customers_at_start,
        needs=("customers",),
        aggregation="level",
    ),
    Metric(
        "active_customers",
        "Active customers",
        "count",
        "Customers active on the period's last day.",
        compute=active_customers,
        needs=("customers",),
        aggregation="level",
    ),
    Metric(
        "churned_customers",
        "Churned customers",
        "count",
        "Customers whose end_date falls in the period.",
        compute=period_total("customers", "end_date"),
        needs=("customers.end_date",),
        direction="lower",
    ),
    Metric(
        "churn_rate",
        "Churn rate",
        "percent",
        "Customers ended in the period / customers active at period start.",
        formula="churned_customers / customers_at_start",
        direction="lower",
    ),
    Metric(
        "mrr",
        "MRR",
        "currency",
        "Monthly recurring revenue of customers active on the period's last day.",
        compute=mrr,
        needs=("customers.mrr",),
        aggregation="level",
    ),
    Metric(
        "avg_mrr", "Average MRR per customer", "currency", "MRR / active customers.", formula="mrr / active_customers"
    ),
    Metric(
        "churn_customer_months",
        "Customer-months at risk (churn window)",
        "count",
        f"Over the {CHURN_WINDOW_MONTHS} months ending with the period: each month's customers active at its start.",
        compute=churn_window_customer_months,
        needs=("customers",),
        family="internal",
        aggregation="level",
    ),
    Metric(
        "churned_in_window",
        "Customers churned (churn window)",
        "count",
        f"Customers at risk at a month's start that ended in that month, over the {CHURN_WINDOW_MONTHS} months "
        "ending with the period.",
        compute=churn_window_churned,
        needs=("customers.end_date",),
        family="internal",
        aggregation="level",
        direction="lower",
    ),
    Metric(
        "monthly_churn_rate",
        "Monthly churn (12-month average)",
        "percent",
        f"Customers churned in the {CHURN_WINDOW_MONTHS} months ending with the period / customer-months at "
        "risk in them: the average monthly churn rate over a year, steadier than one period's churn.",
        formula="churned_in_window / churn_customer_months",
        direction="lower",
    ),
    Metric(
        "clv",
        "Customer lifetime value",
        "currency",
        f"Average MRR × margin / average monthly churn over the {CHURN_WINDOW_MONTHS} months ending with the "
        "period (monthly_churn_rate).",
        formula="avg_mrr * margin / monthly_churn_rate",
    ),
    Metric(
        "clv_to_cac",
        "CLV : CAC",
        "ratio",
        "Customer lifetime value / customer acquisition cost.",
        formula="clv / cac",
        display="multiple",
    ),
    Metric(
        "payback_months",
        "CAC payback",
        "months",
        "CAC / (average MRR × margin): months of margin to earn back CAC.",
        formula="cac / (avg_mrr * margin)",
        family="efficiency",
        direction="lower",
    ),
]


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
