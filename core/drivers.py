"""Driver analysis: what moved a total between two periods, segment by segment.

For each comparison period (``previous``, ``year_ago``) the change of a metric
over the whole report is split into per-segment contributions that sum to it:

* additive metrics (``spend``, ``revenue``): a segment's contribution is its own
  change, ``x1_i - x0_i``. What the segments do not hold (revenue of
  conversions no journey explains, spend rows without the dimension) is the
  ``(unexplained)`` segment, so the parts always add up to the total change.
* ratios of two additive metrics (``roas`` = revenue / spend, and ``roi`` =
  margin x roas - 1): a mix-rate (shift-share) decomposition. With
  ``w_i = s_i / S`` the segment's share of spend and ``rho_i = r_i / s_i`` its
  return, ``R/S = sum w_i rho_i``, so a segment contributes
  ``r1_i/S1 - r0_i/S0 = w1_i rho1_i - w0_i rho0_i``, which is exactly
  ``mix = (w1_i - w0_i) rho0_i`` (budget moving towards or away from it) plus
  ``rate = w1_i (rho1_i - rho0_i)`` (its own return changing). A segment with
  no spend in one of the periods has no return there: its whole contribution
  is reported without the mix/rate split. ``roi``'s parts are ``margin`` times
  ``roas``'s (the ``-1`` cancels in the change).

Every contribution is a float computed from the same segment values the report
shows; ``math.fsum`` of a metric's contributions equals the change up to
floating-point rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from roistory.context import ReportContext

UNEXPLAINED = "(unexplained)"  # the part of a total no segment holds
METHOD = "mix-rate (shift-share) decomposition"
DRIVER_METRICS = ("revenue", "spend", "roi")


@dataclass(frozen=True)
class Contribution:
    """One segment's part of a metric's change against a comparison period."""

    metric: str
    comparison: str
    dimension: str
    segment: str
    contribution: float
    mix: float | None = None  # ratio metrics only: the part due to the segment's share of spend moving
    rate: float | None = None  # ratio metrics only: the part due to the segment's own return moving

    def as_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "metric": self.metric,
            "comparison": self.comparison,
            "dimension": self.dimension,
            "segment": {self.dimension: self.segment},
            "contribution": self.contribution,
        }
        if self.mix is not None:
            record.update(mix=self.mix, rate=self.rate)
        return record


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def additive_contributions(
    before: Mapping[str, float], after: Mapping[str, float], total_before: float, total_after: float
) -> dict[str, float]:
    """Each segment's change; the rest of the total's change goes to ``UNEXPLAINED`` (when not zero)."""
    segments = sorted(set(before) | set(after))
    parts = {s: float(after.get(s, 0.0)) - float(before.get(s, 0.0)) for s in segments}
    rest = (total_after - math.fsum(after.values())) - (total_before - math.fsum(before.values()))
    if rest != 0:
        parts[UNEXPLAINED] = rest
    return parts


def ratio_contributions(
    revenue_before: Mapping[str, float],
    spend_before: Mapping[str, float],
    revenue_after: Mapping[str, float],
    spend_after: Mapping[str, float],
    total_revenue: tuple[float, float],
    total_spend: tuple[float, float],
) -> dict[str, tuple[float, float | None, float | None]]:
    """Per segment (contribution, mix, rate) of the change in revenue / spend; see the module docstring.

    Totals are (before, after); revenue not held by any segment is the ``UNEXPLAINED`` segment
    (spend not held by any segment changes every share, so it is added as a segment of its own too).
    """
    s0, s1 = total_spend
    revenue0 = dict(revenue_before)
    revenue1 = dict(revenue_after)
    spend0 = dict(spend_before)
    spend1 = dict(spend_after)
    revenue0[UNEXPLAINED] = total_revenue[0] - math.fsum(revenue_before.values())
    revenue1[UNEXPLAINED] = total_revenue[1] - math.fsum(revenue_after.values())
    spend0[UNEXPLAINED] = s0 - math.fsum(spend_before.values())
    spend1[UNEXPLAINED] = s1 - math.fsum(spend_after.values())
    out: dict[str, tuple[float, float | None, float | None]] = {}
    for segment in sorted(set(revenue0) | set(revenue1) | set(spend0) | set(spend1)):
        r0, r1 = revenue0.get(segment, 0.0), revenue1.get(segment, 0.0)
        c0, c1 = spend0.get(segment, 0.0), spend1.get(segment, 0.0)
        contribution = r1 / s1 - r0 / s0
        if segment == UNEXPLAINED and contribution == 0 and c0 == 0 and c1 == 0:
            continue
        mix = rate = None
        if c0 > 0 and c1 > 0:
            rho0, rho1 = r0 / c0, r1 / c1
            w0, w1 = c0 / s0, c1 / s1
            mix, rate = (w1 - w0) * rho0, w1 * (rho1 - rho0)
        out[segment] = (contribution, mix, rate)
    return out


def _times(factor: float, value: float | None) -> float | None:
    return None if value is None else factor * value


def _series(value: Any) -> dict[str, float]:
    if not isinstance(value, pd.Series):
        return {}
    return {str(k): float(v) for k, v in value.items() if _finite(v)}


def driver_contributions(report: ReportContext, dimension: str = "channel") -> list[Contribution]:
    """Contributions to the change of ``revenue``, ``spend`` and ``roi`` against each comparison period.

    A metric is left out for a comparison when either period's total is not measurable
    (or, for ``roi``, when either period has no spend).
    """
    if dimension not in report.dimensions:
        return []
    margin = report.config.report.margin
    out: list[Contribution] = []
    for comparison in report.periods:
        if comparison == "current":
            continue
        totals = {m: (report.value(m, comparison), report.value(m)) for m in ("revenue", "spend")}
        segments = {
            m: (_series(report.value(m, comparison, dimension)), _series(report.value(m, "current", dimension)))
            for m in ("revenue", "spend")
        }
        for metric in ("revenue", "spend"):
            before, after = totals[metric]
            if not (_finite(before) and _finite(after)):
                continue
            parts = additive_contributions(*segments[metric], before, after)
            out += [Contribution(metric, comparison, dimension, s, v) for s, v in parts.items()]
        (r0, r1), (s0, s1) = totals["revenue"], totals["spend"]
        if all(_finite(v) for v in (r0, r1, s0, s1)) and s0 > 0 and s1 > 0:
            ratio_parts = ratio_contributions(
                segments["revenue"][0],
                segments["spend"][0],
                segments["revenue"][1],
                segments["spend"][1],
                (r0, r1),
                (s0, s1),
            )
            for segment, (value, mix, rate) in ratio_parts.items():  # roi = margin x roas - 1: parts scale by margin
                out.append(
                    Contribution(
                        "roi", comparison, dimension, segment, margin * value, _times(margin, mix), _times(margin, rate)
                    )
                )
    return out


def driver_records(report: ReportContext) -> list[dict[str, Any]]:
    """The JSON ``drivers`` list: contributions for each dimension the report asks for."""
    return [c.as_json() for dimension in driver_dimensions(report) for c in driver_contributions(report, dimension)]


def driver_dimensions(report: ReportContext) -> list[str]:
    """``report.drivers`` in report.yaml (default: channel), kept to the dimensions the data has."""
    wanted = report.config.report.drivers
    return [d for d in wanted if d in report.dimensions]
