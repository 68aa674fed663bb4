"""The ``data_quality`` section: what the data let us do, and what it did not."""

from __future__ import annotations

from roistory.api import ReportContext, ReportSection, hookimpl


def build(report: ReportContext) -> dict | None:
    fmt = report.formatter
    _ = report.gettext
    not_measurable = [
        {"metric": _(report.metrics[r["metric"]].label), "needs": ", ".join(r["needs"]) or _(r.get("reason", ""))}
        for r in report.maturity_records()
        if not r["measurable"] and r["metric"] in report.selected_metrics
    ]
    if "maturity" in (report.config.sections or ["maturity"]):
        not_measurable = []  # the maturity section lists them, grouped by family
    return {
        "findings": [
            {"severity": f.severity, "code": f.code, "message": f.render(report.translations, report.formatter)}
            for f in report.data_quality
        ],
        "inputs": [
            {"source": s.name, "table": s.table, "rows": fmt.number(s.rows), "sha256": (s.sha256 or "")[:12]}
            for s in report.inputs
        ],
        "not_measurable": not_measurable,
    }


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "data_quality",
            "Data quality",
            "sections/data_quality.html.j2",
            build,
            "Inputs, findings and gaps.",
            order=90,
        )
    )
