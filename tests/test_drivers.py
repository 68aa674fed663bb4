"""Driver analysis: contributions sum to the change, for random segment tables and on the example."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roistory.config import load_config
from roistory.drivers import (
    UNEXPLAINED,
    additive_contributions,
    driver_contributions,
    ratio_contributions,
)
from roistory.pipeline import build_report

EXAMPLE = Path(__file__).parents[1] / "examples" / "acme" / "report.yaml"

money = st.integers(min_value=0, max_value=10**9).map(lambda cents: cents / 100)  # amounts in cents, as exported
segment_names = st.text(alphabet="ABCDEFGH", min_size=1, max_size=3)
tables = st.dictionaries(segment_names, st.tuples(money, money, money, money), min_size=1, max_size=12)


def _close(a: float, b: float, scale: float) -> bool:
    # contributions are differences of floats: equal to the change up to rounding of the inputs' size
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * max(scale, 1.0))


@settings(max_examples=200, deadline=None)
@given(tables, money, money)
def test_additive_contributions_sum_to_the_change(table, extra_before, extra_after):
    before = {s: v[0] for s, v in table.items()}
    after = {s: v[2] for s, v in table.items()}
    # totals may hold more than the segments (rows without the dimension): that part is its own segment
    total_before = math.fsum(before.values()) + extra_before
    total_after = math.fsum(after.values()) + extra_after
    parts = additive_contributions(before, after, total_before, total_after)
    scale = max(total_before, total_after)
    assert _close(math.fsum(parts.values()), total_after - total_before, scale)
    for segment in table:
        assert parts[segment] == after[segment] - before[segment]


@settings(max_examples=200, deadline=None)
@given(tables, money, money)
def test_ratio_contributions_sum_to_the_change_of_the_ratio(table, unexplained_revenue, unexplained_spend):
    r0 = {s: v[0] for s, v in table.items()}
    s0 = {s: v[1] for s, v in table.items()}
    r1 = {s: v[2] for s, v in table.items()}
    s1 = {s: v[3] for s, v in table.items()}
    totals_r = (math.fsum(r0.values()) + unexplained_revenue, math.fsum(r1.values()))
    totals_s = (math.fsum(s0.values()) + 1.0, math.fsum(s1.values()) + unexplained_spend + 1.0)
    parts = ratio_contributions(r0, s0, r1, s1, totals_r, totals_s)
    change = totals_r[1] / totals_s[1] - totals_r[0] / totals_s[0]
    scale = max(totals_r[0] / totals_s[0], totals_r[1] / totals_s[1])
    assert _close(math.fsum(p[0] for p in parts.values()), change, scale)
    for contribution, mix, rate in parts.values():
        if mix is not None:  # the mix-rate split is exact too
            assert _close(mix + rate, contribution, max(abs(mix), abs(rate), scale))


@pytest.fixture(scope="module")
def example():
    return build_report(load_config(EXAMPLE), write_history=False)


def test_example_contributions_recomputed_with_pandas(example):
    """Recompute the decomposition from the loaded tables and the primary model's credits."""
    report = example
    margin = report.config.report.margin
    spend = report.tables["spend"]
    for comparison in ("previous", "year_ago"):
        got = {
            (c.metric, c.segment): c.contribution
            for c in driver_contributions(report, "channel")
            if c.comparison == comparison
        }
        frames = {}
        for key in ("current", comparison):
            period = report.periods[key]
            start, end = pd.Timestamp(period.start), pd.Timestamp(period.end) + pd.Timedelta(days=1)
            rows = spend[(spend["date"] >= start) & (spend["date"] < end)]
            by_channel = rows.groupby("channel")["cost"].sum()
            credits = report.credits(report.primary_model, period, "channel")["revenue"]
            frames[key] = pd.DataFrame({"spend": by_channel, "revenue": credits}).fillna(0.0)
            frames[key].loc[UNEXPLAINED] = [
                rows["cost"].sum() - by_channel.sum(),
                report.value("revenue", key) - credits.sum(),
            ]
        now, before = (
            frames["current"],
            frames[comparison].reindex(frames["current"].index.union(frames[comparison].index)).fillna(0.0),
        )
        now = now.reindex(before.index).fillna(0.0)
        total_now, total_before = now.sum(), before.sum()
        roi = margin * (now["revenue"] / total_now["spend"] - before["revenue"] / total_before["spend"])
        spend_delta = now["spend"] - before["spend"]
        for channel in now.index:
            if abs(roi[channel]) > 1e-12:
                assert got[("roi", channel)] == pytest.approx(roi[channel], rel=1e-9, abs=1e-12)
            if abs(spend_delta[channel]) > 1e-9:
                assert got[("spend", channel)] == pytest.approx(spend_delta[channel], rel=1e-9, abs=1e-6)
        for metric, change in (
            ("revenue", report.value("revenue") - report.value("revenue", comparison)),
            ("spend", report.value("spend") - report.value("spend", comparison)),
            ("roi", report.value("roi") - report.value("roi", comparison)),
        ):
            total = math.fsum(v for (m, _s), v in got.items() if m == metric)
            assert total == pytest.approx(change, rel=1e-12, abs=1e-9), metric
        # the ROI change really moved: the example is not a trivial case
        assert abs(report.value("roi") - report.value("roi", comparison)) > 0.1
