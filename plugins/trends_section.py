"""The ``trends`` section: 13 months of spend, revenue and return."""

from __future__ import annotations

import math

from roistory.api import ReportContext, ReportSection, hookimpl

TABLE = ["spend", "revenue", "roi", "leads", "conversions"]  # the rows every report starts with


def _series(report: ReportContext, metric_id: str) -> list[float]:
    return [report.engine_for(month).value(metric_id) for month in report.trend_periods()]


def build(report: ReportContext) -> dict | None:
    from roistory.api import line_chart  # matplotlib loads only when a chart is drawn

    _ = report.gettext
    fmt = report.formatter
    months = report.trend_periods()
    labels = [month.start.strftime("%m/%y") for month in months]
    # then the metrics the report's ``metrics:`` names, whichever plugin registered them
    available = [m for m in dict.fromkeys([*TABLE, *report.listed_metrics]) if not report.missing_inputs(m)]
    if "spend" not in available:
        return None
    charts = []
    money = {_(report.metrics[m].label): _series(report, m) for m in ("spend", "revenue") if m in available}
    charts.append(
        {"src": line_chart(labels, money, value_format=fmt.money_compact), "caption": _("Spend and revenue by month")}
    )
    if "roi" in available:
        roi = {_("ROI"): _series(report, "roi")}
        charts.append({"src": line_chart(labels, roi, value_format=lambda v: fmt.percent(v, 0), height=1.9), "caption": _("ROI by month")})
    rows = []
    for metric_id in available:
        metric = report.metrics[metric_id]
        values = _series(report, metric_id)
        rows.append({"label": _(metric.label), "cells": [fmt.metric(metric, v) if not (isinstance(v, float) and math.isnan(v)) else "n/m" for v in values]})
    return {"charts": charts, "months": labels, "rows": rows}


@hookimpl
def register_report_sections(register):
    register(ReportSection("trends", "Trends", "sections/trends.html.j2", build, "13-month trend of spend, revenue and ROI.", order=30))
