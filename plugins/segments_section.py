"""The ``segments`` section: the top campaigns, markets, audiences and media types by the
metrics the report leads with, with their change against the first comparison period.

Channels have their own section; this one covers every other dimension the data has.
Segments are ranked by the first lead metric where higher is better (revenue, when
measurable), else by the first lead metric.
"""

from __future__ import annotations

import math

import pandas as pd

from roistory.api import (
    DIMENSIONS,
    N_,
    NO_TOUCHPOINTS,
    NOT_SET,
    ReportContext,
    ReportSection,
    hookimpl,
    mask_personal_data,
    placed_metrics,
)

TOP = 5
LEAD_METRICS = 4
DIMENSION_LABELS = {
    "campaign": N_("Top campaigns"),
    "market": N_("Top markets"),
    "audience": N_("Top audiences"),
    "media_type": N_("Top media types"),
}


def lead_metrics(report: ReportContext, dimension: str) -> list[str]:
    """The report's headline metrics (tile order) that split by ``dimension``, at most four."""
    wanted = [m.id for m in placed_metrics(report.metrics.values(), "headline") if m.id in report.selected_metrics]
    wanted = list(dict.fromkeys([*wanted, *report.listed_metrics]))
    chosen = []
    for metric_id in wanted:
        if not report.missing_inputs(metric_id) and isinstance(report.value(metric_id, dimension=dimension), pd.Series):
            chosen.append(metric_id)
        if len(chosen) == LEAD_METRICS:
            break
    return chosen


def _delta(report: ReportContext, metric_id: str, now: float, before: float) -> str:
    if math.isnan(now) or math.isnan(before):
        return ""
    fmt, _ = report.formatter, report.gettext
    metric = report.metrics[metric_id]
    if metric.unit == "percent" or metric.display == "percent":
        return _("{points} pts").format(points=fmt.points(now, before, 1))
    return fmt.change(now, before)


def build(report: ReportContext) -> dict | None:
    fmt, _ = report.formatter, report.gettext
    comparison = next((key for key in ("previous", "year_ago") if key in report.periods), None)
    tables, shown = [], []
    for dimension in [d for d in DIMENSIONS if d != "channel" and d in report.dimensions]:
        metrics = lead_metrics(report, dimension)
        if not metrics:
            continue
        # rows with no value in this dimension are not a campaign (market ...) to rank
        now = report.segment_values(metrics, dimension).drop(index=[NOT_SET, NO_TOUCHPOINTS], errors="ignore")
        ranking = next((m for m in metrics if report.metrics[m].direction == "higher"), metrics[0])
        now = now[now[ranking].notna()].sort_values(ranking, ascending=report.metrics[ranking].direction == "lower")
        if now.empty:
            continue
        before = report.segment_values(metrics, dimension, comparison) if comparison else None
        shown += metrics
        rows = []
        for segment, values in now.head(TOP).iterrows():
            cells = []
            for metric_id in metrics:
                old = before.at[segment, metric_id] if before is not None and segment in before.index else float("nan")
                cells.append(
                    {
                        "value": fmt.metric(report.metrics[metric_id], values[metric_id]),
                        "delta": _delta(report, metric_id, values[metric_id], old),
                    }
                )
            rows.append({"segment": mask_personal_data(str(segment)), "cells": cells})
        tables.append(
            {
                "dimension": dimension,
                "title": _(DIMENSION_LABELS[dimension]),
                "headers": [_(report.metrics[m].label) for m in metrics],
                "rows": rows,
                "ranked_by": _("Ranked by {metric}; {shown} of {total} shown.").format(
                    metric=_(report.metrics[ranking].label), shown=min(TOP, len(now)), total=len(now)
                ),
            }
        )
    if not tables:
        return None
    return {
        "tables": tables,
        "comparison": _("Changes are against {period}.").format(period=fmt.period(report.periods[comparison]))
        if comparison
        else None,
        "model": _(report.registry.models[report.primary_model].label) if report.attribution else None,
        "shown_metrics": shown,
    }


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "segments",
            "Beyond channels: campaigns, markets, audiences",
            "sections/segments.html.j2",
            build,
            "The top segments of every dimension besides channel, by the report's lead metrics.",
            order=45,
        )
    )
