"""Journeys, array by array, against a plain-Python reading of the rules (issue 14's mutation run).

tests/test_attribution.py checks the credit the models give; this checks what the models
are given: each journey's touches and their hours before the end, whether it converted,
its revenue and end time, and the counts the data-quality section reports, on seeded
data where ties, exact lookback limits and exact dormancy gaps are common. The reference
below walks each person's events in time order, one event at a time.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from roistory.attribution import (
    NO_TOUCHPOINTS,
    NOT_SET,
    build_journeys,
    conversion_events,
    credit_from_weights,
    with_orphans,
)

T0 = pd.Timestamp("2026-01-01")
DAY = pd.Timedelta(days=1)
LOOKBACK, DORMANCY = 30, 20  # short windows, so both cut often


def reference_journeys(touches, conversions, lookback_days, dormancy_days, session=False):
    """(person, channels, hours before the end, converted, revenue, end) per kept journey,
    plus (unattributed conversions as (end, revenue), touches beyond lookback, re-engaged).

    ``touches``: (person, time, channel, converts, revenue); ``conversions``: (person, time, revenue).
    """
    by_person = defaultdict(list)
    for order, (person, ts, channel, converts, revenue) in enumerate(touches):
        by_person[person].append((ts, 1, order, "touch", channel, 0.0))
        if session and converts:  # the converting row is its own last touch
            by_person[person].append((ts, 2, order, "conversion", None, revenue))
    for order, (person, ts, revenue) in enumerate(conversions):
        by_person[person].append((ts, 0, order, "conversion", None, revenue))
    journeys, orphans, beyond, reengaged = [], [], 0, 0
    for person, events in by_person.items():
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        current, previous = [], None
        for ts, _kind, _order, what, channel, revenue in events:
            gap = (
                previous is not None and previous[3] == "touch" and ts - previous[0] > pd.Timedelta(days=dormancy_days)
            )
            if gap and current:
                journeys.append(_open_journey(person, current))
                current = []
                reengaged += what == "touch"
            if what == "touch":
                current.append((ts, channel))
            else:
                kept = [(t, c) for t, c in current if t >= ts - pd.Timedelta(days=lookback_days)]
                beyond += len(current) - len(kept)
                if kept:
                    hours = [(ts - t) / pd.Timedelta(hours=1) for t, _ in kept]
                    journeys.append((person, tuple(c for _, c in kept), tuple(hours), 1.0, revenue, ts))
                else:
                    orphans.append((ts, revenue))
                current = []
            previous = (ts, _kind, _order, what)
        if current:
            journeys.append(_open_journey(person, current))
    return journeys, (sorted(orphans), beyond, reengaged)


def _open_journey(person, touches):
    end = touches[-1][0]
    hours = tuple((end - t) / pd.Timedelta(hours=1) for t, _ in touches)
    return (person, tuple(c for _, c in touches), hours, 0.0, 0.0, end)


def ours(touchpoints, events, **windows):
    journeys, stats = build_journeys(touchpoints, events, **windows)
    found = []
    for j in range(len(journeys)):
        at = slice(journeys.offsets[j], journeys.offsets[j + 1])
        found.append(
            (
                tuple(journeys.labels[c] for c in journeys.codes[at]),
                tuple(journeys.hours_before[at].tolist()),
                float(journeys.converted[j]),
                float(journeys.revenue[j]),
                pd.Timestamp(journeys.end[j]),
            )
        )
    orphans = sorted(zip(stats.unattributed["timestamp"], stats.unattributed["revenue"], strict=True))
    return journeys, found, (orphans, stats.touches_beyond_lookback, stats.reengaged_journeys), stats


def seeded(seed: int, n: int = 400):
    """Touches and conversions of 40 people over 120 days; a third of the times sit on whole
    days from T0, so exact ties, exact lookback limits and exact dormancy gaps are common."""
    rng = np.random.default_rng(seed)
    people = [f"P{i}" for i in rng.integers(0, 40, n)]
    whole = rng.integers(0, 120, n) * DAY
    exact = rng.random(n) < 0.35
    jitter = pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    times = [T0 + w + (pd.Timedelta(0) if e else j) for w, e, j in zip(whole, exact, jitter, strict=True)]
    channels = rng.choice(["Email", "Display", "Paid Search", None], n, p=[0.3, 0.3, 0.3, 0.1])
    is_conversion = rng.random(n) < 0.25
    revenue = rng.integers(1, 900, n).astype(float)
    touches = [
        (p, t, c, False, 0.0) for p, t, c, conv in zip(people, times, channels, is_conversion, strict=True) if not conv
    ]
    conversions = [(p, t, r) for p, t, r, conv in zip(people, times, revenue, is_conversion, strict=True) if conv]
    return touches, conversions


def frames(touches, conversions=None):
    touchpoints = pd.DataFrame(
        {
            "person_id": [t[0] for t in touches],
            "timestamp": pd.to_datetime([t[1] for t in touches]).astype("datetime64[ns]"),
            "channel": [t[2] for t in touches],
        }
    )
    if conversions is None:  # session format
        touchpoints["conversion"] = [1 if t[3] else 0 for t in touches]
        touchpoints["revenue"] = [t[4] if t[3] else np.nan for t in touches]
        return touchpoints, conversion_events(touchpoints, None)
    table = pd.DataFrame(
        {
            "person_id": [c[0] for c in conversions],
            "timestamp": pd.to_datetime([c[1] for c in conversions]).astype("datetime64[ns]"),
            "revenue": [c[2] for c in conversions],
        }
    )
    return touchpoints, conversion_events(touchpoints, table)


def same_journeys(found, expected) -> None:
    """Equal lists, reporting the first difference (pytest's full diff of 200 journeys is slow)."""
    found, expected = sorted(found), _labelled(expected)
    first = next((i for i, (a, b) in enumerate(zip(found, expected, strict=False)) if a != b), None)
    if found != expected:
        where = f"{found[first]} != {expected[first]}" if first is not None else "one list is longer"
        pytest.fail(f"{len(found)} journeys, {len(expected)} expected; first difference at {first}: {where}")


def _labelled(reference):
    """The reference's journeys without the person (the arrays do not keep it), missing channels as NOT_SET."""
    return sorted(
        (tuple(NOT_SET if c is None else c for c in channels), hours, converted, revenue, end)
        for _person, channels, hours, converted, revenue, end in reference
    )


@pytest.mark.parametrize("seed", range(6))
def test_journeys_equal_the_reference_event_by_event(seed):
    touches, conversions = seeded(seed)
    expected, expected_stats = reference_journeys(touches, conversions, LOOKBACK, DORMANCY)
    journeys, found, stats, _ = ours(*frames(touches, conversions), lookback_days=LOOKBACK, dormancy_days=DORMANCY)
    same_journeys(found, expected)
    assert stats == expected_stats
    assert journeys.offsets[0] == 0 and journeys.offsets[-1] == len(journeys.codes)
    assert journeys.labels == tuple(sorted({NOT_SET if t[2] is None else t[2] for t in touches}))
    # the cases this test exists for happened
    assert expected_stats[1] and expected_stats[2] and expected_stats[0]


@pytest.mark.parametrize("seed", range(3))
def test_session_format_journeys_equal_the_reference(seed):
    touches, conversions = seeded(seed + 10)
    # the conversions become converting rows of the touchpoint table (their channel: Email)
    rows = touches + [(p, t, "Email", True, r) for p, t, r in conversions]
    expected, expected_stats = reference_journeys(rows, [], LOOKBACK, DORMANCY, session=True)
    _, found, stats, _ = ours(*frames(rows), lookback_days=LOOKBACK, dormancy_days=DORMANCY)
    same_journeys(found, expected)
    assert stats == expected_stats


def test_a_conversion_after_a_dormant_gap_is_unattributed_not_credited_to_old_touches():
    """With a lookback longer than the dormancy, the gap still cuts: the old touch is a
    journey of its own that did not convert."""
    touches = [("p", T0, "Email", False, 0.0)]
    conversions = [("p", T0 + 25 * DAY, 40.0)]
    _, found, stats, _ = ours(*frames(touches, conversions), lookback_days=60, dormancy_days=20)
    assert found == [(("Email",), (0.0,), 0.0, 0.0, T0)]
    assert stats == ([(T0 + 25 * DAY, 40.0)], 0, 0)


def test_campaign_journeys_keep_each_touch_channel():
    touchpoints = pd.DataFrame(
        {
            "person_id": ["a", "a", "b"],
            "timestamp": pd.to_datetime([T0, T0 + DAY, T0]),
            "channel": ["Email", "Direct", "Display"],
            "campaign": ["Spring", None, "Spring"],
        }
    )
    table = pd.DataFrame(
        {"person_id": ["a", "b"], "timestamp": pd.to_datetime([T0 + 2 * DAY] * 2), "revenue": [5.0, 7.0]}
    )
    journeys, _ = build_journeys(touchpoints, conversion_events(touchpoints, table), dimension="campaign")
    assert journeys.labels == tuple(sorted([NOT_SET, "Spring"]))
    assert journeys.channel_labels == ("Direct", "Display", "Email")
    by_person = [
        [
            (journeys.labels[c], journeys.channel_labels[k])
            for c, k in zip(journeys.codes[s:e], journeys.channel_codes[s:e], strict=True)
        ]
        for s, e in zip(journeys.offsets[:-1], journeys.offsets[1:], strict=True)
    ]
    assert sorted(by_person) == [[("Spring", "Display")], [("Spring", "Email"), (NOT_SET, "Direct")]]
    assert sorted(journeys.revenue.tolist()) == [5.0, 7.0]


def test_journeys_ending_between_keep_the_start_and_drop_the_end():
    """[start, end): a journey ending exactly at the start is in, exactly at the end out."""
    touches = [(p, T0 + i * DAY, "Email", False, 0.0) for i, p in enumerate("abc")]
    conversions = [("a", T0 + 10 * DAY, 1.0), ("b", T0 + 20 * DAY, 2.0), ("c", T0 + 30 * DAY, 4.0)]
    journeys, _ = build_journeys(*frames(touches, conversions))
    inside = journeys.ending_between(T0 + 10 * DAY, T0 + 30 * DAY)
    assert sorted(inside.revenue.tolist()) == [1.0, 2.0]
    assert inside.offsets.tolist() == [0, 1, 2]
    assert len(journeys.ending_between(T0 + 10 * DAY + pd.Timedelta(seconds=1), T0 + 30 * DAY)) == 1
    assert len(journeys.ending_between(T0 + 31 * DAY, T0 + 40 * DAY)) == 0


def test_subset_keeps_touches_offsets_and_channels_together():
    touchpoints, events = frames(*seeded(3))
    touchpoints["campaign"] = touchpoints["channel"].str.slice(0, 3)
    journeys, _ = build_journeys(touchpoints, events, dimension="campaign", lookback_days=LOOKBACK)
    mask = np.arange(len(journeys)) % 3 == 1
    part = journeys.subset(mask)
    picked = np.flatnonzero(mask)
    assert len(part) == len(picked)
    for i, j in enumerate(picked):
        mine = slice(part.offsets[i], part.offsets[i + 1])
        theirs = slice(journeys.offsets[j], journeys.offsets[j + 1])
        assert part.codes[mine].tolist() == journeys.codes[theirs].tolist()
        assert part.channel_codes[mine].tolist() == journeys.channel_codes[theirs].tolist()
        assert part.hours_before[mine].tolist() == journeys.hours_before[theirs].tolist()
        assert (part.converted[i], part.revenue[i], part.end[i]) == (
            journeys.converted[j],
            journeys.revenue[j],
            journeys.end[j],
        )


def test_credit_from_weights_credits_only_converting_journeys():
    """Per-touch weights become conversions and revenue per segment; a journey that did not
    convert contributes nothing, whatever its weights."""
    touches, conversions = seeded(4)
    journeys, _ = build_journeys(*frames(touches, conversions), lookback_days=LOOKBACK, dormancy_days=DORMANCY)
    assert 0 < journeys.converted.sum() < len(journeys)
    rng = np.random.default_rng(4)
    weights = rng.random(len(journeys.codes))
    credit = credit_from_weights(journeys, weights)
    assert credit.index.name == "segment" and list(credit.index) == list(journeys.labels)
    expected = defaultdict(lambda: [0.0, 0.0])
    for j in range(len(journeys)):
        for t in range(journeys.offsets[j], journeys.offsets[j + 1]):
            label = journeys.labels[journeys.codes[t]]
            expected[label][0] += weights[t] * journeys.converted[j]
            expected[label][1] += weights[t] * journeys.converted[j] * journeys.revenue[j]
    for label in journeys.labels:
        assert credit.loc[label, "conversions"] == pytest.approx(expected[label][0], rel=1e-12)
        assert credit.loc[label, "revenue"] == pytest.approx(expected[label][1], rel=1e-12)
    converting = journeys.subset(journeys.converted > 0)
    assert converting.all_converted
    only = credit_from_weights(converting, weights[np.repeat(journeys.converted > 0, journeys.lengths)])
    np.testing.assert_allclose(only.to_numpy(), credit.to_numpy(), rtol=1e-12)


def test_orphans_become_one_segment_with_their_count_and_revenue():
    credits = pd.DataFrame({"conversions": [2.0], "revenue": [10.0]}, index=pd.Index(["Email"], name="segment"))
    orphans = pd.DataFrame({"timestamp": pd.to_datetime([T0, T0]), "revenue": [3.0, 4.5]})
    both = with_orphans(credits, orphans)
    assert both.loc[NO_TOUCHPOINTS].tolist() == [2.0, 7.5]
    assert both.index.name == "segment"  # one index: the segments and the orphans' segment
    assert both.loc["Email"].tolist() == [2.0, 10.0]
    assert with_orphans(credits, orphans.iloc[:0]) is credits


def test_missing_revenue_counts_as_zero_in_both_formats():
    """A conversion without a revenue (no column, or an empty cell) converts with revenue 0."""
    touches = [("a", T0, "Email", False, 0.0), ("b", T0, "Display", False, 0.0)]
    touchpoints, _ = frames(touches, [])
    no_column = pd.DataFrame({"person_id": ["a", "b"], "timestamp": pd.to_datetime([T0 + DAY] * 2)})
    empty_cell = no_column.assign(revenue=[np.nan, 6.0])
    for table, expected in ((no_column, [0.0, 0.0]), (empty_cell, [0.0, 6.0])):
        journeys, _ = build_journeys(touchpoints, conversion_events(touchpoints, table))
        assert journeys.converted.tolist() == [1.0, 1.0]
        assert journeys.revenue.tolist() == expected
    session = pd.DataFrame(
        {
            "person_id": ["a", "b"],
            "timestamp": pd.to_datetime([T0, T0]),
            "channel": ["Email", "Display"],
            "conversion": [1, 1],
            "revenue": [np.nan, 6.0],
        }
    )
    for rows, expected in ((session, [0.0, 6.0]), (session.drop(columns="revenue"), [0.0, 0.0])):
        journeys, _ = build_journeys(rows, conversion_events(rows, None))
        assert journeys.converted.tolist() == [1.0, 1.0]
        assert journeys.revenue.tolist() == expected


def test_touchpoints_without_conversions_are_journeys_that_did_not_convert():
    touchpoints, _ = frames([("a", T0, "Email", False, 0.0), ("a", T0 + DAY, "Display", False, 0.0)], [])
    events = conversion_events(touchpoints, None)
    assert len(events) == 0
    journeys, stats = build_journeys(touchpoints, events)
    assert journeys.converted.tolist() == [0.0]
    assert journeys.hours_before.tolist() == [24.0, 0.0]
    assert (stats.conversions, len(stats.unattributed)) == (0, 0)


@pytest.mark.parametrize(
    ("touch_before", "kept"),
    [(90 * DAY, True), (90 * DAY + pd.Timedelta(seconds=1), False)],
    ids=["90-days", "90-days-and-a-second"],
)
def test_the_default_lookback_is_90_days(touch_before, kept):
    at = T0 + 200 * DAY
    touches = [("a", at - touch_before, "Email", False, 0.0), ("a", at - DAY, "Display", False, 0.0)]
    _, found, stats, _ = ours(*frames(touches, [("a", at, 1.0)]))
    assert [channels for channels, *_ in found] == [("Email", "Display") if kept else ("Display",)]
    assert stats[1] == (0 if kept else 1)


@pytest.mark.parametrize(
    ("gap", "split"), [(180 * DAY, False), (180 * DAY + pd.Timedelta(seconds=1), True)], ids=["180-days", "more"]
)
def test_the_default_dormancy_is_180_days(gap, split):
    touches = [("a", T0, "Email", False, 0.0), ("a", T0 + gap, "Display", False, 0.0)]
    _, found, stats, _ = ours(*frames(touches, []))
    assert len(found) == (2 if split else 1)
    assert stats[2] == (1 if split else 0)


def test_without_a_channel_column_no_channel_is_kept_per_touch():
    touchpoints = pd.DataFrame({"person_id": ["a"], "timestamp": pd.to_datetime([T0]), "campaign": ["Spring"]})
    table = pd.DataFrame({"person_id": ["a"], "timestamp": pd.to_datetime([T0 + DAY]), "revenue": [1.0]})
    journeys, _ = build_journeys(touchpoints, conversion_events(touchpoints, table), dimension="campaign")
    assert journeys.labels == ("Spring",)
    assert journeys.channel_codes is None and journeys.channel_labels is None


def test_a_lone_conversion_is_unattributed_and_makes_no_journey():
    touchpoints, events = frames([], [("a", T0, 3.0)])
    journeys, stats = build_journeys(touchpoints, events)
    assert len(journeys) == 0 and len(journeys.codes) == 0
    assert stats.unattributed["timestamp"].tolist() == [T0]
    assert stats.unattributed["revenue"].tolist() == [3.0]


def test_no_events_at_all_make_no_journeys():
    touchpoints, events = frames([], [])
    journeys, stats = build_journeys(touchpoints, events)
    assert (len(journeys), len(journeys.codes), journeys.offsets.tolist()) == (0, 0, [0])
    assert (stats.conversions, len(stats.unattributed), stats.touches_beyond_lookback) == (0, 0, 0)
