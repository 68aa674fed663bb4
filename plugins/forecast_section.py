"""The ``forecast`` section: marketing's claim on the forecast — expected revenue from the
open marketing-sourced pipeline, by coming month and by stage, with the method stated."""

from __future__ import annotations

from roistory.api import N_, ReportContext, ReportSection, hookimpl, parse_period

STAGES = {"opportunity": N_("Opportunity"), "sql": N_("SQL"), "mql": N_("MQL"), "lead": N_("Lead")}


def build(report: ReportContext) -> dict | None:
    forecast = report.forecast
    if forecast is None or not forecast.months:
        return None
    fmt, _ = report.formatter, report.gettext
    stages = []
    for stage in forecast.stages:
        if not stage.open_leads:
            continue
        stages.append(
            {
                "stage": _(STAGES[stage.stage]),
                "open_leads": fmt.number(stage.open_leads),
                "open_amount": fmt.money(stage.open_amount),
                "close_rate": fmt.percent(stage.close_rate) if stage.close_rate is not None else "—",
                "basis": _("{won} won of {resolved} resolved").format(
                    won=fmt.number(stage.won), resolved=fmt.number(stage.resolved)
                ),
                "small_sample": stage.small_sample,
                "median_days": fmt.number(stage.median_days) if stage.median_days is not None else "—",
                "expected": fmt.money(stage.expected_revenue),
            }
        )
    params = forecast.method_params
    return {
        "total": fmt.money(forecast.total),
        "headline": _("Open marketing-sourced pipeline is expected to bring {total} of revenue after {period}.").format(
            total=fmt.money(forecast.total), period=fmt.period(report.period)
        ),
        "months": [
            {"month": fmt.period(parse_period(month)), "value": fmt.money(value)} for month, value in forecast.months
        ],
        "stages": stages,
        "unrated": _(
            "{amount} of open pipeline is in stages with no resolved lead in the history and is left out."
        ).format(amount=fmt.money(forecast.unrated))
        if forecast.unrated
        else None,
        "overdue": _(
            "{count} open leads are already past their stage's median time to close; they are placed in {month}."
        ).format(count=fmt.number(forecast.overdue), month=fmt.period(parse_period(forecast.months[0][0])))
        if forecast.overdue
        else None,
        "method": _(
            "Method: open marketing-sourced pipeline by stage × the stage's close rate (won / won or lost, "
            "leads resolved in the {months} months to {end}); each lead placed at its stage date + the "
            "stage's median days to close."
        ).format(months=params["months"], end=fmt.period(parse_period(params["end"]))),
    }


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "forecast",
            "Marketing's claim on the forecast",
            "sections/forecast.html.j2",
            build,
            "Expected revenue from the open marketing-sourced pipeline, by month and stage.",
            order=55,
        )
    )
