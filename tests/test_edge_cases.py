"""Edges, deterministic (issue 14): the exact boundary of every rule that compares — the
lookback and dormancy windows (at the limit and one second either side), each goal-status
threshold for higher- and lower-is-better goals, progress of lower-is-better goals, and the
comparison periods of custom periods across 29 February and month ends.

Unit-level and fast on purpose: scripts/mutation runs this file against mutants of
core/periods.py and core/goals.py (docs/testing.md).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
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


# ---------------------------------------------------------------- comparison periods at month ends and 29 February


def one_year_earlier(day: date) -> date:
    """The same day a calendar year earlier; 29 February becomes 28 February."""
    last = calendar.monthrange(day.year - 1, day.month)[1]
    return date(day.year - 1, day.month, min(day.day, last))


CUSTOM = [
    # text, previous (start, end), year_ago (start, end) -- worked out by hand
    ("2024-02-29..2024-03-31", ("2024-01-28", "2024-02-28"), ("2023-02-28", "2023-03-31")),
    ("2024-02-01..2024-02-29", ("2024-01-03", "2024-01-31"), ("2023-02-01", "2023-02-28")),
    ("2024-03-01..2024-03-31", ("2024-01-30", "2024-02-29"), ("2023-03-01", "2023-03-31")),
    ("2025-03-01..2025-03-31", ("2025-01-29", "2025-02-28"), ("2024-03-01", "2024-03-31")),
    ("2025-02-28..2025-03-01", ("2025-02-26", "2025-02-27"), ("2024-02-28", "2024-03-01")),
    ("2024-02-29..2024-02-29", ("2024-02-28", "2024-02-28"), ("2023-02-28", "2023-02-28")),
    ("2024-01-31..2024-02-29", ("2024-01-01", "2024-01-30"), ("2023-01-31", "2023-02-28")),
    ("2023-12-31..2024-01-30", ("2023-11-30", "2023-12-30"), ("2022-12-31", "2023-01-30")),
    ("2024-04-30..2024-05-31", ("2024-03-29", "2024-04-29"), ("2023-04-30", "2023-05-31")),
]


@pytest.mark.parametrize(("text", "previous", "year_ago"), CUSTOM, ids=[c[0] for c in CUSTOM])
def test_custom_period_comparisons(text, previous, year_ago):
    period = parse_period(text)
    got_previous, got_year_ago = period.previous(), period.year_ago()
    assert (got_previous.start.isoformat(), got_previous.end.isoformat()) == previous
    assert (got_year_ago.start.isoformat(), got_year_ago.end.isoformat()) == year_ago
    # the rules behind the table: previous is as long and ends the day before; year-ago is
    # each end moved one calendar year back
    assert got_previous.days == period.days and got_previous.end == period.start - timedelta(days=1)
    assert (got_year_ago.start, got_year_ago.end) == (one_year_earlier(period.start), one_year_earlier(period.end))
    assert got_previous.label == f"{previous[0]}..{previous[1]}" and got_year_ago.months is None


CALENDAR = [
    # text, previous (label, start, end), year_ago (label, start, end)
    ("2024-03", ("2024-02", "2024-02-01", "2024-02-29"), ("2023-03", "2023-03-01", "2023-03-31")),
    ("2024-02", ("2024-01", "2024-01-01", "2024-01-31"), ("2023-02", "2023-02-01", "2023-02-28")),
    ("2025-02", ("2025-01", "2025-01-01", "2025-01-31"), ("2024-02", "2024-02-01", "2024-02-29")),
    ("2024-01", ("2023-12", "2023-12-01", "2023-12-31"), ("2023-01", "2023-01-01", "2023-01-31")),
    ("2024-Q1", ("2023-Q4", "2023-10-01", "2023-12-31"), ("2023-Q1", "2023-01-01", "2023-03-31")),
    ("2024-Q2", ("2024-Q1", "2024-01-01", "2024-03-31"), ("2023-Q2", "2023-04-01", "2023-06-30")),
    ("2024-H1", ("2023-H2", "2023-07-01", "2023-12-31"), ("2023-H1", "2023-01-01", "2023-06-30")),
    ("2024", ("2023", "2023-01-01", "2023-12-31"), ("2023", "2023-01-01", "2023-12-31")),
]


@pytest.mark.parametrize(("text", "previous", "year_ago"), CALENDAR, ids=[c[0] for c in CALENDAR])
def test_calendar_period_comparisons(text, previous, year_ago):
    period = parse_period(text)
    for got, (label, start, end) in ((period.previous(), previous), (period.year_ago(), year_ago)):
        assert (got.label, got.start.isoformat(), got.end.isoformat()) == (label, start, end)
        assert got.months == period.months


@pytest.mark.parametrize(
    ("text", "start", "end", "days"),
    [
        ("2024-02", "2024-02-01", "2024-02-29", 29),
        ("2023-02", "2023-02-01", "2023-02-28", 28),
        ("2100-02", "2100-02-01", "2100-02-28", 28),  # not a leap year (divisible by 100)
        ("2000-02", "2000-02-01", "2000-02-29", 29),  # a leap year (divisible by 400)
        ("2024-04", "2024-04-01", "2024-04-30", 30),
        ("2024-Q3", "2024-07-01", "2024-09-30", 92),
        ("2024-H2", "2024-07-01", "2024-12-31", 184),
        ("2024", "2024-01-01", "2024-12-31", 366),
        ("2024-02-29..2024-02-29", "2024-02-29", "2024-02-29", 1),
    ],
)
def test_period_bounds_and_length(text, start, end, days):
    period = parse_period(text)
    assert (period.start.isoformat(), period.end.isoformat(), period.days) == (start, end, days)
    assert period.contains(date.fromisoformat(start)) and period.contains(date.fromisoformat(end))
    assert not period.contains(date.fromisoformat(start) - timedelta(days=1))
    assert not period.contains(date.fromisoformat(end) + timedelta(days=1))


@pytest.mark.parametrize(
    "text", ["2023-02-29..2023-03-01", "2024-02-30", "2024-00", "2024-Q0", "2024-H3", "24-10", "2024-10-01..2024-09-30"]
)
def test_impossible_periods_are_refused(text):
    with pytest.raises(ValueError):
        parse_period(text)


def test_months_ending_crosses_the_year_and_february():
    from roistory.periods import months_ending

    months = months_ending(parse_period("2024-03-10..2025-02-15"))
    assert [m.label for m in months][:2] == ["2024-02", "2024-03"] and months[-1].label == "2025-02"
    assert months[0].end == date(2024, 2, 29) and months[-1].end == date(2025, 2, 28)
    assert len(months) == 13
