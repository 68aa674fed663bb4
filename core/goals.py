"""SMART goals: validation, progress and a pacing forecast to the deadline.

Forecast methods (stated in the report next to each goal):

- flows that add up over time (spend, leads, SQLs, revenue: ``aggregation == "sum"``)
  use the run-rate: the value so far × the goal window's days / the days elapsed;
- rates, ratios and levels use a straight line through the last six monthly
  values, extended to the deadline's month (the latest value when fewer than
  three months are measurable).

Status compares the forecast with the target: on track when it reaches it,
at risk when it falls short by at most 10 % of the target, off track beyond.
For lower-is-better metrics (CPL, CAC, churn) "reaching" means "at or below".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from roistory.errors import ConfigError
from roistory.metrics import DIMENSIONS, Metric
from roistory.periods import Period

if TYPE_CHECKING:
    from roistory.config import Config, GoalConfig
    from roistory.metrics import MetricEngine


class Report(Protocol):
    """What goal evaluation reads from a report (the report context provides it)."""

    config: Config
    metrics: Mapping[str, Metric]

    @property
    def period(self) -> Period: ...

    def engine_for(self, period: Period) -> MetricEngine: ...

    def trend_periods(self, months: int = ...) -> list[Period]: ...

AT_RISK_MARGIN = 0.10
TREND_MONTHS = 6


def parse_target(goal: GoalConfig, metric: Metric, key: str) -> float:
    """The target as a number in the metric's unit (percent metrics are fractions: 0.2 = 20 %)."""
    target = goal.target
    percent_metric = metric.unit == "percent"
    written_as_percent = False
    if isinstance(target, str):
        text = target.strip().replace(",", "")
        if text.endswith("%"):
            if not percent_metric:
                raise ConfigError(
                    f"goal '{goal.id}' gives a percentage target '{target}' but {metric.id} is measured in {metric.unit}",
                    key=f"{key}.target",
                )
            text, written_as_percent = text[:-1], True
        try:
            target = float(text) / (100 if written_as_percent else 1)
        except ValueError:
            raise ConfigError(
                f"goal '{goal.id}' is not Measurable: target '{goal.target}' is not a number", key=f"{key}.target"
            ) from None
    if not (math.isfinite(target) and target > 0):  # "-5%", 0, 1e999: nothing a report can reach
        raise ConfigError(
            f"goal '{goal.id}' is not Measurable: the target must be a positive number, got '{goal.target}'",
            key=f"{key}.target",
        )
    if percent_metric and not written_as_percent and target > 1:
        raise ConfigError(
            f"goal '{goal.id}': {metric.id} is a percentage written as a fraction (0.25 = 25%); "
            f"a target of {target:g} is not possible — write {target / 100:g} or '{target:g}%'",
            key=f"{key}.target",
        )
    return float(target)


def check_goals(config: Config, metrics: dict[str, Metric], period: Period) -> None:
    """Reject goals that are not SMART, naming the letter they fail."""
    for i, goal in enumerate(config.goals):
        key = f"goals[{i}]"
        if not goal.metric:
            raise ConfigError(f"goal '{goal.id}' is not Measurable: it names no metric", key=f"{key}.metric")
        if goal.metric not in metrics:
            raise ConfigError(f"goal '{goal.id}' is not Measurable: unknown metric '{goal.metric}'", key=f"{key}.metric")
        if goal.target is None:
            raise ConfigError(f"goal '{goal.id}' is not Measurable: it has no numeric target", key=f"{key}.target")
        parse_target(goal, metrics[goal.metric], key)
        if len(goal.segment) > 1 or any(d not in DIMENSIONS for d in goal.segment):
            raise ConfigError(
                f"goal '{goal.id}' is not Specific: a segment names one dimension of {', '.join(DIMENSIONS)}",
                key=f"{key}.segment",
            )
        if not goal.owner:
            raise ConfigError(f"goal '{goal.id}' is not Assigned: it has no owner", key=f"{key}.owner")
        if goal.deadline is None:
            raise ConfigError(f"goal '{goal.id}' is not Time-bound: it has no deadline", key=f"{key}.deadline")
        if goal.deadline < period.start:
            raise ConfigError(
                f"goal '{goal.id}' is not Time-bound: its deadline {goal.deadline} is before the report period "
                f"starts ({period.start})",
                key=f"{key}.deadline",
            )
        if goal.start and goal.start > goal.deadline:
            raise ConfigError(f"goal '{goal.id}' starts after its deadline", key=f"{key}.start")


@dataclass
class GoalResult:
    id: str
    objective: str | None
    metric: str
    segment: dict[str, str]
    baseline: float | None
    target: float
    actual: float | None
    forecast: float | None
    progress: float | None
    status: str  # on_track, at_risk, off_track, not_measurable
    method: str  # English, with {placeholders} filled from method_params
    owner: str
    deadline: date
    trend: list[tuple[str, float]]
    method_params: dict[str, int] = field(default_factory=dict)

    @property
    def method_text(self) -> str:
        return self.method.format(**self.method_params)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "metric": self.metric,
            "segment": self.segment,
            "baseline": self.baseline,
            "actual": self.actual,
            "target": self.target,
            "progress": self.progress,
            "forecast": self.forecast,
            "status": self.status,
            "method": self.method_text,
            "owner": self.owner,
            "deadline": self.deadline.isoformat(),
        }


def _value(report: Report, metric_id: str, period: Period, segment: dict[str, str]) -> float | None:
    engine = report.engine_for(period)
    if not segment:
        value = engine.value(metric_id)
    else:
        (dimension, wanted), = segment.items()
        series = engine.value(metric_id, dimension)
        value = None if series is None else series.get(wanted, float("nan"))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def status_of(forecast: float, target: float, direction: str) -> str:
    scale = abs(target) or 1.0
    gap = (forecast - target) / scale
    if direction == "lower":
        gap = -gap
    if gap >= 0:
        return "on_track"
    return "at_risk" if gap >= -AT_RISK_MARGIN else "off_track"


def _months_between(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month


def evaluate_goal(report: Report, goal: GoalConfig, index: int) -> GoalResult:
    metric = report.metrics[goal.metric]
    target = parse_target(goal, metric, f"goals[{index}]")
    start = goal.start or report.period.start
    as_of = min(report.period.end, goal.deadline)
    window = Period(start, max(start, as_of), f"{start}..{as_of}")
    actual = _value(report, metric.id, window, goal.segment) if as_of >= start else None
    trend = [
        (month.label, value)
        for month in report.trend_periods()
        if (value := _value(report, metric.id, month, goal.segment)) is not None
    ]
    forecast: float | None = None
    method_params: dict[str, int] = {}
    if as_of < start:  # the goal starts after this report's period
        method = "starts after the report period"
    elif actual is None:
        method = "not measurable"
    elif as_of >= goal.deadline:
        forecast, method = actual, "final value (deadline reached)"
    elif metric.aggregation == "sum":
        elapsed = (as_of - start).days + 1
        total = (goal.deadline - start).days + 1
        forecast, method = actual * total / elapsed, "run-rate over {elapsed} of {total} days"
        method_params = {"elapsed": elapsed, "total": total}
    else:
        recent = trend[-TREND_MONTHS:]
        if len(recent) >= 3:
            x = np.arange(len(recent), dtype=float)
            slope, intercept = np.polyfit(x, [v for _, v in recent], 1)
            ahead = _months_between(report.period.end, goal.deadline)
            forecast = float(intercept + slope * (len(recent) - 1 + ahead))
            method, method_params = "linear trend of the last {months} months", {"months": len(recent)}
        else:
            forecast, method = actual, "latest value (under three months of history)"
    if actual is None or forecast is None:
        progress, status = None, "not_measurable"
    else:
        if metric.direction == "lower":
            progress = target / actual if actual else None
        else:
            progress = actual / target if target else None
        status = status_of(forecast, target, metric.direction)
    return GoalResult(
        goal.id, goal.objective, metric.id, dict(goal.segment), goal.baseline, target, actual, forecast,
        progress, status, method, goal.owner or "", goal.deadline, trend, method_params,
    )


def evaluate_goals(report: Report) -> list[GoalResult]:
    return [evaluate_goal(report, goal, i) for i, goal in enumerate(report.config.goals)]


def met_at_baseline(goal: GoalConfig, metric: Metric, target: float) -> bool:
    if goal.baseline is None:
        return False
    return goal.baseline <= target if metric.direction == "lower" else goal.baseline >= target


