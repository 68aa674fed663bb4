"""Edges, deterministic (issue 14): the exact boundary of every rule that compares — the
lookback and dormancy windows, at the limit and one second either side, for the in-memory
and DuckDB engines. Goal thresholds: tests/test_goals_edges.py; comparison periods across
29 February and month ends: tests/test_periods_edges.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

from roistory.attribution import build_journeys, conversion_events
from roistory.config import EngineConfig
from roistory.engines import journeys_for

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
