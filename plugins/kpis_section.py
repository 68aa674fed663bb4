"""The ``kpis`` section: headline metric tiles with change against the comparison periods."""

from __future__ import annotations

import math

from roistory.api import ReportContext, ReportSection, hookimpl, metric_change, placed_metrics


def tile_metrics(report: ReportContext) -> list[str]:
    """Headline metrics (``Metric.headline``) the report shows, then those ``metrics:`` and
    ``custom_metrics:`` name: a plugin's metric gets a tile exactly as a built-in does."""
    headline = [m.id for m in placed_metrics(report.metrics.values(), "headline") if m.id in report.selected_metrics]
    custom = [c.id for c in report.config.custom_metrics]
    lead = list(report.edition.lead_metrics)  # an edition's own metrics come first, whether headline or not
    if lead:
        return [m for m in dict.fromkeys([*lead, *report.listed_metrics, *custom]) if m in report.metrics]
    return list(dict.fromkeys([*headline, *report.listed_metrics, *custom]))


def build(report: ReportContext) -> dict | None:
    fmt = report.formatter
    _ = report.gettext
    wanted = tile_metrics(report)
    tiles = []
    for metric_id in wanted:
        metric = report.metrics[metric_id]
        value = report.value(metric_id)
        if not isinstance(value, float) or math.isnan(value):
            continue  # shown in the maturity list, never as a 0 tile
        changes = [c for key in ("previous", "year_ago") if (c := metric_change(report, metric, value, key))]
        tiles.append(
            {"id": metric_id, "label": _(metric.label), "value": fmt.metric(metric, value), "changes": changes}
        )
    return {"tiles": tiles, "shown_metrics": [t["id"] for t in tiles]} if tiles else None


@hookimpl
def register_report_sections(register):
    register(ReportSection("kpis", "Key figures", "sections/kpis.html.j2", build, "Headline metric tiles.", order=20))
