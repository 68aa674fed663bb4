"""Customer economics: active customers, churn, MRR, CLV, CLV:CAC and payback.

A customer is active on a day when start_date <= day and end_date is empty or later.
"""

from __future__ import annotations

import pandas as pd

from roistory.api import Metric, PeriodData, hookimpl, period_total


def _active_on(data: PeriodData, day: pd.Timestamp, *, strictly_before: bool) -> pd.DataFrame:
    customers = data.tables["customers"]
    started = customers["start_date"] < day if strictly_before else customers["start_date"] <= day
    if "end_date" in customers:
        ongoing = customers["end_date"].isna() | (customers["end_date"] >= day if strictly_before else customers["end_date"] > day)
    else:
        ongoing = pd.Series(True, index=customers.index)
    return customers[started & ongoing]


def customers_at_start(data: PeriodData, dimension: str | None):
    return data.total(_active_on(data, pd.Timestamp(data.period.start), strictly_before=True), "customers", dimension)


def active_customers(data: PeriodData, dimension: str | None):
    return data.total(_active_on(data, pd.Timestamp(data.period.end), strictly_before=False), "customers", dimension)


def mrr(data: PeriodData, dimension: str | None):
    return data.total(_active_on(data, pd.Timestamp(data.period.end), strictly_before=False), "customers", dimension, "mrr")


METRICS = [
    Metric("customers_at_start", "Customers at period start", "count",
           "Customers active on the period's first day (started before it, not ended before it).",
           compute=customers_at_start, needs=("customers",), aggregation="level"),
    Metric("active_customers", "Active customers", "count", "Customers active on the period's last day.",
           compute=active_customers, needs=("customers",), aggregation="level"),
    Metric("churned_customers", "Churned customers", "count", "Customers whose end_date falls in the period.",
           compute=period_total("customers", "end_date"), needs=("customers.end_date",), direction="lower"),
    Metric("churn_rate", "Churn rate", "percent",
           "Customers ended in the period / customers active at period start.",
           formula="churned_customers / customers_at_start", direction="lower"),
    Metric("mrr", "MRR", "currency", "Monthly recurring revenue of customers active on the period's last day.",
           compute=mrr, needs=("customers.mrr",), aggregation="level"),
    Metric("avg_mrr", "Average MRR per customer", "currency", "MRR / active customers.",
           formula="mrr / active_customers"),
    Metric("clv", "Customer lifetime value", "currency",
           "Average MRR × margin / monthly churn rate (the period's churn rate / its length in months).",
           formula="avg_mrr * margin * period_months / churn_rate"),
    Metric("clv_to_cac", "CLV : CAC", "ratio", "Customer lifetime value / customer acquisition cost.",
           formula="clv / cac", display="multiple"),
    Metric("payback_months", "CAC payback", "months", "CAC / (average MRR × margin): months of margin to earn back CAC.",
           formula="cac / (avg_mrr * margin)", family="efficiency", direction="lower"),
]


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
