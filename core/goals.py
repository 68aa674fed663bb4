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

The A and R of SMART, checked against the data (flags, not errors):

- *not attainable on history*: the pace the objective requires exceeds the best pace
  its metric reached in the 13 monthly values of the history by more than
  :data:`ATTAINABLE_FACTOR`. For flows (``aggregation == "sum"``) the required pace is
  (target − actual so far) / the months left to the deadline, against the best month;
  for rates and levels it is the target itself, against the best monthly value (the
  lowest for lower-is-better metrics, where the target must not be below best / factor).
- *relevance not stated*: the objective names no company goal (``goal:``), so nothing
  says why it matters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
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
# "not attainable on history": the required pace is more than 1.5 × the best pace in the history
ATTAINABLE_FACTOR = 1.5
DAYS_PER_MONTH = 30.4375


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
                    f"goal '{goal.id}' gives a percentage target '{target}' but {metric.id} is measured in "
                    f"{metric.unit}",
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


def check_company_goals(config: Config) -> None:
    """Company goals have distinct ids, and an objective's ``goal:`` names one of them."""
    ids = [goal.id for goal in config.company_goals]
    for i, goal_id in enumerate(ids):
        if ids.index(goal_id) != i:
            raise ConfigError(f"company goal id '{goal_id}' is used twice", key=f"company_goals[{i}].id")
    for i, objective in enumerate(config.goals):
        if objective.goal is not None and objective.goal not in ids:
            known = f"; declared: {', '.join(ids)}" if ids else "; declare it under company_goals"
            raise ConfigError(
                f"objective '{objective.id}' serves goal '{objective.goal}', which is not a company goal{known}",
                key=f"goals[{i}].goal",
            )


def check_goals(config: Config, metrics: dict[str, Metric], period: Period) -> None:
    """Reject goals that are not SMART, naming the letter they fail."""
    for i, goal in enumerate(config.goals):
        key = f"goals[{i}]"
        if not goal.metric:
            raise ConfigError(f"goal '{goal.id}' is not Measurable: it names no metric", key=f"{key}.metric")
        if goal.metric not in metrics:
            raise ConfigError(
                f"goal '{goal.id}' is not Measurable: unknown metric '{goal.metric}'", key=f"{key}.metric"
            )
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
    goal: str | None = None  # the company goal it serves
    team: str | None = None  # marketing or sales
    required_pace: float | None = None  # per month for flows, the target for rates and levels
    best_pace: float | None = None  # the best monthly value in the history
    attainable: bool | None = None  # None: not assessed (no history, nothing left to do)

    @property
    def flags(self) -> list[str]:
        """``not_attainable_on_history`` and ``relevance_not_stated``, when they apply."""
        return [
            flag
            for flag, applies in (
                ("not_attainable_on_history", self.attainable is False),
                ("relevance_not_stated", not self.goal),
            )
            if applies
        ]

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
            "goal": self.goal,
            "team": self.team,
            "required_pace": self.required_pace,
            "best_pace": self.best_pace,
            "flags": self.flags,
        }


def _value(report: Report, metric_id: str, period: Period, segment: dict[str, str]) -> float | None:
    engine = report.engine_for(period)
    if not segment:
        value = engine.value(metric_id)
    else:
        ((dimension, wanted),) = segment.items()
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
    # a goal that starts after the period has all its window ahead of it
    since = max(as_of, start - timedelta(days=1))
    required, best, attainable = attainability(metric, target, actual, since, goal.deadline, trend)
    return GoalResult(
        goal.id,
        goal.objective,
        metric.id,
        dict(goal.segment),
        goal.baseline,
        target,
        actual,
        forecast,
        progress,
        status,
        method,
        goal.owner or "",
        goal.deadline,
        trend,
        method_params,
        goal.goal,
        goal.team,
        required,
        best,
        attainable,
    )


def attainability(
    metric: Metric, target: float, actual: float | None, as_of: date, deadline: date, trend: list[tuple[str, float]]
) -> tuple[float | None, float | None, bool | None]:
    """(required pace, best pace in the history, attainable?) — see the module's docstring."""
    values = [value for _, value in trend]
    if not values:
        return None, None, None
    if metric.aggregation == "sum":
        if metric.direction == "lower":
            return None, None, None  # a ceiling on a flow is met by doing less: no pace to reach
        months_left = (deadline - as_of).days / DAYS_PER_MONTH
        remaining = target - (actual or 0.0)
        if months_left <= 0 or remaining <= 0:
            return None, max(values), None
        required, best = remaining / months_left, max(values)
        return required, best, required <= ATTAINABLE_FACTOR * best
    if metric.direction == "lower":
        best = min(values)
        return target, best, not (target < best / ATTAINABLE_FACTOR)
    best = max(values)
    return target, best, not (target > ATTAINABLE_FACTOR * best)


def evaluate_goals(report: Report) -> list[GoalResult]:
    return [evaluate_goal(report, goal, i) for i, goal in enumerate(report.config.goals)]


def met_at_baseline(goal: GoalConfig, metric: Metric, target: float) -> bool:
    if goal.baseline is None:
        return False
    return goal.baseline <= target if metric.direction == "lower" else goal.baseline >= target
