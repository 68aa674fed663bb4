"""Measurement maturity: which questions the data can answer, and what would unlock the next.

Levels (each needs the one below):

1. Reach — activity and response: impressions, clicks, sessions, email or social counts.
2. Leads — leads and cost per lead: spend joined to a CRM's leads.
3. Revenue ROI — revenue against spend: ROI and ROAS for marketing as a whole.
4. Closed loop — revenue attributed to channels through touchpoints: ROI per channel.

Which metrics evidence a level is what the metrics declare (``Metric.maturity``),
so a plugin's metric counts exactly as a built-in one does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from roistory.metrics import Metric

# (level, name, rule): "any" — one of the level's metrics is measurable; "all" — every one
# is; "journeys" — revenue is attributed to channels through touchpoints.
LEVELS = (
    (1, "Reach", "any"),
    (2, "Leads", "all"),
    (3, "Revenue ROI", "all"),
    (4, "Closed-loop attribution", "journeys"),
)
UNLOCK = {
    1: "add ad platform exports with impressions and clicks, or web analytics sessions, to measure reach",
    2: "add a CRM leads export (lead_id, created_at, source_channel) to measure leads and cost per lead",
    3: "add deal amounts and won dates to your CRM export (leads.amount, leads.won_at), or a conversions "
    "table with revenue, to measure ROI",
    4: "add touchpoints (person_id, timestamp, channel) from web analytics or marketing automation to "
    "attribute revenue to channels and measure ROI per channel",
}


class Measured(Protocol):
    """What maturity reads from a report (the report context provides it)."""

    metrics: Mapping[str, Metric]
    journeys: Mapping[str, Any]

    def missing_inputs(self, metric_id: str) -> list[str]: ...

    def value(self, metric_id: str, period: str = ..., dimension: str | None = ...) -> Any: ...


@dataclass(frozen=True)
class Maturity:
    level: int
    name: str
    next_step: str | None

    def as_json(self) -> dict:
        return {"level": self.level, "name": self.name, "next": self.next_step}


def _measurable(report: Measured, metric_id: str) -> bool:
    if report.missing_inputs(metric_id):
        return False
    value = report.value(metric_id)
    return isinstance(value, float) and not math.isnan(value)


def _reached(report: Measured, level: int, rule: str) -> bool:
    if rule == "journeys":
        return "channel" in report.journeys
    evidence = [m.id for m in report.metrics.values() if m.maturity == level]
    check = any if rule == "any" else all
    return bool(evidence) and check(_measurable(report, m) for m in evidence)


def assess(report: Measured) -> Maturity:
    level, name = 0, "Not measurable"
    for number, label, rule in LEVELS:
        if not _reached(report, number, rule):
            break
        level, name = number, label
    return Maturity(level, name, UNLOCK.get(level + 1))


def readiness_records(report: Measured) -> list[dict[str, Any]]:
    """Each reportable metric: measurable or not, and what it needs (the JSON ``maturity`` list)."""
    records = []
    for metric_id in [m.id for m in report.metrics.values() if m.family != "internal"]:
        needs = report.missing_inputs(metric_id)
        record: dict[str, Any] = {"metric": metric_id, "measurable": not needs, "needs": needs}
        if not needs:
            value = report.value(metric_id)
            if isinstance(value, float) and math.isnan(value):
                record["measurable"] = False
                record["reason"] = "its denominator is zero in this period"
        records.append(record)
    return records
