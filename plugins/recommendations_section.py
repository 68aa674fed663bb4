"""The ``recommendations`` section: where to move budget, with the evidence and the assumptions.

The decision is :func:`roistory.api.recommend` (shift only when every attribution
model agrees on the ranking, else a test, else keep); this section words it.
Measured incrementality, when the report has some, outranks model credit
(:func:`roistory.api.measured_lift`).
"""

from __future__ import annotations

from roistory.api import (
    N_,
    RECOMMENDATION_ASSUMPTIONS,
    Figure,
    Recommendation,
    ReportContext,
    ReportSection,
    Sentence,
    compose,
    hookimpl,
    measured_lift,
    recommend,
)

ACTIONS = {"shift": N_("Shift budget"), "test": N_("Run a test first"), "keep": N_("Keep the budget")}


def _figure(report: ReportContext, rec: Recommendation, name: str) -> Figure:
    value = getattr(rec, name)
    return Figure(report.formatter.money(value), name, value, "current", {rec.dimension: rec.source}, "recommendations")


def sentences(report: ReportContext, rec: Recommendation) -> list[Sentence]:
    """The recommendation and why, in the report's language."""
    _ = report.gettext
    out = []
    if rec.action == "shift":
        out.append(
            compose(
                _("Move {amount} from {source} to {target}: expected {low} to {high} more revenue."),
                "recommendations",
                amount=_figure(report, rec, "amount"),
                source=rec.source,
                target=rec.target,
                low=_figure(report, rec, "effect_low"),
                high=_figure(report, rec, "effect_high"),
            )
        )
        out.append(
            compose(
                _("Every attribution model in the report ranks {target} above {source}."),
                "recommendations",
                target=rec.target,
                source=rec.source,
            )
        )
    elif rec.action == "test":
        out.append(
            compose(
                _(
                    "Test moving {amount} from {source} to {target} with a holdout or geo split before shifting "
                    "budget: the expected effect ranges from {low} to {high}."
                ),
                "recommendations",
                amount=_figure(report, rec, "amount"),
                source=rec.source,
                target=rec.target,
                low=_figure(report, rec, "effect_low"),
                high=_figure(report, rec, "effect_high"),
            )
        )
        if rec.reason == "disagree":
            out.append(
                compose(
                    _("The attribution models disagree on whether {target} returns more than {source}."),
                    "recommendations",
                    target=rec.target,
                    source=rec.source,
                )
            )
        else:
            out.append(
                compose(
                    _("The models agree, but too few conversions support the ranking to move budget on it."),
                    "recommendations",
                )
            )
    elif rec.reason == "one_segment":
        out.append(
            compose(
                _("Keep the budget as it is: only {source} has spend, so there is nothing to compare."),
                "recommendations",
                source=rec.source,
            )
        )
    else:
        out.append(
            compose(
                _("Keep the budget as it is: {source} and {target} return about the same per unit of spend."),
                "recommendations",
                source=rec.source,
                target=rec.target,
            )
        )
    if rec.measured:
        out.append(
            compose(
                _("Measured incrementality replaces model credit for: {segments}."),
                "recommendations",
                segments=", ".join(rec.measured),
            )
        )
    return out


def build(report: ReportContext) -> dict | None:
    _ = report.gettext
    fmt = report.formatter
    recs = recommend(report, measured_lift(report))
    if not recs:
        return None
    items, narrative = [], []
    for rec in recs:
        said = sentences(report, rec)
        narrative += [s.as_json(edition=report.edition.id, section="recommendations") for s in said]
        rows = []
        for model_id, (low, high) in rec.returns.items():
            model = report.registry.models.get(model_id)
            rows.append(
                {
                    "model": _(model.label) if model else model_id,
                    "from": fmt.number(low, 2),
                    "to": fmt.number(high, 2),
                    "primary": model_id == report.primary_model,
                }
            )
        items.append(
            {
                "action": _(ACTIONS[rec.action]),
                "kind": rec.action,
                "sentences": [s.as_template_data() for s in said],
                "source": rec.source,
                "target": rec.target,
                "rows": rows if rec.action != "keep" else [],
                "assumptions": [_(a) for a in RECOMMENDATION_ASSUMPTIONS],
            }
        )
    return {"items": items, "narrative": narrative}


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "recommendations",
            "Recommendations",
            "sections/recommendations.html.j2",
            build,
            "Where to move budget, when the attribution models agree.",
            order=95,
        )
    )
