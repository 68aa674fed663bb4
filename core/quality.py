"""Data-quality findings: what was merged, dropped, unmatched or missing, stated plainly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

_EMAIL = re.compile(r"([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# +44 20 7946 0958, (555) 123-4567, 555-123-4567: never dates (2026-10-01) or counts (12,345)
_PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d ()-]{7,}\d|\(\d{3}\) ?\d{3}-\d{4}|\d{3}[-. ]\d{3}[-. ]\d{4})(?!\w)")


def mask_personal_data(text: str) -> str:
    """E-mail addresses and phone numbers masked (p***@example.com, +*** ***): reports never print them."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: re.sub(r"\d", "*", m.group(0)), text)


@dataclass(frozen=True)
class Finding:
    severity: str  # "info", "warning", "error"
    code: str
    count: int
    message: str

    def __post_init__(self) -> None:
        # findings quote input rows: mask personal data once, here, for every output (HTML, PDF, JSON, logs)
        object.__setattr__(self, "message", mask_personal_data(self.message))

    def as_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "count": self.count, "message": self.message}


def unmatched_touchpoints(touchpoints: pd.DataFrame, leads: pd.DataFrame | None) -> Finding | None:
    """Touchpoints of people the CRM does not know: their journeys cannot reach a lead."""
    if leads is None or "person_id" not in leads or leads["person_id"].isna().all():
        return None
    unknown = ~touchpoints["person_id"].isin(set(leads["person_id"].dropna()))
    people = touchpoints.loc[unknown, "person_id"].nunique()
    if not unknown.any():
        return None
    return Finding(
        "info",
        "touchpoints_without_lead",
        int(unknown.sum()),
        f"{int(unknown.sum())} touchpoints of {people} people match no lead in the CRM export",
    )
