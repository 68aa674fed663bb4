"""Example for register_report_sections: the five campaigns with the most spend."""

from pathlib import Path

from roistory.api import ReportSection, hookimpl


def build(report):
    spend = report.value("spend", dimension="campaign")
    if spend is None or spend.empty:
        return None  # no campaigns in the data: leave the section out
    top = spend.sort_values(ascending=False).head(5)
    money = report.formatter.money
    return {"rows": [{"campaign": name, "spend": money(value)} for name, value in top.items()]}


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "top_campaigns",
            "Top campaigns",
            "sections/top_campaigns.html.j2",
            build,
            "The five campaigns with the most spend.",
            templates=Path(__file__).parent / "templates",
        )
    )
