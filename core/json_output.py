"""The report as JSON: SPEC's schema (plus monthly ``trends``), serialised from the report context."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from roistory import __version__
from roistory.attribution_run import attribution_records
from roistory.drivers import driver_records
from roistory.incrementality import incrementality_records
from roistory.maturity import assess
from roistory.metrics import placed_metrics
from roistory.quality import mask_personal_data
from roistory.recommendations import measured_lift, recommendation_records

if TYPE_CHECKING:
    from roistory.context import ReportContext


def metric_records(report: ReportContext) -> list[dict[str, Any]]:
    """The JSON ``metrics`` list: every measurable value, by period and segment."""
    records = []
    for metric_id in report.selected_metrics:
        unit = report.metrics[metric_id].unit
        for period in report.periods:
            for dimension in [None, *report.dimensions]:
                value = report.value(metric_id, period, dimension)
                if value is None:
                    continue
                items = value.items() if isinstance(value, pd.Series) else [(None, value)]
                for segment, number in items:
                    if number is None or math.isnan(number):
                        continue
                    records.append(
                        {
                            "id": metric_id,
                            "period": period,
                            # a campaign named after someone's e-mail address: masked, as everywhere
                            "segment": {dimension: mask_personal_data(str(segment))} if dimension else {},
                            "value": float(number),
                            "unit": unit,
                        }
                    )
    return records


def trend_metrics(report: ReportContext) -> list[str]:
    """The metrics with a monthly series: those registered with ``trend`` that the report
    shows and whose inputs are there."""
    flagged = [m.id for m in placed_metrics(report.metrics.values(), "trend")]
    return [m for m in flagged if m in report.selected_metrics and not report.missing_inputs(m)]


def trend_records(report: ReportContext) -> list[dict[str, Any]]:
    """Monthly totals over the 13 months ending with the period (an extension of SPEC's JSON)."""
    records = []
    months = report.trend_periods()
    for metric_id in trend_metrics(report):
        for month in months:
            value = report.engine_for(month).value(metric_id)
            if isinstance(value, float) and not math.isnan(value):
                records.append({"id": metric_id, "month": month.label, "value": value})
    return records


def report_as_json(report: ReportContext, narrative: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """SPEC's JSON; ``narrative``: the sentences the rendered sections said, with their traced numbers."""
    settings = report.config.report
    return {
        "roistory_version": __version__,
        "report": {
            "title": settings.title,
            "period": report.period.as_json(),
            "currency": settings.currency,
            "locale": settings.locale,
            "edition": report.edition.id,
            "margin": settings.margin,
        },
        "inputs": [source.as_json() for source in report.inputs],
        "metrics": metric_records(report),
        "attribution": attribution_records(report.attribution),
        "incrementality": incrementality_records(report),
        "goals": [goal.as_json() for goal in report.goals],
        "maturity": report.maturity_records(),
        "maturity_level": assess(report).as_json(),
        "trends": trend_records(report),
        "forecast": report.forecast.as_json() if report.forecast else [],
        "data_quality": [finding.as_json() for finding in report.data_quality],
        "drivers": driver_records(report),
        "narrative": list(narrative or []),
        "recommendations": recommendation_records(report, measured_lift(report)),
    }


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (a sum that overflowed) as null: strict JSON,
    where null means not measurable (the data-quality findings say why)."""
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def report_json(report: ReportContext, narrative: list[dict[str, Any]] | None = None) -> str:
    """The JSON file's text: indented, UTF-8, strict (never NaN or Infinity)."""
    return json.dumps(finite(report_as_json(report, narrative)), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
