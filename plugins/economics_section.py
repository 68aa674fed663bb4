"""The ``economics`` section: customer economics on tiles — CLV, CLV:CAC, payback, CAC and churn.

CLV uses the average monthly churn over the 12 months ending with the period (see
``customer_metrics``); the section states that window and the counts behind it.
"""

from __future__ import annotations

import math

from roistory.api import ReportContext, ReportSection, hookimpl, metric_change

TILES = ("clv", "clv_to_cac", "payback_months", "cac", "monthly_churn_rate", "churn_rate")


def _measured(value) -> bool:
    return isinstance(value, float) and not math.isnan(value)


def build(report: ReportContext) -> dict | None:
    if "customers" not in report.tables:
        return None
    fmt, _ = report.formatter, report.gettext
    tiles = []
    for metric_id in TILES:
        if metric_id not in report.metrics:
            continue
        metric = report.metrics[metric_id]
        value = report.value(metric_id)
        if not _measured(value):
            continue  # listed in the maturity section with what it needs, never a 0 tile
        changes = [c for key in ("previous", "year_ago") if (c := metric_change(report, metric, value, key))]
        tiles.append(
            {"id": metric_id, "label": _(metric.label), "value": fmt.metric(metric, value), "changes": changes}
        )
    if not tiles:
        return None
    churned, at_risk = report.value("churned_in_window"), report.value("churn_customer_months")
    window = None
    if _measured(churned) and _measured(at_risk) and at_risk > 0:
        first = report.trend_periods(12)[0]
        window = _(
            "CLV = average MRR × margin ÷ average monthly churn over the 12 months {first} – {last}: "
            "{churned} customers churned in {months} customer-months at risk. Margin used: {margin}."
        ).format(
            first=fmt.period(first),
            last=fmt.period(report.trend_periods(1)[0]),
            churned=fmt.number(churned),
            months=fmt.number(at_risk),
            margin=fmt.number(report.config.report.margin, 2),
        )
    return {"tiles": tiles, "window": window, "shown_metrics": [t["id"] for t in tiles]}


@hookimpl
def register_report_sections(register):
    register(
        ReportSection(
            "economics",
            "Customer economics",
            "sections/economics.html.j2",
            build,
            "CLV, CLV:CAC, payback, CAC and churn on tiles, with the churn window CLV uses.",
            order=25,
        )
    )
