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
    found, stats = journeys(
        [edge, CONVERTED_AT - pd.Timedelta(days=1)], CONVERTED_AT, engine, lookback_days=90, dormancy_days=180
    )
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


# ---------------------------------------------------------------- open-ended dates and overflowing sums


def _load(tmp_path, table: str, content: str, **source):
    from roistory.config import config_from_dict
    from roistory.plugin_manager import build_registry
    from roistory.sources import load_sources

    (tmp_path / f"{table}.csv").write_text(content, encoding="utf-8")
    config = config_from_dict(
        {
            "report": {"period": "2026-10"},
            "sources": [{"name": "s", "type": "csv", "path": f"{table}.csv", "table": table, **source}],
        },
        path=tmp_path / "report.yaml",
    )
    tables, inputs = load_sources(config, build_registry().sources)
    return tables[table], inputs[0]


@pytest.mark.parametrize("written", ["9999-12-31", "9999-12-31 23:59:59", "9999-01-01"])
def test_an_open_end_in_an_optional_date_column_is_no_date(tmp_path, written):
    """CRM exports write "no end" as a date in 9999: read as missing where a date may be
    missing, and counted; the other rows keep their dates."""
    content = (
        "lead_id,created_at,person_id,source_channel,mql_at,sql_at\n"
        f"L1,2026-10-01,P1,Email,{written},\n"
        "L2,2026-10-02,P2,Email,2026-10-03,\n"
    )
    leads, loaded = _load(tmp_path, "leads", content)
    assert leads["mql_at"].isna().tolist() == [True, False]
    assert leads["mql_at"].iloc[1] == pd.Timestamp("2026-10-03")
    found = [f for f in loaded.findings if f.code == "open_ended_dates"]
    assert len(found) == 1 and found[0].count == 1 and "mql_at" in found[0].message


def test_a_far_future_date_inside_the_range_is_a_date(tmp_path):
    """Only year 9999 means "no end": 2099-12-31 is read as the date it is."""
    content = "lead_id,created_at,person_id,source_channel,mql_at,sql_at\nL1,2026-10-01,P1,Email,2099-12-31,\n"
    leads, loaded = _load(tmp_path, "leads", content)
    assert leads["mql_at"].tolist() == [pd.Timestamp("2099-12-31")]
    assert not [f for f in loaded.findings if f.code == "open_ended_dates"]


def test_a_column_whose_sum_overflows_is_named_and_not_measurable():
    """Two costs of 1e308 add up to infinity: the finding names the column, and a sum over it
    is not measurable (NaN), never infinity."""
    import math

    import numpy as np

    from roistory.metrics import finite_or_nan
    from roistory.quality import overflowing_columns

    spend = pd.DataFrame({"cost": [1e308, 1e308, 5.0], "clicks": [1, 2, 3]})
    found = overflowing_columns({"spend": spend, "other": pd.DataFrame({"cost": [1.0]})})
    assert [(f.code, f.count) for f in found] == [("values_overflow", 2)] and "spend.cost" in found[0].message
    with np.errstate(over="ignore"):
        total = float(spend["cost"].sum())
    assert total == math.inf and math.isnan(finite_or_nan(total))
    by_channel = finite_or_nan(pd.Series({"Email": math.inf, "Search": 3.0}))
    assert math.isnan(by_channel["Email"]) and by_channel["Search"] == 3.0
    assert finite_or_nan(2.5) == 2.5 and finite_or_nan(None) is None
