"""The ``goals`` section: SMART objectives with progress, forecast and status."""

from __future__ import annotations

from roistory.api import ReportContext, ReportSection, hookimpl


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


def build(report: ReportContext) -> dict | None:
    from roistory.api import goal_chart  # matplotlib loads only when a chart is drawn

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
                "chart": goal_chart(
                    [month_names.get(label, label) for label, _v in goal.trend], [v for _l, v in goal.trend],
                    monthly_target(report, goal, metric),
                    value_format=lambda v, m=metric: fmt.metric(m, v),
                ) if goal.trend else None,
            }
        )
    return {"goals": goals, "shown_metrics": [g.metric for g in report.goals]}


@hookimpl
def register_report_sections(register):
    register(ReportSection("goals", "Goals", "sections/goals.html.j2", build, "SMART goals with pacing forecasts.", order=70))
