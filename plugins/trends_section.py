"""The ``trends`` section: 13 months of spend, revenue and return."""

from __future__ import annotations

import math
import unicodedata

from roistory.api import ReportContext, ReportSection, hookimpl

TABLE = ["spend", "revenue", "roi", "leads", "conversions"]  # the rows every report starts with
# The trend table's room, in widths of the table font's "0" (7pt DejaVu Sans, 4.45pt each): the
# content width of an A4 page (178 mm = 505pt), which is the narrower of A4 and Letter.
TABLE_WIDTH_EM = 505 / 4.45
CELL_PADDING_EM = 1.6  # 2.5pt either side, plus a border


def _width(text: str) -> float:
    """A text's printed width in digit widths: East Asian wide characters count double."""
    return sum(2.0 if unicodedata.east_asian_width(c) in "WF" else 1.0 for c in text)


def month_bands(labels: list[str], columns: list[list[str]]) -> list[range]:
    """Split the month columns into bands that each fit the page width, all bands the same size
    (13 months: one band of 13 if it fits, else 7 + 6, 5 + 4 + 4, ...), so no month is ever clipped."""
    label_width = max((_width(t) for t in labels), default=0) + CELL_PADDING_EM
    column_width = max((_width(t) for column in columns for t in column), default=1) + CELL_PADDING_EM
    fits = max(1, int((TABLE_WIDTH_EM - label_width) // column_width))
    count = len(columns)
    bands = math.ceil(count / fits)
    size = math.ceil(count / bands)
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def _series(report: ReportContext, metric_id: str) -> list[float]:
    return [report.engine_for(month).value(metric_id) for month in report.trend_periods()]


def _takeaway(report: ReportContext, metric_id: str, labels: list[str]) -> str:
    """A chart's alt text: where the metric started and where it ended."""
    metric = report.metrics[metric_id]
    values = _series(report, metric_id)
    return report.gettext("{metric}: {first} in {first_month}, {last} in {last_month}.").format(
        metric=report.gettext(metric.label), first=report.formatter.metric(metric, values[0]), first_month=labels[0],
        last=report.formatter.metric(metric, values[-1]), last_month=labels[-1],
    )


def build(report: ReportContext) -> dict | None:
    from roistory.api import line_chart  # matplotlib loads only when a chart is drawn

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
    charts.append({
        "src": line_chart(chart_labels, money, value_format=fmt.money_compact),
        "caption": _("Spend and revenue by month"),
        "alt": _takeaway(report, "revenue" if "revenue" in available else "spend", labels),
    })
    if "roi" in available:
        roi = {_("ROI"): _series(report, "roi")}
        charts.append({
            "src": line_chart(chart_labels, roi, value_format=lambda v: fmt.percent(v, 0), height=1.9),
            "caption": _("ROI by month"),
            "alt": _takeaway(report, "roi", labels),
        })
    rows = []
    for metric_id in available:
        metric = report.metrics[metric_id]
        values = _series(report, metric_id)
        rows.append({"label": _(metric.label), "cells": [fmt.metric(metric, v) for v in values]})
    # month headers wrap onto two lines ("Oct" / "2025"): the widest word of a header counts
    columns = [[max(label.split(), key=_width), *(row["cells"][i] for row in rows)] for i, label in enumerate(labels)]
    bands = [
        {"months": [labels[i] for i in band], "rows": [{"label": r["label"], "cells": [r["cells"][i] for i in band]} for r in rows]}
        for band in month_bands([r["label"] for r in rows], columns)
    ]
    return {"charts": charts, "months": labels, "rows": rows, "bands": bands}


@hookimpl
def register_report_sections(register):
    register(ReportSection("trends", "Trends", "sections/trends.html.j2", build, "13-month trend of spend, revenue and ROI.", order=30))
