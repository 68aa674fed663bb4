"""The ``goals`` section: SMART objectives with progress, forecast and status."""

from __future__ import annotations

from roistory.api import ReportContext, ReportSection, hookimpl

STATUS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track", "not_measurable": "Not measurable"}


def build(report: ReportContext) -> dict | None:
    from roistory.api import goal_chart  # matplotlib loads only when a chart is drawn

    if not report.goals:
        return None
    _ = report.gettext
    fmt = report.formatter
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
                "chart": goal_chart(
                    [label for label, _v in goal.trend], [v for _l, v in goal.trend], goal.target,
                    value_format=lambda v, m=metric: fmt.metric(m, v),
                ) if goal.trend else None,
            }
        )
    return {"goals": goals, "shown_metrics": [g.metric for g in report.goals]}


@hookimpl
def register_report_sections(register):
    register(ReportSection("goals", "Goals", "sections/goals.html.j2", build, "SMART goals with pacing forecasts.", order=70))
