"""Where to move budget: from per-segment return under each attribution model.

A segment's return is the revenue a model credits it with, times the margin,
per unit of spend in the period. It stands in for the *marginal* return (the
return of the next unit of budget): nothing here models saturation, so the
assumption is stated with every recommendation.

Rule, for the segments with spend: ``from`` is the lowest return under the
primary model, ``to`` the highest.

* ``keep`` when fewer than two segments have spend, or the primary model's gap
  between them is under ``MIN_GAP`` per unit of spend (not worth a move);
* ``shift`` ``SHIFT_SHARE`` of ``from``'s spend to ``to`` when every model ranks
  ``to`` above ``from`` and both rest on at least ``SMALL_SAMPLE`` conversions;
* ``test`` (a holdout or geo split) otherwise: the models disagree on the
  ranking, or too few conversions support it.

The expected effect is the moved amount times the smallest and largest gap
across models (``effect_low`` .. ``effect_high``, revenue x margin).

Measured incrementality outranks model credit: :func:`recommend` takes
``lift_share``, a plain mapping {segment: share of the segment's primary-model
revenue that a lift test or MMM measured as incremental}; for such a segment
every model's return is replaced by the measured one, so models cannot
disagree about it. :func:`measured_lift` is where the incrementality import
supplies that mapping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from roistory.i18n import N_
from roistory.incrementality import incremental_shares
from roistory.narrative import SMALL_SAMPLE

if TYPE_CHECKING:
    from roistory.context import ReportContext

SHIFT_SHARE = 0.2  # the share of the weaker segment's spend a recommendation moves
MIN_GAP = 0.1  # below this difference in return per unit of spend, moving budget is noise: keep

ASSUMPTIONS = (
    N_("returns per unit of spend stay as measured in the period for the amount moved (no saturation)"),
    N_("attribution credit stands for incremental revenue unless a lift test measured it"),
    N_("revenue counts at the report's margin"),
)


@dataclass(frozen=True)
class Recommendation:
    """One budget decision and its evidence. ``returns``: model -> (from's, to's) return per unit of spend."""

    action: str  # shift | test | keep
    dimension: str
    source: str | None
    target: str | None
    amount: float | None
    effect_low: float | None
    effect_high: float | None
    reason: str  # agree | disagree | small_sample | small_gap | one_segment
    returns: dict[str, tuple[float, float]] = field(default_factory=dict)
    measured: tuple[str, ...] = ()
    conversions: tuple[float, float] | None = None

    def as_json(self, basis: str = "") -> dict[str, Any]:
        return {
            "action": self.action,
            "from": {self.dimension: self.source} if self.source is not None else {},
            "to": {self.dimension: self.target} if self.target is not None else {},
            "amount": self.amount,
            "effect_low": self.effect_low,
            "effect_high": self.effect_high,
            "reason": self.reason,
            "basis": basis,
            "assumptions": list(ASSUMPTIONS),
            "returns": {m: {"from": a, "to": b} for m, (a, b) in self.returns.items()},
            "measured": list(self.measured),
        }


def measured_lift(report: ReportContext) -> dict[str, float]:
    """{channel: lift share} from the report's ``incrementality:`` results (lift tests, MMM).

    :func:`roistory.incrementality.incremental_shares` gives each measured channel's
    incremental revenue as a share of *all* revenue over the measurement's window; the
    recommendation needs it as a share of the channel's primary-model credit, so it is
    rescaled by the period's revenue (assumption: the measured share holds in the report
    period). A channel the primary model credits with nothing cannot be rescaled and is left out.
    """
    shares = incremental_shares(report)
    credits = report.attribution.get(report.primary_model, {}).get("channel")
    total = report.value("revenue", "current")
    if not shares or credits is None or total is None or not math.isfinite(total):
        return {}
    lift = {}
    for channel, share in shares.items():
        credited = float(credits["revenue"].get(channel, 0.0))
        if credited > 0:
            lift[channel] = share * float(total) / credited
    return lift


def segment_returns(report: ReportContext, dimension: str = "channel") -> dict[str, dict[str, float]]:
    """model -> segment -> credited revenue x margin / spend, for segments with spend."""
    spend = report.value("spend", "current", dimension)
    if spend is None or not len(spend):
        return {}
    spend = spend[spend > 0]
    margin = report.config.report.margin
    out: dict[str, dict[str, float]] = {}
    for model_id, by_dimension in report.attribution.items():
        credits = by_dimension.get(dimension)
        if credits is None:
            continue
        revenue = credits["revenue"].reindex(spend.index).fillna(0.0)  # no credit is a return of 0
        out[model_id] = {str(k): float(v) for k, v in (revenue * margin / spend).items() if math.isfinite(v)}
    return out


def recommend(
    report: ReportContext, lift_share: Mapping[str, float] | None = None, dimension: str = "channel"
) -> list[Recommendation]:
    """The budget recommendation for ``dimension`` (see the module docstring); [] without attribution."""
    returns = segment_returns(report, dimension)
    primary = report.primary_model
    if primary not in returns or not returns[primary]:
        return []
    lift_share = dict(lift_share or {})
    spend = report.value("spend", "current", dimension)
    margin = report.config.report.margin
    measured = tuple(sorted(s for s in lift_share if s in returns[primary]))
    if measured:
        primary_revenue = report.attribution[primary][dimension]["revenue"]
        for segment in measured:
            value = float(primary_revenue.get(segment, 0.0)) * lift_share[segment] * margin / float(spend[segment])
            for by_segment in returns.values():
                by_segment[segment] = value
    ranked = sorted(returns[primary].items(), key=lambda item: (item[1], item[0]))
    if len(ranked) < 2:
        only = ranked[0][0]
        return [Recommendation("keep", dimension, only, only, None, None, None, "one_segment", measured=measured)]
    source, target = ranked[0][0], ranked[-1][0]
    pair = {m: (r.get(source, 0.0), r.get(target, 0.0)) for m, r in returns.items()}
    gaps = [b - a for a, b in pair.values()]
    conversions = report.value("conversions", "current", dimension)
    events = (
        (float(conversions.get(source, 0.0)), float(conversions.get(target, 0.0))) if conversions is not None else None
    )
    amount = round(SHIFT_SHARE * float(spend[source]), 2)
    low, high = round(amount * min(gaps), 2), round(amount * max(gaps), 2)
    primary_gap = pair[primary][1] - pair[primary][0]
    if primary_gap < MIN_GAP:
        action, reason = "keep", "small_gap"
    elif not all(g > 0 for g in gaps):
        action, reason = "test", "disagree"
    elif events is not None and min(events) < SMALL_SAMPLE and not (source in measured and target in measured):
        action, reason = "test", "small_sample"
    else:
        action, reason = "shift", "agree"
    if action == "keep":
        amount = low = high = None
    return [Recommendation(action, dimension, source, target, amount, low, high, reason, pair, measured, events)]


def basis(recommendation: Recommendation, primary: str) -> str:
    """The evidence in one plain (English) line, for the JSON and the manifest."""
    rec = recommendation
    if rec.reason == "one_segment":
        return f"only {rec.source} has spend"
    ranked = sum(1 for a, b in rec.returns.values() if b > a)
    low, high = rec.returns.get(primary, (float("nan"), float("nan")))
    line = (
        f"{primary}: {rec.target} returns {high:.2f} and {rec.source} {low:.2f} per unit of spend; "
        f"{ranked} of {len(rec.returns)} models rank {rec.target} higher"
    )
    if rec.reason == "small_sample" and rec.conversions is not None:
        line += f"; only {min(rec.conversions):.1f} conversions behind the weaker side (fewer than {SMALL_SAMPLE})"
    if rec.measured:
        line += f"; measured incrementality for {', '.join(rec.measured)}"
    return line


def recommendation_records(
    report: ReportContext, lift_share: Mapping[str, float] | None = None
) -> list[dict[str, Any]]:
    """The JSON ``recommendations`` list."""
    return [rec.as_json(basis(rec, report.primary_model)) for rec in recommend(report, lift_share)]
