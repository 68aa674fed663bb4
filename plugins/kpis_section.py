"""The ``kpis`` section: headline metric tiles with change against the comparison periods."""

from __future__ import annotations

import math

from roistory.api import ReportContext, ReportSection, hookimpl, placed_metrics


def tile_metrics(report: ReportContext) -> list[str]:
    """Headline metrics (``Metric.headline``) the report shows, then those ``metrics:`` and
    ``custom_metrics:`` name: a plugin's metric gets a tile exactly as a built-in does."""
    headline = [m.id for m in placed_metrics(report.metrics.values(), "headline") if m.id in report.selected_metrics]
    custom = [c.id for c in report.config.custom_metrics]
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
        changes = []
        for key in ("previous", "year_ago"):
            if key not in report.periods:
                continue
            before = report.value(metric_id, key)
            rate = metric.display == "percent" or metric.unit == "percent"
            if rate:
                # a change of a rate reads better in points than in % of a %
                text = "" if not isinstance(before, float) or math.isnan(before) else (
                    _("{points} pts").format(points=fmt.points(value, before, 1))
                )
            else:
                text = fmt.change(value, before)
            if not text:
                continue
            # the change as printed: one that prints as zero is neutral, not a gain or a loss
            printed = round((value - before) * 100, 1) if rate else round((value - before) / abs(before), 3)
            better = (value > before) if metric.direction == "higher" else (value < before) if metric.direction == "lower" else None
            changes.append(
                {
                    "label": _("vs {period}").format(period=fmt.period(report.periods[key])),
                    "text": text,
                    "tone": "neutral" if better is None or printed == 0 else ("good" if better else "bad"),
                }
            )
        tiles.append({"id": metric_id, "label": _(metric.label), "value": fmt.metric(metric, value), "changes": changes})
    return {"tiles": tiles, "shown_metrics": [t["id"] for t in tiles]} if tiles else None


@hookimpl
def register_report_sections(register):
    register(ReportSection("kpis", "Key figures", "sections/kpis.html.j2", build, "Headline metric tiles.", order=20))
