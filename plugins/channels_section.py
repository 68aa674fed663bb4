"""The ``channels`` section: spend, revenue and return per channel, with a chart."""

from __future__ import annotations

import math

from roistory.api import ReportContext, ReportSection, column_bands, hookimpl, horizontal_bars, longest_word

COLUMNS = ["spend", "revenue", "roi", "roas", "conversions", "cpa", "leads", "cpl"]  # every report's columns
HEADERS = {
    "spend": "Spend",
    "revenue": "Revenue",
    "roi": "ROI",
    "roas": "ROAS",
    "conversions": "Conv.",
    "cpa": "CPA",
    "leads": "Leads",
    "cpl": "CPL",
}


def build(report: ReportContext) -> dict | None:

    if "channel" not in report.dimensions:
        return None
    fmt = report.formatter
    _ = report.gettext
    columns = [c for c in COLUMNS if not report.missing_inputs(c)]
    # then the metrics the report's ``metrics:`` names that split by channel, from any plugin
    columns += [
        m
        for m in report.listed_metrics
        if m not in columns and not report.missing_inputs(m) and report.value(m, dimension="channel") is not None
    ]
    table = report.segment_values(columns, "channel")
    if table.empty:
        return None
    if "spend" in table:
        table = table.sort_values("spend", ascending=False, na_position="last")
    previous_roi = (
        report.segment_values(["roi"], "channel", "previous")["roi"]
        if "previous" in report.periods and "roi" in columns
        else None
    )
    rows = []
    for channel, values in table.iterrows():
        cells = [fmt.metric(report.metrics[c], values[c]) for c in columns]
        change = ""
        if previous_roi is not None and channel in previous_roi.index:
            before, now = previous_roi[channel], values["roi"]
            if not (math.isnan(before) or math.isnan(now)):
                change = _("{points} pts").format(points=fmt.points(now, before, 0))
        rows.append({"channel": str(channel), "cells": cells, "roi_change": change})
    totals = [fmt.metric(report.metrics[c], report.value(c)) for c in columns]
    chart = alt = None
    if {"spend", "revenue"} <= set(columns):
        plotted = table[["spend", "revenue"]].fillna(0.0)
        plotted = plotted[(plotted["spend"] > 0) | (plotted["revenue"] > 0)]
        if not plotted.empty:  # an empty period has nothing to plot and no takeaway to state
            chart = horizontal_bars(
                [str(i) for i in plotted.index],
                {_("Spend"): list(plotted["spend"]), _("Revenue"): list(plotted["revenue"])},
                value_format=fmt.money_compact,
                color_by_label=True,  # a channel has one colour in every chart of the report
            )
            top = plotted["revenue"].idxmax()
            alt = _("{channel} brought the most revenue: {revenue} on {spend} of spend.").format(
                channel=top, revenue=fmt.money(plotted.loc[top, "revenue"]), spend=fmt.money(plotted.loc[top, "spend"])
            )
    headers = [_(HEADERS[c]) if c in HEADERS else _(report.metrics[c].label) for c in columns]
    # the printed table: ROI change as a last column, in bands of columns that fit the page
    # (8pt, 4pt padding either side: templates/report.css table.data)
    with_change = previous_roi is not None
    all_headers = headers + ([_("ROI change")] if with_change else [])
    all_cells = [r["cells"] + ([r["roi_change"]] if with_change else []) for r in rows]
    all_totals = totals + ([""] if with_change else [])
    texts = [[longest_word(h), all_totals[i], *(cells[i] for cells in all_cells)] for i, h in enumerate(all_headers)]
    bands = [
        {
            "headers": [all_headers[i] for i in band],
            "rows": [
                {"channel": r["channel"], "cells": [cells[i] for i in band]}
                for r, cells in zip(rows, all_cells, strict=True)
            ],
            "totals": [all_totals[i] for i in band],
        }
        for band in column_bands([r["channel"] for r in rows] + [_("Total")], texts, font_size=8, padding=9)
    ]
    return {
        "headers": headers,
        "rows": rows,
        "totals": totals,
        "bands": bands,
        "shown_metrics": columns,
        "chart": chart,
        "chart_alt": alt,
        "show_roi_change": previous_roi is not None,
        "model": _(report.registry.models[report.primary_model].label) if report.attribution else None,
    }


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "channels",
            "Channels",
            "sections/channels.html.j2",
            build,
            "Spend, revenue and return per channel.",
            order=40,
        )
    )
