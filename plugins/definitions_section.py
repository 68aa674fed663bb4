"""The ``definitions`` section: what each metric and model in the report means."""

from __future__ import annotations

from roistory.api import N_, SMALL_SAMPLE, ReportContext, ReportSection, hookimpl

# How the summary and the recommendations reach their claims (roistory.drivers, roistory.recommendations).
METHODS = [
    (
        N_("Drivers"),
        N_(
            "The change in revenue and spend against a comparison period is split into each channel's own change. "
            "The change in ROI is split by a mix-rate (shift-share) decomposition: a channel contributes its revenue "
            "over total spend now minus the same before, which is the effect of its share of spend moving (mix) plus "
            "its own return moving (rate). The parts sum to the total change."
        ),
    ),
    (
        N_("Budget recommendations"),
        N_(
            "Budget moves from the channel with the lowest return per unit of spend to the highest only when every "
            "attribution model ranks them the same way and both rest on at least {n} conversions; otherwise a holdout "
            "or geo-split test is recommended. Measured incrementality replaces model credit where it exists."
        ),
    ),
    (N_("Small samples"), N_("A claim resting on fewer than {n} conversions is stated with a small-sample caveat.")),
]


def build(report: ReportContext) -> dict | None:
    _ = report.gettext
    metrics = [
        {"id": m.id, "label": _(m.label), "definition": _(m.definition), "formula": m.formula or ""}
        for m in (report.metrics[i] for i in report.selected_metrics)
        if not report.missing_inputs(m.id) and m.family != "internal"
    ]
    models = [
        {"label": _(report.registry.models[m].label), "definition": _(report.registry.models[m].description)}
        for m in report.config.attribution.models
    ]
    methods = [
        {"label": _(label), "definition": _(text).format(n=report.formatter.number(SMALL_SAMPLE))}
        for label, text in METHODS
    ]
    return {
        "metrics": metrics,
        "models": models,
        "methods": methods,
        "lookback_days": report.config.attribution.lookback_days,
    }


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "definitions",
            "Definitions",
            "sections/definitions.html.j2",
            build,
            "Metric and model definitions.",
            order=110,
        )
    )
