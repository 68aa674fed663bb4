"""Marketing's claim on the forecast: open pipeline × each stage's historical close rate.

Method (stated in the report and in the JSON's ``forecast[].method``):

1. Population: marketing-sourced leads (``source_channel`` is a channel with spend,
   touchpoints or web traffic) with an ``amount``.
2. Open pipeline at the report period's end: leads neither won nor lost by then; a lead's
   stage is the furthest it has reached by then (opportunity, SQL, MQL, lead).
3. A stage's close rate: of the leads that reached it and were won or lost in the
   :data:`HISTORY_MONTHS` months ending with the period, the share won (a cohort rate:
   numerator and denominator are the same leads, so it can never exceed 100%).
4. Expected revenue of an open lead: amount × its stage's close rate, placed in the month
   of its stage date + the stage's median days from that stage to won; a lead already
   past that date is placed in the first month after the period.

A stage with no resolved leads has no close rate: its open pipeline is left out and
counted in ``unrated``. Without ``leads.amount`` and ``leads.lost_at`` (a lead never
marked lost would look open forever) there is no forecast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from roistory.metrics import marketing_channels
from roistory.periods import Period

HISTORY_MONTHS = 13
SMALL_SAMPLE = 10  # fewer resolved leads than this: the stage's close rate is flagged as a small sample
# furthest first: a lead's stage is the first of these it has reached
STAGES = (("opportunity", "opportunity_at"), ("sql", "sql_at"), ("mql", "mql_at"), ("lead", "created_at"))
NEEDS = ("leads.amount", "leads.lost_at", "leads.won_at", "leads.source_channel")
METHOD = (
    "open marketing-sourced pipeline by stage × the stage's close rate (won / won or lost, "
    "leads resolved in the {months} months to {end}); each lead placed at its stage date + the "
    "stage's median days to close"
)


@dataclass
class StageForecast:
    stage: str
    open_leads: int
    open_amount: float
    won: int
    resolved: int
    close_rate: float | None  # None: no lead of this stage was resolved in the history
    median_days: float | None
    expected_revenue: float

    @property
    def small_sample(self) -> bool:
        return self.resolved < SMALL_SAMPLE


@dataclass
class Forecast:
    """Expected marketing-sourced revenue from the open pipeline, by coming month and by stage."""

    months: list[tuple[str, float]]  # (YYYY-MM, expected revenue), in order
    stages: list[StageForecast]
    history: Period
    unrated: float = 0.0  # open amount in stages without a close rate, left out
    overdue: int = 0  # open leads already past their stage's median time to close
    method_params: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(sum(value for _, value in self.months))

    @property
    def method_text(self) -> str:
        return METHOD.format(**self.method_params)

    def as_json(self) -> list[dict[str, Any]]:
        return [
            {"period": month, "expected_revenue": value, "method": self.method_text} for month, value in self.months
        ]


def _stage_at(leads: pd.DataFrame, end: pd.Timestamp) -> pd.Series:
    """The furthest stage each lead reached by ``end`` (None: not created yet)."""
    stage = pd.Series(None, index=leads.index, dtype=object)
    for name, column in reversed(STAGES):
        if column in leads:
            stage[leads[column].notna() & (leads[column] < end)] = name
    return stage


def pipeline_forecast(tables: Mapping[str, pd.DataFrame], period: Period) -> Forecast | None:
    """The forecast after ``period`` from the leads table, or None when the data cannot support one."""
    leads = tables.get("leads")
    if leads is None or not all(
        column in leads and leads[column].notna().any() for column in ("amount", "lost_at", "won_at")
    ):
        return None
    end = pd.Timestamp(period.end) + pd.Timedelta(days=1)  # exclusive
    history_start = pd.Timestamp(period.end).to_period("M").to_timestamp() - pd.DateOffset(months=HISTORY_MONTHS - 1)
    leads = leads[leads["source_channel"].isin(marketing_channels(tables)) & leads["amount"].notna()]
    won_by_end = leads["won_at"].notna() & (leads["won_at"] < end)
    lost_by_end = leads["lost_at"].notna() & (leads["lost_at"] < end)
    stage = _stage_at(leads, end)
    is_open = stage.notna() & ~won_by_end & ~lost_by_end
    resolved_in_history = (won_by_end & (leads["won_at"] >= history_start)) | (
        lost_by_end & (leads["lost_at"] >= history_start)
    )
    first_month = (pd.Timestamp(period.end) + pd.Timedelta(days=1)).to_period("M")
    expected_by_month: dict[pd.Period, float] = {}
    stages, unrated, overdue = [], 0.0, 0
    for name, column in STAGES:
        if column not in leads:
            continue
        reached = leads[column].notna() & (leads[column] < end)
        cohort = reached & resolved_in_history
        won = int((cohort & won_by_end).sum())
        resolved = int(cohort.sum())
        rate = won / resolved if resolved else None
        days = (leads.loc[cohort & won_by_end, "won_at"] - leads.loc[cohort & won_by_end, column]).dt.days
        median_days = float(days.median()) if len(days) else None
        open_here = leads[is_open & (stage == name)]
        expected = 0.0
        if rate is None:
            unrated += float(open_here["amount"].sum())
        else:
            lag = pd.Timedelta(days=median_days or 0.0)
            expected_close = open_here[column] + lag
            overdue += int((expected_close < first_month.start_time).sum())
            # a lead already past its expected close is placed in the first coming month
            lands = expected_close.clip(lower=first_month.start_time).dt.to_period("M")
            for month, amount in (open_here["amount"] * rate).groupby(lands).sum().items():
                expected_by_month[month] = expected_by_month.get(month, 0.0) + float(amount)
            expected = float(open_here["amount"].sum() * rate)
        stages.append(
            StageForecast(
                name, len(open_here), float(open_here["amount"].sum()), won, resolved, rate, median_days, expected
            )
        )
    if not any(s.open_leads for s in stages):
        return None
    history = Period(history_start.date(), period.end, f"{history_start:%Y-%m}..{period.end:%Y-%m}")
    months = [(str(month), value) for month, value in sorted(expected_by_month.items()) if not math.isclose(value, 0.0)]
    params = {"months": HISTORY_MONTHS, "end": period.end.strftime("%Y-%m")}
    return Forecast(months, stages, history, unrated, overdue, params)
