"""The ``trends`` section: 13 months of spend, revenue and return."""

from __future__ import annotations

from functools import partial

from roistory.api import ReportContext, ReportSection, column_bands, hookimpl, line_chart, longest_word

TABLE = ["spend", "revenue", "roi", "leads", "conversions"]  # the rows every report starts with


def _series(report: ReportContext, metric_id: str) -> list[float]:
    return [report.engine_for(month).value(metric_id) for month in report.trend_periods()]


def _takeaway(report: ReportContext, metric_id: str, labels: list[str]) -> str:
    """A chart's alt text: where the metric started and where it ended."""
    metric = report.metrics[metric_id]
    values = _series(report, metric_id)
    return report.gettext("{metric}: {first} in {first_month}, {last} in {last_month}.").format(
        metric=report.gettext(metric.label),
        first=report.formatter.metric(metric, values[0]),
        first_month=labels[0],
        last=report.formatter.metric(metric, values[-1]),
        last_month=labels[-1],
    )


def build(report: ReportContext) -> dict | None:

    _ = report.gettext
    fmt = report.formatter
    months = report.trend_periods()
    labels = [fmt.month(month.start) for month in months]
    # then the metrics the report's ``metrics:`` names, whichever plugin registered them
    available = [m for m in dict.fromkeys([*TABLE, *report.listed_metrics]) if not report.missing_inputs(m)]
    if "spend" not in available:
        return None
    charts = []
    money = {_(report.metrics[m].label): _series(report, m) for m in ("spend", "revenue") if m in available}
    chart_labels = [label.replace(" ", "\n", 1) for label in labels]  # "Oct\n2025": two short lines per tick
    charts.append(
        {
            "src": line_chart(chart_labels, money, value_format=fmt.money_compact),
            "caption": _("Spend and revenue by month"),
            "alt": _takeaway(report, "revenue" if "revenue" in available else "spend", labels),
        }
    )
    if "roi" in available:
        roi = {_("ROI"): _series(report, "roi")}
        charts.append(
            {
                "src": line_chart(chart_labels, roi, value_format=partial(fmt.percent, digits=0), height=1.9),
                "caption": _("ROI by month"),
                "alt": _takeaway(report, "roi", labels),
            }
        )
    rows = []
    for metric_id in available:
        metric = report.metrics[metric_id]
        values = _series(report, metric_id)
        rows.append({"label": _(metric.label), "cells": [fmt.metric(metric, v) for v in values]})
    # bands of months that fit the page (7pt, 2.5pt padding: templates/report.css table.trend)
    columns = [[longest_word(label), *(row["cells"][i] for row in rows)] for i, label in enumerate(labels)]
    bands = [
        {
            "months": [labels[i] for i in band],
            "rows": [{"label": r["label"], "cells": [r["cells"][i] for i in band]} for r in rows],
        }
        for band in column_bands([r["label"] for r in rows], columns, font_size=7, padding=6)
    ]
    return {"charts": charts, "months": labels, "rows": rows, "bands": bands, "shown_metrics": available}


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "trends", "Trends", "sections/trends.html.j2", build, "13-month trend of spend, revenue and ROI.", order=30
        )
    )
