"""The ``funnel`` section: leads → MQL → SQL → opportunity → won, by source channel."""

from __future__ import annotations

from roistory.api import ReportContext, ReportSection, hookimpl, horizontal_bars

STAGES = [
    ("leads", "created_at", "Leads"),
    ("mqls", "mql_at", "MQLs"),
    ("sqls", "sql_at", "SQLs"),
    ("opportunities", "opportunity_at", "Opportunities"),
    ("won_deals", "won_at", "Won"),
]


def _median_days(report: ReportContext, column: str, previous: str) -> float:
    """Median days from the previous stage to this one, for leads reaching this stage in the period."""
    leads = report.engines["current"].data.rows("leads", column)
    days = (leads[column] - leads[previous]).dt.days.dropna()
    return float(days.median()) if len(days) else float("nan")


def build(report: ReportContext) -> dict | None:

    _ = report.gettext
    fmt = report.formatter
    stages = [(m, c, label) for m, c, label in STAGES if not report.missing_inputs(m)]
    if len(stages) < 2:
        return None
    rows = []
    for i, (metric_id, column, label) in enumerate(stages):
        count = report.value(metric_id)
        rate = days = None
        if i:
            before = report.value(stages[i - 1][0])
            rate = fmt.percent(count / before) if before else "n/m"
            days = fmt.number(_median_days(report, column, stages[i - 1][1]), 0)
        rows.append({"stage": _(label), "count": fmt.number(count), "rate": rate, "days": days})
    by_channel = report.segment_values([m for m, _c, _l in stages], "channel")
    channel_rows = []
    for channel, values in by_channel.fillna(0).sort_values("leads", ascending=False).iterrows():
        close = values.get("won_deals", 0) / values["sqls"] if "sqls" in values and values["sqls"] else float("nan")
        channel_rows.append(
            {
                "channel": str(channel),
                "cells": [fmt.number(values[m]) for m, _c, _l in stages],
                "close_rate": fmt.percent(close),
            }
        )
    chart = horizontal_bars(
        [r["stage"] for r in rows],
        {_("Count"): [report.value(m) for m, _c, _l in stages]},
        value_format=fmt.number,
        width=6.8,  # the full text width: legible at print size
    )
    alt = _("Of {first_count} {first_stage}, {last_count} reached {last_stage}.").format(
        first_count=rows[0]["count"],
        first_stage=rows[0]["stage"],
        last_count=rows[-1]["count"],
        last_stage=rows[-1]["stage"],
    )
    facts = []
    for metric_id in ("pipeline", "close_rate", "marketing_sourced_close_rate", "sales_cycle_days", "avg_deal_size"):
        if not report.missing_inputs(metric_id):
            metric = report.metrics[metric_id]
            facts.append(
                {"id": metric_id, "label": _(metric.label), "value": fmt.metric(metric, report.value(metric_id))}
            )
    return {
        "stages": rows,
        "stage_labels": [_(label) for _m, _c, label in stages],
        "channels": channel_rows,
        "chart": chart,
        "chart_alt": alt,
        "shown_metrics": [m for m, _c, _l in stages] + [f["id"] for f in facts],
        "facts": facts,
    }


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "funnel",
            "Funnel and sales alignment",
            "sections/funnel.html.j2",
            build,
            "Lead funnel by stage and source channel.",
            order=50,
        )
    )
