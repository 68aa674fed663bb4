"""Measurement maturity: which questions the data can answer, and what would unlock the next.

Levels (each needs the one below):

1. Reach — activity and response: impressions, clicks, sessions, email or social counts.
2. Leads — leads and cost per lead: spend joined to a CRM's leads.
3. Revenue ROI — revenue against spend: ROI and ROAS for marketing as a whole.
4. Closed loop — revenue attributed to channels through touchpoints: ROI per channel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from roistory.pipeline import Report

LEVELS = (
    (1, "Reach", ("impressions", "clicks", "sessions", "email_sent", "social_mentions", "social_reach")),
    (2, "Leads", ("leads", "cpl")),
    (3, "Revenue ROI", ("revenue", "roi")),
    (4, "Closed-loop attribution", ()),  # checked below: attribution per channel
)
UNLOCK = {
    1: "add ad platform exports with impressions and clicks, or web analytics sessions, to measure reach",
    2: "add a CRM leads export (lead_id, created_at, source_channel) to measure leads and cost per lead",
    3: "add deal amounts and won dates to your CRM export (leads.amount, leads.won_at), or a conversions "
    "table with revenue, to measure ROI",
    4: "add touchpoints (person_id, timestamp, channel) from web analytics or marketing automation to "
    "attribute revenue to channels and measure ROI per channel",
}


@dataclass(frozen=True)
class Maturity:
    level: int
    name: str
    next_step: str | None

    def as_json(self) -> dict:
        return {"level": self.level, "name": self.name, "next": self.next_step}


def _measurable(report: Report, metric_id: str) -> bool:
    if metric_id not in report.metrics or report.missing_inputs(metric_id):
        return False
    value = report.value(metric_id)
    return isinstance(value, float) and not math.isnan(value)


def assess(report: Report) -> Maturity:
    level, name = 0, "Not measurable"
    for number, label, metric_ids in LEVELS:
        if number == 4:
            reached = _measurable(report, "roi") and "channel" in report.journeys
        elif number == 1:
            reached = any(_measurable(report, m) for m in metric_ids)
        else:
            reached = all(_measurable(report, m) for m in metric_ids)
        if not reached:
            break
        level, name = number, label
    return Maturity(level, name, UNLOCK.get(level + 1))
