"""The ``maturity`` section: what this data can measure, by family, and what unlocks more."""

from __future__ import annotations

from roistory.api import LEVELS, N_, ReportContext, ReportSection, assess, hookimpl

FAMILIES = ("value", "efficiency", "response", "activity", "custom")
# The input tables as a reader knows them: "social.branded_searches" prints as
# "social media data: branded searches", never as a column path.
TABLES = {
    "spend": N_("ad spend data"),
    "touchpoints": N_("touchpoint data"),
    "conversions": N_("conversion data"),
    "leads": N_("CRM leads"),
    "customers": N_("customer data"),
    "email": N_("email data"),
    "web": N_("web analytics"),
    "social": N_("social media data"),
}


def in_words(report: ReportContext, needs: list[str]) -> str:
    """What a metric needs, in the reader's words: the table's name and the column as words."""
    _ = report.gettext
    parts = []
    for need in needs:
        table, _dot, column = need.partition(".")
        name = _(TABLES[table]) if table in TABLES else table
        parts.append(f"{name}: {column.replace('_', ' ')}" if column else name)
    return "; ".join(parts)


def build(report: ReportContext) -> dict | None:
    _ = report.gettext
    maturity = assess(report)
    records = {r["metric"]: r for r in report.maturity_records()}
    families = []
    for family in FAMILIES:
        metrics = [m for m in report.metrics.values() if m.family == family and m.id in records]
        if not metrics:
            continue
        families.append(
            {
                "name": _(family.capitalize()),
                "measurable": [_(m.label) for m in metrics if records[m.id]["measurable"]],
                "missing": [
                    {
                        "label": _(m.label),
                        "needs": in_words(report, records[m.id]["needs"]) or _(records[m.id].get("reason", "")),
                    }
                    for m in metrics
                    if not records[m.id]["measurable"]
                ],
            }
        )
    return {
        "level": maturity.level,
        "name": _(maturity.name),
        "next": _(maturity.next_step) if maturity.next_step else None,
        "levels": [{"number": n, "name": _(label), "reached": n <= maturity.level} for n, label, _m in LEVELS],
        "families": families,
    }


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "maturity",
            "Measurement maturity",
            "sections/maturity.html.j2",
            build,
            "What the data can and cannot measure.",
            order=80,
        )
    )
