"""Goal status at every threshold (issue 14): higher- and lower-is-better goals, exactly at
the target and at the at-risk margin and just beyond; progress of both kinds; the run-rate.

Imports roistory.goals and what it needs only, so scripts/mutation can run it against each
mutant of the status logic in core/goals.py (docs/testing.md).
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from roistory.config import GoalConfig
from roistory.goals import AT_RISK_MARGIN, evaluate_goal, met_at_baseline, status_of
from roistory.metrics import Metric
from roistory.periods import Period, parse_period

# ---------------------------------------------------------------- goal status thresholds

TARGET = 200.0
# (forecast, expected status) for a higher-is-better goal with a target of 200: on track when
# the forecast reaches the target, at risk when it falls short by at most 10 % of it
HIGHER = [
    (200.0, "on_track"),
    (200.5, "on_track"),
    (199.5, "at_risk"),
    (180.0, "at_risk"),  # exactly 10 % short
    (179.5, "off_track"),
    (0.0, "off_track"),
]
# lower is better (CPL, CAC): reaching means at or below; mirrored thresholds
LOWER = [
    (200.0, "on_track"),
    (199.5, "on_track"),
    (200.5, "at_risk"),
    (220.0, "at_risk"),  # exactly 10 % over
    (220.5, "off_track"),
    (400.0, "off_track"),
]


def test_the_threshold_table_is_the_documented_margin():
    assert AT_RISK_MARGIN == 0.10  # 180 and 220 above are 10 % of 200 either side


@pytest.mark.parametrize(("forecast", "status"), HIGHER, ids=[f"higher-{f:g}" for f, _ in HIGHER])
def test_status_higher_is_better(forecast, status):
    assert status_of(forecast, TARGET, "higher") == status


@pytest.mark.parametrize(("forecast", "status"), LOWER, ids=[f"lower-{f:g}" for f, _ in LOWER])
def test_status_lower_is_better(forecast, status):
    assert status_of(forecast, TARGET, "lower") == status


def test_status_of_a_small_target_uses_its_own_scale():
    """A 2 % conversion-rate goal: 10 % of the target is 0.002, not 0.1 of the unit."""
    assert status_of(0.0185, 0.02, "higher") == "at_risk"
    assert status_of(0.0175, 0.02, "higher") == "off_track"
    assert status_of(0.0215, 0.02, "lower") == "at_risk"
    assert status_of(0.0225, 0.02, "lower") == "off_track"


class FakeEngine:
    def __init__(self, value: float):
        self._value = value

    def value(self, metric_id: str, dimension: str | None = None) -> float:
        return self._value


def fake_report(metric: Metric, actual: float, period: Period):
    """What evaluate_goal reads (roistory.goals.Report): one metric whose value is ``actual``
    over any window, no monthly trend."""
    return SimpleNamespace(
        config=None,
        metrics={metric.id: metric},
        period=period,
        engine_for=lambda _window: FakeEngine(actual),
        trend_periods=lambda months=13: [],
    )


def _metric(direction: str, aggregation: str) -> Metric:
    return Metric(
        id="m",
        label="M",
        unit="currency",
        definition="test",
        compute=lambda data, dim: 0.0,
        direction=direction,
        aggregation=aggregation,
    )


@pytest.mark.parametrize(
    ("direction", "actual", "progress"),
    [
        ("higher", 150.0, 150.0 / 200.0),
        ("higher", 250.0, 250.0 / 200.0),
        ("lower", 250.0, 200.0 / 250.0),
        ("lower", 160.0, 200.0 / 160.0),
    ],
)
def test_progress_of_higher_and_lower_is_better_goals(direction, actual, progress):
    """Progress is actual/target when higher is better, target/actual when lower is better
    (a CPL of 160 against a target of 200 is 125 % of the way)."""
    period = parse_period("2026-10")
    goal = GoalConfig(id="g", metric="m", target=TARGET, deadline=date(2026, 10, 31), owner="o")
    result = evaluate_goal(fake_report(_metric(direction, "ratio"), actual, period), goal, 0)
    assert result.progress == pytest.approx(progress, rel=1e-12)
    assert result.forecast == actual and result.method == "final value (deadline reached)"


@pytest.mark.parametrize(
    ("direction", "forecast", "status"),
    [("higher", f, s) for f, s in HIGHER] + [("lower", f, s) for f, s in LOWER],
    ids=[f"higher-{f:g}" for f, _ in HIGHER] + [f"lower-{f:g}" for f, _ in LOWER],
)
def test_goal_result_status_at_each_threshold(direction, forecast, status):
    """The status evaluate_goal reports, not only status_of: the final value at the deadline."""
    period = parse_period("2026-10")
    goal = GoalConfig(id="g", metric="m", target=TARGET, deadline=date(2026, 10, 31), owner="o")
    result = evaluate_goal(fake_report(_metric(direction, "ratio"), forecast, period), goal, 0)
    assert result.status == status


def test_run_rate_forecast_counts_days_inclusively():
    """A flow goal halfway: 10 of 20 days elapsed (both ends counted), forecast doubles."""
    period = Period(date(2026, 10, 1), date(2026, 10, 10), "2026-10-01..2026-10-10")
    goal = GoalConfig(id="g", metric="m", target=TARGET, deadline=date(2026, 10, 20), owner="o")
    result = evaluate_goal(fake_report(_metric("higher", "sum"), 95.0, period), goal, 0)
    assert result.method_params == {"elapsed": 10, "total": 20}
    assert result.method_text == "run-rate over 10 of 20 days"
    assert result.forecast == pytest.approx(190.0)
    assert result.status == "at_risk" and result.progress == pytest.approx(95.0 / 200.0)


def test_a_goal_starting_after_the_period_is_not_measurable():
    period = parse_period("2026-10")
    goal = GoalConfig(
        id="g", metric="m", target=TARGET, start=date(2026, 11, 1), deadline=date(2026, 12, 31), owner="o"
    )
    result = evaluate_goal(fake_report(_metric("higher", "sum"), 95.0, period), goal, 0)
    assert result.status == "not_measurable" and result.actual is None and result.progress is None
    assert result.method == "starts after the report period"


@pytest.mark.parametrize(
    ("direction", "baseline", "met"),
    [
        ("higher", 200.0, True),
        ("higher", 199.0, False),
        ("lower", 200.0, True),
        ("lower", 201.0, False),
        ("higher", None, False),
    ],
)
def test_met_at_baseline_at_the_target(direction, baseline, met):
    """A baseline exactly at the target already meets it, whichever way is better."""
    goal = GoalConfig(id="g", metric="m", target=TARGET, baseline=baseline, deadline=date(2026, 12, 31), owner="o")
    assert met_at_baseline(goal, _metric(direction, "ratio"), TARGET) is met


def test_linear_trend_forecast_to_the_deadline():
    """A level metric with six monthly values on a line: the forecast extends the line to the
    deadline's month (two months after the period), and the method says so."""
    period = parse_period("2026-10")
    months = [SimpleNamespace(label=f"2026-{m:02d}", month=m) for m in range(5, 11)]
    values = {m.label: 100.0 + 10 * i for i, m in enumerate(months)}  # 100 ... 150
    report = SimpleNamespace(
        config=None,
        metrics={"m": _metric("higher", "level")},
        period=period,
        engine_for=lambda window: FakeEngine(values.get(getattr(window, "label", ""), 150.0)),
        trend_periods=lambda months_=13: months,
    )
    goal = GoalConfig(id="g", metric="m", target=TARGET, deadline=date(2026, 12, 31), owner="o")
    result = evaluate_goal(report, goal, 0)
    assert result.method_params == {"months": 6}
    assert result.forecast == pytest.approx(170.0)  # two more steps of 10 after 150
    assert result.status == "off_track"  # 15 % short of 200
    assert result.trend == [(m.label, values[m.label]) for m in months]


def test_a_segment_goal_reads_its_segment():
    """A goal on one channel reads that channel's value; a channel without a value is not measurable."""
    import pandas as pd

    period = parse_period("2026-10")
    series = pd.Series({"Email": 180.0, "Paid Search": 50.0})
    engine = SimpleNamespace(value=lambda metric_id, dimension=None: series if dimension == "channel" else 230.0)
    report = SimpleNamespace(
        config=None,
        metrics={"m": _metric("higher", "ratio")},
        period=period,
        engine_for=lambda window: engine,
        trend_periods=lambda months=13: [],
    )
    goal = GoalConfig(
        id="g", metric="m", segment={"channel": "Email"}, target=TARGET, deadline=date(2026, 10, 31), owner="o"
    )
    result = evaluate_goal(report, goal, 0)
    assert (result.actual, result.status) == (180.0, "at_risk")
    missing = GoalConfig(
        id="g", metric="m", segment={"channel": "Display"}, target=TARGET, deadline=date(2026, 10, 31), owner="o"
    )
    assert evaluate_goal(report, missing, 0).status == "not_measurable"
    assert evaluate_goal(report, missing, 0).method == "not measurable"


class WindowEngine:
    """A sum metric worth 10 per day of the window it is asked about (so the window shows)."""

    def __init__(self, window: Period):
        self.days = window.days

    def value(self, metric_id: str, dimension: str | None = None) -> float:
        return 10.0 * self.days


def window_report(metric: Metric, period: Period):
    return SimpleNamespace(
        config=None,
        metrics={metric.id: metric},
        period=period,
        engine_for=WindowEngine,
        trend_periods=lambda months=13: [],
    )


def test_a_goal_is_measured_from_its_own_start_to_the_period_end():
    """A goal that started mid-September, read in the October report: 47 days so far
    (15-30 September and all of October), run-rate to 31 December."""
    period = parse_period("2026-10")
    goal = GoalConfig(
        id="g", metric="m", target=TARGET, start=date(2026, 9, 15), deadline=date(2026, 12, 31), owner="o"
    )
    result = evaluate_goal(window_report(_metric("higher", "sum"), period), goal, 0)
    elapsed = (date(2026, 10, 31) - date(2026, 9, 15)).days + 1
    total = (date(2026, 12, 31) - date(2026, 9, 15)).days + 1
    assert result.actual == 10.0 * elapsed
    assert result.method_params == {"elapsed": elapsed, "total": total}
    assert result.forecast == pytest.approx(10.0 * total)


def test_a_goal_starting_on_the_last_day_of_the_period_has_one_day_measured():
    period = parse_period("2026-10")
    goal = GoalConfig(
        id="g", metric="m", target=TARGET, start=date(2026, 10, 31), deadline=date(2026, 11, 9), owner="o"
    )
    result = evaluate_goal(window_report(_metric("higher", "sum"), period), goal, 0)
    assert result.actual == 10.0
    assert result.method_params == {"elapsed": 1, "total": 10}
    assert result.forecast == pytest.approx(100.0) and result.status == "off_track"


def trend_report(values: list[float], period: Period):
    """A level metric whose monthly values are ``values`` (the last one is the period's month)."""
    months = [period.shifted_months(k - len(values) + 1) for k in range(len(values))]
    by_label = {m.label: v for m, v in zip(months, values, strict=True)}
    return SimpleNamespace(
        config=None,
        metrics={"m": _metric("higher", "level")},
        period=period,
        engine_for=lambda window: FakeEngine(by_label.get(getattr(window, "label", ""), values[-1])),
        trend_periods=lambda months_=13: months,
    )


@pytest.mark.parametrize(
    ("values", "method", "forecast"),
    [
        # three months are enough for a line: 150, 160, 170 -> 190 two months on
        ([150.0, 160.0, 170.0], "linear trend of the last 3 months", 190.0),
        # two are not: the latest value stands
        ([160.0, 170.0], "latest value (under three months of history)", 170.0),
    ],
)
def test_a_trend_needs_three_months(values, method, forecast):
    goal = GoalConfig(id="g", metric="m", target=TARGET, deadline=date(2026, 12, 31), owner="o")
    result = evaluate_goal(trend_report(values, parse_period("2026-10")), goal, 0)
    assert result.method_text == method
    assert result.forecast == pytest.approx(forecast)


def test_a_trend_forecast_counts_months_across_the_year_end():
    """From October 2026 to a February 2027 deadline is four months ahead (not 2 - 10)."""
    goal = GoalConfig(id="g", metric="m", target=TARGET, deadline=date(2027, 2, 28), owner="o")
    result = evaluate_goal(trend_report([150.0, 160.0, 170.0], parse_period("2026-10")), goal, 0)
    assert result.forecast == pytest.approx(170.0 + 4 * 10.0)
    assert result.status == "on_track"


def test_a_goal_starting_after_the_period_needs_its_whole_window():
    """A flow goal from 15 November to 31 December read in October: nothing done yet, so the
    required pace is the target over the goal's own 47 days (not from the period's end), per
    average month."""
    period = parse_period("2026-10")
    months = [period.shifted_months(k) for k in (-2, -1, 0)]
    report = SimpleNamespace(
        config=None,
        metrics={"m": _metric("higher", "sum")},
        period=period,
        engine_for=lambda window: FakeEngine(90.0),
        trend_periods=lambda months_=13: months,
    )
    goal = GoalConfig(
        id="g", metric="m", target=TARGET, start=date(2026, 11, 15), deadline=date(2026, 12, 31), owner="o"
    )
    result = evaluate_goal(report, goal, 0)
    days = (date(2026, 12, 31) - date(2026, 11, 15)).days + 1  # 47, both ends counted
    assert result.required_pace == pytest.approx(TARGET / (days / (365.25 / 12)))
    assert result.best_pace == 90.0 and result.attainable is True


@pytest.mark.parametrize(("owner", "shown"), [("Growth team", "Growth team"), (None, "")])
def test_the_goal_owner_is_reported_as_given(owner, shown):
    period = parse_period("2026-10")
    goal = GoalConfig(id="g", metric="m", target=TARGET, deadline=date(2026, 10, 31), owner=owner)
    assert evaluate_goal(fake_report(_metric("higher", "ratio"), 150.0, period), goal, 0).owner == shown
