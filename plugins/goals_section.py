"""The ``goals`` section: company goals, the SMART objectives under each (marketing's and
sales' side by side) with progress, forecast, status and the A and R checks."""

from __future__ import annotations

from functools import partial
from itertools import zip_longest

from roistory.api import N_, ReportContext, ReportSection, goal_chart, hookimpl


def monthly_target(report: ReportContext, goal, metric) -> float:
    """The target the chart's monthly values are held against: a total over several months
    (300 SQLs a quarter) as its monthly pace (100 a month); a rate or an average as it is."""
    if metric.aggregation != "sum":
        return goal.target
    config = next((g for g in report.config.goals if g.id == goal.id), None)
    start = (config.start if config is not None and config.start else None) or report.period.start
    months = (goal.deadline.year - start.year) * 12 + goal.deadline.month - start.month + 1
    return goal.target / max(1, months)


STATUS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track", "not_measurable": "Not measurable"}
TEAMS = {"marketing": N_("Marketing"), "sales": N_("Sales"), None: N_("Team not stated")}


def _attainability_note(report: ReportContext, goal, show) -> str | None:
    """The numbers behind "not attainable on history"."""
    if goal.attainable is not False:
        return None
    _ = report.gettext
    if report.metrics[goal.metric].aggregation == "sum":
        text = _("Needs {required} a month to the deadline; the best month of the last 13 reached {best}.")
    else:
        text = _("The target {required} is beyond the best monthly value of the last 13 months, {best}.")
    return text.format(required=show(goal.required_pace), best=show(goal.best_pace))


def build(report: ReportContext) -> dict | None:

    if not report.goals:
        return None
    _ = report.gettext
    fmt = report.formatter
    month_names = {m.label: fmt.month(m.start).replace(" ", "\n", 1) for m in report.trend_periods()}  # one month style
    goals = []
    for goal in report.goals:
        metric = report.metrics[goal.metric]
        show = lambda v, m=metric: fmt.metric(m, v)  # noqa: E731
        segment = ", ".join(f"{k}: {v}" for k, v in goal.segment.items())
        goals.append(
            {
                "id": goal.id,
                "objective": goal.objective or f"{_(metric.label)} → {show(goal.target)}",
                "metric": _(metric.label) + (f" ({segment})" if segment else ""),
                "baseline": show(goal.baseline) if goal.baseline is not None else "—",
                "actual": show(goal.actual),
                "target": show(goal.target),
                "forecast": show(goal.forecast),
                "progress": fmt.percent(goal.progress, 0) if goal.progress is not None else "n/m",
                "status": goal.status,
                "status_label": _(STATUS[goal.status]),
                "method": _(goal.method).format(**goal.method_params),
                "owner": goal.owner,
                "deadline": fmt.date(goal.deadline),
                "goal": goal.goal,
                "team": goal.team,
                "not_attainable": _attainability_note(report, goal, show),
                "relevance_not_stated": not goal.goal,
                "chart": goal_chart(
                    [month_names.get(label, label) for label, _v in goal.trend],
                    [v for _l, v in goal.trend],
                    monthly_target(report, goal, metric),
                    value_format=partial(fmt.as_display, metric.shown_as),  # a metric may not pickle
                )
                if goal.trend
                else None,
            }
        )
    return {"goals": goals, "groups": _grouped(report, goals), "shown_metrics": [g.metric for g in report.goals]}


def _grouped(report: ReportContext, goals: list[dict]) -> list[dict]:
    """Objectives under their company goal (declared order; those naming none last), split
    into team columns — marketing beside sales — when any objective states its team."""
    _ = report.gettext
    by_team = any(g["team"] for g in goals)
    headings = [(c.id, c.statement) for c in report.config.company_goals]
    headings.append((None, _("Objectives that name no company goal")))
    groups = []
    for goal_id, statement in headings:
        members = [g for g in goals if g["goal"] == goal_id]
        if not members:
            if goal_id is not None:
                groups.append(
                    {
                        "statement": statement,
                        "columns": [],
                        "rows": [],
                        "empty": _("No objective serves this goal yet."),
                    }
                )
            continue
        if by_team:
            teams = ["marketing", "sales"] + ([None] if any(g["team"] is None for g in members) else [])
            columns = [{"team": _(TEAMS[t]), "goals": [g for g in members if g["team"] == t]} for t in teams]
        else:
            columns = [{"team": None, "goals": members}]
        # printed row by row (marketing's n-th objective beside sales' n-th) so a page can break between rows
        rows = [list(row) for row in zip_longest(*(c["goals"] for c in columns))]
        groups.append({"statement": statement, "columns": columns, "rows": rows, "empty": None})
    return groups


@hookimpl
def register_report_sections(register):
    register(
        ReportSection("goals", "Goals", "sections/goals.html.j2", build, "SMART goals with pacing forecasts.", order=70)
    )
