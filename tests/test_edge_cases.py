"""Edges, deterministic (issue 14): the exact boundary of every rule that compares — the
lookback and dormancy windows (at the limit and one second either side), each goal-status
threshold for higher- and lower-is-better goals and progress of lower-is-better goals.
Comparison periods across 29 February and month ends: tests/test_periods_edges.py.

Unit-level and fast on purpose: scripts/mutation runs this file against mutants of
core/goals.py (docs/testing.md).
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest

from roistory.attribution import build_journeys, conversion_events
from roistory.config import EngineConfig, GoalConfig
from roistory.engines import journeys_for
from roistory.goals import AT_RISK_MARGIN, evaluate_goal, status_of
from roistory.metrics import Metric
from roistory.periods import Period, parse_period

SECOND = pd.Timedelta(seconds=1)
CONVERTED_AT = pd.Timestamp("2026-10-15 12:00:00")


def journeys(touch_times: list[pd.Timestamp], conversion_at: pd.Timestamp | None, engine: str, **windows):
    touchpoints = pd.DataFrame(
        {
            "person_id": ["P1"] * len(touch_times),
            "timestamp": pd.to_datetime(touch_times).astype("datetime64[ns]"),
            "channel": [f"C{i}" for i in range(len(touch_times))],
        }
    )
    conversions = pd.DataFrame(
        {
            "person_id": ["P1"] if conversion_at is not None else [],
            "timestamp": pd.to_datetime([conversion_at] if conversion_at is not None else []).astype("datetime64[ns]"),
            "revenue": [100.0] if conversion_at is not None else [],
        }
    )
    events = conversion_events(touchpoints, conversions)
    if engine == "memory":
        return build_journeys(touchpoints, events, **windows)
    return journeys_for(touchpoints, events, EngineConfig(backend=engine), **windows)


ENGINES = ["memory", "duckdb"]


# ---------------------------------------------------------------- lookback: touches >= conversion - lookback


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("offset", "kept"),
    [(pd.Timedelta(0), True), (-SECOND, False), (SECOND, True)],
    ids=["exactly-at-the-limit", "one-second-before", "one-second-after"],
)
def test_a_touch_at_the_lookback_limit(engine, offset, kept):
    """A touch exactly ``lookback_days`` before the conversion belongs to it; one second
    earlier it does not (and is counted as beyond the lookback)."""
    edge = CONVERTED_AT - pd.Timedelta(days=90) + offset
    found, stats = journeys([edge, CONVERTED_AT - pd.Timedelta(days=1)], CONVERTED_AT, engine, lookback_days=90, dormancy_days=180)
    assert len(found) == 1 and found.converted.tolist() == [1.0]
    touched = [found.labels[c] for c in found.codes]
    assert touched == (["C0", "C1"] if kept else ["C1"])
    assert stats.touches_beyond_lookback == (0 if kept else 1)


# ---------------------------------------------------------------- dormancy: a gap > dormancy starts a new journey


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("offset", "split"),
    [(pd.Timedelta(0), False), (-SECOND, False), (SECOND, True)],
    ids=["exactly-the-limit", "one-second-less", "one-second-more"],
)
def test_a_gap_at_the_dormancy_limit(engine, offset, split):
    """Two touches exactly ``dormancy_days`` apart stay one journey; one second more and the
    second starts a new one (re-engagement), leaving the first as a journey without conversion."""
    first = CONVERTED_AT - pd.Timedelta(days=30) - offset - SECOND * 3600
    second = first + pd.Timedelta(days=30) + offset
    found, stats = journeys([first, second], CONVERTED_AT, engine, lookback_days=365, dormancy_days=30)
    if split:
        assert found.converted.tolist() == [0.0, 1.0]
        assert found.lengths.tolist() == [1, 1]
        assert stats.reengaged_journeys == 1
    else:
        assert found.converted.tolist() == [1.0]
        assert found.lengths.tolist() == [2]
        assert stats.reengaged_journeys == 0


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
        id="m", label="M", unit="currency", definition="test", compute=lambda data, dim: 0.0,
        direction=direction, aggregation=aggregation,
    )


@pytest.mark.parametrize(
    ("direction", "actual", "progress"),
    [("higher", 150.0, 150.0 / 200.0), ("higher", 250.0, 250.0 / 200.0), ("lower", 250.0, 200.0 / 250.0), ("lower", 160.0, 200.0 / 160.0)],
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
    assert result.forecast == pytest.approx(190.0)
    assert result.status == "at_risk" and result.progress == pytest.approx(95.0 / 200.0)


def test_a_goal_starting_after_the_period_is_not_measurable():
    period = parse_period("2026-10")
    goal = GoalConfig(id="g", metric="m", target=TARGET, start=date(2026, 11, 1), deadline=date(2026, 12, 31), owner="o")
    result = evaluate_goal(fake_report(_metric("higher", "sum"), 95.0, period), goal, 0)
    assert result.status == "not_measurable" and result.actual is None and result.progress is None
