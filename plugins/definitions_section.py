"""The ``definitions`` section: what each metric and model in the report means."""

from __future__ import annotations

from roistory.api import ReportContext, ReportSection, hookimpl


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
    return {"metrics": metrics, "models": models, "lookback_days": report.config.attribution.lookback_days}


@hookimpl
def register_report_sections(register):
    register(ReportSection("definitions", "Definitions", "sections/definitions.html.j2", build, "Metric and model definitions.", order=110))
