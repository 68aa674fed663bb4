"""Data-quality findings: what was merged, dropped, unmatched or missing, stated plainly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Finding:
    severity: str  # "info", "warning", "error"
    code: str
    count: int
    message: str

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


def overflowing_columns(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """Numeric columns whose values add up beyond the largest float (about 1.8e308): every
    total over them would be infinity, so the metrics built on them are not measurable."""
    import numpy as np

    findings = []
    for table, frame in tables.items():
        for column in frame.columns:
            if not pd.api.types.is_float_dtype(frame[column]) and not pd.api.types.is_integer_dtype(frame[column]):
                continue
            values = frame[column].to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(over="ignore", invalid="ignore"):
                total = np.nansum(np.abs(values))
            if not np.isfinite(total):
                findings.append(
                    Finding(
                        "error",
                        "values_overflow",
                        int((np.abs(values) > 1e300).sum()) or len(values),
                        f"{table}.{column}: the values add up beyond the largest number a report can hold "
                        "(about 1.8e308), so the metrics built on it are not measurable",
                    )
                )
    return findings
