"""Attribution models: conservation (property), exact Markov solves, hand-computed examples,
the path table, journey building details, and the ``roistory attribute`` command."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime, timedelta
from fractions import Fraction
from itertools import combinations, pairwise
from math import factorial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roistory.attribute_command import attribute
from roistory.attribution import (
    Journeys,
    ModelParamError,
    build_journeys,
    conversion_events,
    run_model,
)
from roistory.errors import ConfigError
from roistory.paths import PathTable, aggregate_paths, path_rows
from roistory.plugins import markov_attribution
from roistory.plugins.heuristic_attribution import MODELS as HEURISTICS
from roistory.plugins.markov_attribution import MODELS as MARKOV
from roistory.plugins.markov_attribution import markov_credit, removal_effects
from roistory.plugins.shapley_attribution import MODELS as SHAPLEY
from roistory.plugins.shapley_attribution import coalitions, shapley_credit

ROOT = Path(__file__).resolve().parent.parent

MODELS = {m.id: m for m in [*HEURISTICS, *MARKOV, *SHAPLEY]}
T0 = datetime(2026, 1, 1)


def make_journeys(paths, converted=None, revenue=None, hours=None, labels=None) -> Journeys:
    """Journeys from lists of channel names (time order), e.g. [["a", "b"], ["b"]]."""
    labels = labels or tuple(sorted({c for p in paths for c in p}))
    index = {label: i for i, label in enumerate(labels)}
    lengths = [len(p) for p in paths]
    n = len(paths)
    converted = np.ones(n) if converted is None else np.asarray(converted, float)
    revenue = np.zeros(n) if revenue is None else np.asarray(revenue, float)
    if hours is None:
        hours = [list(range(len(p) - 1, -1, -1)) for p in paths]  # one hour apart, the last touch at the end
    return Journeys(
        labels=tuple(labels),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        codes=np.array([index[c] for p in paths for c in p], np.int32),
        hours_before=np.array([h for hs in hours for h in hs], float),
        converted=converted,
        revenue=revenue * converted,
        end=np.full(n, np.datetime64("2026-03-01", "ns")),
    )


def credits(model_id, journeys, params=None) -> dict[str, tuple[float, float]]:
    frame = run_model(MODELS[model_id], journeys, params)
    return {k: (float(r.conversions), float(r.revenue)) for k, r in frame.iterrows()}


# --------------------------------------------------------------------------
# Conservation, for every model, over random journeys
# --------------------------------------------------------------------------


@st.composite
def random_journeys(draw):
    n_channels = draw(st.integers(1, 6))
    n = draw(st.integers(1, 14))
    lengths = draw(st.lists(st.integers(1, 7), min_size=n, max_size=n))
    total = sum(lengths)
    codes = draw(st.lists(st.integers(0, n_channels - 1), min_size=total, max_size=total))
    converted = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    revenue = draw(st.lists(st.integers(0, 5000), min_size=n, max_size=n))
    gaps = draw(st.lists(st.floats(0, 2000, allow_nan=False), min_size=total, max_size=total))
    hours, at = [], 0
    for length in lengths:
        part = np.cumsum(gaps[at : at + length])[::-1]  # time order: hours before the end decrease
        hours.extend(part - part[-1] + gaps[at])
        at += length
    labels = tuple(["Direct", "Email", "Paid Search", "Display", "Social", "Video"][:n_channels])
    return Journeys(
        labels=labels,
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        codes=np.array(codes, np.int32),
        hours_before=np.array(hours, float),
        converted=np.array(converted, float),
        revenue=np.array(revenue, float) * np.array(converted, float),
        end=np.full(n, np.datetime64("2026-03-01", "ns")),
    )


MODEL_RUNS = [
    *((m.id, None) for m in HEURISTICS),
    ("time_decay", {"half_life_days": 0.001}),  # far beyond the half-life: no underflow
    ("position_based", {"weights": [0.1, 0.6, 0.3]}),
    ("last_non_direct", lambda labels: {"direct_channels": [c for c in ("Direct", "Email") if c in labels]}),
    ("markov", {"order": 1}),
    ("markov", {"order": 2}),
    ("markov", {"order": 3}),
    ("markov_per_journey", {"order": 1}),
    ("markov_per_journey", {"order": 2}),
    ("shapley", None),
    ("shapley", {"max_exact_size": 1}),  # exact scan of observed subsets
    ("shapley", {"max_exact_size": 1, "max_scan_coalitions": 0, "samples": 20}),  # sampled
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_journeys())
def test_every_model_conserves_conversions_and_revenue(journeys):
    expected = (journeys.converted.sum(), (journeys.converted * journeys.revenue).sum())
    for model_id, params in MODEL_RUNS:
        params = params(journeys.labels) if callable(params) else params
        frame = run_model(MODELS[model_id], journeys, params)  # run_model itself checks conservation
        assert list(frame.index) == list(journeys.labels)
        assert np.isfinite(frame.to_numpy()).all()
        assert frame["conversions"].sum() == pytest.approx(expected[0], abs=1e-9)
        assert frame["revenue"].sum() == pytest.approx(expected[1], rel=1e-9, abs=1e-6)
        if model_id != "shapley":  # Shapley credit can be negative by design
            assert (frame.to_numpy() >= -1e-9).all(), model_id
    # the per-touch weight functions agree with the direct credit
    from roistory.attribution import credit_from_weights
    from roistory.plugins import heuristic_attribution as h

    for model_id, weights in [
        ("first_touch", h.first_touch),
        ("last_touch", h.last_touch),
        ("linear", h.linear),
        ("last_non_direct", h.last_non_direct),
        ("time_decay", h.time_decay),
        ("position_based", h.position_based),
    ]:
        direct = run_model(MODELS[model_id], journeys)
        via_weights = credit_from_weights(journeys, weights(journeys, {}))
        np.testing.assert_allclose(direct.to_numpy(), via_weights.to_numpy(), rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------
# Heuristics, by hand
# --------------------------------------------------------------------------


def test_heuristics_by_hand():
    journeys = make_journeys(
        [["Email", "Direct", "Paid Search", "Direct"], ["Direct"], ["Display", "Email"]],
        converted=[1, 1, 1],
        revenue=[100, 10, 40],
    )
    assert credits("first_touch", journeys)["Email"] == (1, 100)
    assert credits("last_touch", journeys)["Direct"] == (2, 110)
    lnd = credits("last_non_direct", journeys)
    assert lnd["Paid Search"] == (1, 100)  # the direct touch after it does not take the credit
    assert lnd["Direct"] == (1, 10)  # a journey of direct touches only: its last touch
    assert lnd["Email"] == (1, 40)
    lin = credits("linear", journeys)
    assert lin["Direct"] == pytest.approx((0.5 + 1, 50 + 10))
    pb = credits("position_based", journeys)
    # 4 touches: 0.4 / 0.1 / 0.1 / 0.4; 1 touch: 1; 2 touches: 0.5 / 0.5
    assert pb["Email"] == pytest.approx((0.4 + 0.5, 40 + 20))
    assert pb["Direct"] == pytest.approx((0.1 + 0.4 + 1, 10 + 40 + 10))
    assert pb["Paid Search"] == pytest.approx((0.1, 10))
    custom = credits("position_based", journeys, {"weights": [0.3, 0.3, 0.4]})
    assert custom["Display"] == pytest.approx((0.3 / 0.7, 40 * 0.3 / 0.7))  # two touches: first:last


def test_position_based_on_short_journeys_and_without_a_middle_weight():
    """One touch takes everything, two split first/last in proportion; a zero middle weight leaves
    the middle touches nothing (and the spreading of middle shares is skipped)."""
    short = make_journeys([["a"], ["a", "b"], ["b", "c"]], revenue=[10, 20, 40])
    got = credits("position_based", short, {"weights": [0.45, 0.4, 0.15]})  # pair 0.6: first 3/4, last 1/4
    expected = {"a": (1 + 0.75, 10 + 15), "b": (0.25 + 0.75, 5 + 30), "c": (0.25, 10)}
    assert got.keys() == expected.keys()
    for channel, (conv, rev) in expected.items():
        assert got[channel] == (pytest.approx(conv), pytest.approx(rev))
    long = make_journeys([["a", "b", "c", "a"]], revenue=[100])
    got = credits("position_based", long, {"weights": [0.5, 0.0, 0.5]})
    assert got == {"a": (pytest.approx(1.0), pytest.approx(100.0)), "b": (0.0, 0.0), "c": (0.0, 0.0)}


def test_time_decay_halves_per_half_life_to_the_conversion():
    # touches 14 days and 7 days before the conversion (the conversion itself is 7 days after the last touch)
    journeys = make_journeys([["Email", "Display"]], revenue=[300], hours=[[14 * 24, 7 * 24]])
    got = credits("time_decay", journeys)
    assert got["Email"] == pytest.approx((1 / 3, 100))
    assert got["Display"] == pytest.approx((2 / 3, 200))
    longer = credits("time_decay", journeys, {"half_life_days": 14})  # 0.5 vs 0.707
    assert longer["Display"][0] == pytest.approx(2**-0.5 / (0.5 + 2**-0.5))


def test_last_non_direct_credits_the_campaign_of_the_last_non_direct_channel():
    tp = pd.DataFrame(
        {
            "person_id": ["p", "p", "p"],
            "timestamp": pd.to_datetime([T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)]),
            "channel": ["Email", "Paid Search", "Direct"],
            "campaign": ["Newsletter", "Brand", None],
        }
    )
    cv = pd.DataFrame({"person_id": ["p"], "timestamp": [pd.Timestamp(T0 + timedelta(days=1))], "revenue": [50.0]})
    journeys, _ = build_journeys(tp, conversion_events(tp, cv), dimension="campaign")
    assert journeys.labels == ("(not set)", "Brand", "Newsletter")
    assert credits("last_non_direct", journeys)["Brand"] == (1, 50)
    assert credits("last_touch", journeys)["(not set)"] == (1, 50)


# --------------------------------------------------------------------------
# Markov: exact solves
# --------------------------------------------------------------------------


def _exact_markov(paths: list[tuple[list[str], int, int, Fraction]], order: int):
    """ChannelAttribution's chain in exact rational arithmetic: Gaussian elimination over Fractions.

    ``paths``: (channels, conversions, nulls, revenue). Returns P(conv), E(value), and per
    channel P(conv) and E(value) with the channel removed.
    """
    counts: dict = defaultdict(Fraction)
    ends_conv: dict = defaultdict(Fraction)
    ends_null: dict = defaultdict(Fraction)
    ends_value: dict = defaultdict(Fraction)
    for channels, conv, null, value in paths:
        if len(channels) < order:
            walk = [tuple(channels)]
        else:
            walk = [tuple(channels[i : i + order]) for i in range(len(channels) - order + 1)]
        merged = [s for i, s in enumerate(walk) if i == 0 or s != walk[i - 1]]
        weight = conv + null
        previous = "start"
        for state in merged:
            counts[previous, state] += weight
            previous = state
        ends_conv[previous] += conv
        ends_null[previous] += null
        ends_value[previous] += value
    states = sorted({s for _, s in counts} | {"start"}, key=str)

    def solve(removed: str | None):
        keep = [s for s in states if s == "start" or removed is None or removed not in s]
        out = {s: sum(w for (a, _), w in counts.items() if a == s) + ends_conv[s] + ends_null[s] for s in keep}
        index = {s: i for i, s in enumerate(keep)}
        n = len(keep)
        # (I - Q^T) x = e_start
        a = [[Fraction(int(i == j)) for j in range(n)] + [Fraction(int(keep[i] == "start"))] for i in range(n)]
        for (src, dst), w in counts.items():
            if src in index and dst in index and out[src]:
                a[index[dst]][index[src]] -= w / out[src]
        for col in range(n):
            pivot = next(r for r in range(col, n) if a[r][col] != 0)
            a[col], a[pivot] = a[pivot], a[col]
            for r in range(n):
                if r != col and a[r][col] != 0:
                    f = a[r][col] / a[col][col]
                    a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
        x = {keep[i]: a[i][n] / a[i][i] for i in range(n)}
        p = sum(x[s] * ends_conv[s] / out[s] for s in keep if out[s])
        v = sum(x[s] * ends_value[s] / out[s] for s in keep if out[s])
        return p, v

    channels = sorted({c for p in paths for c in p[0]})
    return solve(None), {c: solve(c) for c in channels}


def _table(paths) -> PathTable:
    return PathTable.from_frame(
        pd.DataFrame(
            {
                "path": [" > ".join(p[0]) for p in paths],
                "total_conversions": [p[1] for p in paths],
                "total_null": [p[2] for p in paths],
                "total_conversion_value": [float(p[3]) for p in paths],
            }
        )
    )


SMALL_PATHS = [
    (["a", "b", "c"], 3, 5, Fraction(300)),
    (["a"], 2, 7, Fraction(50)),
    (["b", "b", "a"], 0, 4, Fraction(0)),
    (["c", "a", "c", "b"], 1, 1, Fraction(120)),
    (["a", "c"], 2, 3, Fraction(80)),
    (["b", "a", "a", "b", "c"], 1, 2, Fraction(10)),
    (["c"], 1, 6, Fraction(30)),
    (["d", "a"], 1, 0, Fraction(5)),
]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_removal_effects_equal_an_exact_rational_solve(order):
    (p, v), removed = _exact_markov(SMALL_PATHS, order)
    effects = removal_effects(_table(SMALL_PATHS), order)
    table = _table(SMALL_PATHS)
    assert effects.p_conversion == pytest.approx(float(p), abs=1e-12)
    for i, channel in enumerate(table.labels):
        pc, vc = removed[channel]
        assert abs(effects.conversions[i] - float(1 - pc / p)) <= 1e-12
        assert abs(effects.revenue[i] - float(1 - vc / v)) <= 1e-12


def test_markov_by_hand():
    # a > b converts, b does not: start→a 1/2, start→b 1/2, a→b 1, b→conv 1/2.
    # P(conv) = 1/2; without a: 1/4 (RE 1/2); without b: 0 (RE 1). Credit 1/3 : 2/3.
    journeys = make_journeys([["a", "b"], ["b"]], converted=[1, 0], revenue=[90, 0])
    got = credits("markov", journeys)
    assert got["a"] == pytest.approx((1 / 3, 30))
    assert got["b"] == pytest.approx((2 / 3, 60))
    # per journey: the converting journey a > b splits 1/3 : 2/3 too
    per_journey = credits("markov_per_journey", journeys)
    assert per_journey["a"] == pytest.approx((1 / 3, 30))


def test_markov_removal_effects_report_the_chain_totals():
    """P(conversion) and the expected value of one walk, by hand; no states or no conversions
    give zeros, never NaN."""
    journeys = make_journeys([["a"], ["b"], ["a", "b"], ["b"]], converted=[1, 0, 1, 0], revenue=[10, 0, 30, 0])
    effects = removal_effects(path_rows(journeys))
    assert (effects.p_conversion, effects.value_per_walk) == (pytest.approx(0.5), pytest.approx(10.0))
    many = tuple(f"c{i:03d}" for i in range(500))  # more codes than the dense limit: no state at all
    empty = removal_effects(path_rows(make_journeys([[], []], converted=[1, 0], revenue=[5, 0], labels=many)))
    assert (empty.p_conversion, empty.value_per_walk) == (0.0, 0.0)
    assert not empty.conversions.any() and not empty.revenue.any() and len(empty.conversions) == 500
    never = removal_effects(path_rows(make_journeys([["a", "b"], ["b"]], converted=[0, 0])))
    assert never.conversions.tolist() == [0.0, 0.0] and never.revenue.tolist() == [0.0, 0.0]


def test_markov_value_credit_uses_the_removal_effect_on_value():
    # a converts cheaply, b dearly: value credit must not be conversions × average value
    journeys = make_journeys([["a"], ["b"], ["a"], ["b"]], converted=[1, 1, 0, 0], revenue=[10, 90, 0, 0])
    got = credits("markov", journeys)
    assert got["a"][0] == pytest.approx(1.0)
    assert got["a"][1] == pytest.approx(10.0)
    assert got["b"][1] == pytest.approx(90.0)


@pytest.mark.parametrize("order", [1, 2])
def test_markov_on_aggregated_paths_equals_one_row_per_journey(order):
    rng = np.random.default_rng(3)
    paths = [list(rng.choice(list("abcde"), rng.integers(1, 6))) for _ in range(400)]
    converted = rng.random(400) < 0.3
    journeys = make_journeys(paths, converted=converted, revenue=rng.integers(1, 100, 400))
    rows = markov_credit(path_rows(journeys), order)
    aggregated = markov_credit(aggregate_paths(journeys), order)
    np.testing.assert_allclose(rows.to_numpy(), aggregated.to_numpy(), rtol=1e-12, atol=1e-12)
    # every journey twice: every aggregated row weighs 2 or more (no row counts as one journey)
    twice = make_journeys(paths * 2, np.tile(converted, 2), np.tile(journeys.revenue, 2))
    doubled = aggregate_paths(twice)
    assert ((doubled.conversions + doubled.nulls) >= 2).all()
    np.testing.assert_allclose(markov_credit(doubled, order).to_numpy(), 2 * rows.to_numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("order", "n_labels"), [(1, 450), (2, 450), (3, 450), (8, 450), (3, 1300)])
def test_markov_credit_does_not_depend_on_the_channels_codes(order, n_labels):
    """450 channel codes (more than the dense limit; at order 8 too many for a numeric state key)
    give the used channels exactly the credit they get coded 0 to 7: states are compacted, keyed
    by bytes, merged and padded the same way. 1300 codes at order 3 make state keys up to
    1301³ > 2³¹: 64-bit keys, compacted by hashing."""
    rng = np.random.default_rng(order)
    used = [f"u{i}" for i in range(8)]
    paths = []
    for _ in range(400):  # repeats (merged into one state), rows shorter than the order, single touches
        path = list(rng.choice(used, rng.integers(1, 11)))
        paths.append(path if rng.random() < 0.8 else [path[0]] * rng.integers(1, 4))
    paths += [["u0"], ["u0"], ["u0", "u1"], ["u0", "u1"], ["u1", "u0"], ["u0"]]  # rows that repeat the last state
    converted, revenue = rng.random(len(paths)) < 0.4, rng.integers(1, 100, len(paths))
    compact = markov_credit(path_rows(make_journeys(paths, converted, revenue)), order)
    wide_labels = [f"x{i:04d}" for i in range(n_labels)]
    for i, channel in enumerate(used):
        wide_labels[21 + i * (n_labels - 22) // 7] = channel  # codes 21 to the last, in the same order
    wide = markov_credit(path_rows(make_journeys(paths, converted, revenue, labels=tuple(wide_labels))), order)
    np.testing.assert_allclose(wide.loc[used].to_numpy(), compact.loc[used].to_numpy(), rtol=1e-9, atol=1e-9)
    assert (wide.drop(index=used).to_numpy() == 0).all()
    assert wide["conversions"].sum() == pytest.approx(converted.sum())


@pytest.mark.parametrize(
    ("paths", "expected"),
    [([["a", "b"]], {"a": 0.5, "b": 0.5}), ([["a"], ["b", "a"]], {"a": 4 / 3, "b": 2 / 3})],
)
def test_markov_of_fewer_touches_than_its_order(paths, expected):
    """Fewer touches in all than the order (a sparse period at order 4): every path is one state,
    so every order from the longest path's length to 8 gives the same credit. By hand for
    [a], [b a]: removing a loses every conversion, removing b half of them (RE 1 and 1/2)."""
    journeys = make_journeys(paths, revenue=[10.0] * len(paths))
    for order in range(max(map(len, paths)), markov_attribution.MAX_ORDER + 1):
        got = run_model(MODELS["markov"], journeys, {"order": order})
        assert got["conversions"].to_dict() == pytest.approx(expected)
        assert got["revenue"].to_dict() == pytest.approx({k: 10 * v for k, v in expected.items()})
        per_journey = run_model(MODELS["markov_per_journey"], journeys, {"order": order})
        assert per_journey["conversions"].sum() == pytest.approx(len(paths))


@pytest.mark.parametrize("order", [1, 2])
def test_markov_of_no_touches_among_many_channels_is_no_credit(order):
    """Journeys without touches and more channels than the dense limit: no state, no credit."""
    labels = tuple(f"c{i:03d}" for i in range(500))
    credit = markov_credit(path_rows(make_journeys([[], []], converted=[1.0, 0.0], labels=labels)), order)
    assert credit.shape == (500, 2) and (credit.to_numpy() == 0).all()


def test_markov_order_is_a_python_int_and_defaults_to_1():
    """The order is echoed into the JSON results: a numpy integer becomes an int. Every public
    function of the chain defaults to order 1."""
    params = markov_attribution.check_params({"order": np.int64(3), "other": 1})
    assert params == {"order": 3, "other": 1} and type(params["order"]) is int
    m = markov_attribution
    table = path_rows(make_journeys([["a", "b", "a", "b"], ["b", "a", "a"], ["a"]], converted=[1, 0, 1]))
    np.testing.assert_equal(m.markov_states(table), m.markov_states(table, 1))
    assert m.markov_states(table, 2)[3] != m.markov_states(table)[3]
    np.testing.assert_equal(m.transition_counts(table).counts, m.transition_counts(table, 1).counts)
    np.testing.assert_equal(m.removal_effects(table).conversions, m.removal_effects(table, 1).conversions)
    assert m.markov_credit(table).equals(m.markov_credit(table, 1))
    assert not m.markov_credit(table).equals(m.markov_credit(table, 2))


def test_markov_sparse_solve_equals_dense(monkeypatch):
    rng = np.random.default_rng(4)
    paths = [list(rng.choice(list("abcdefg"), rng.integers(1, 8))) for _ in range(300)] + [["y"]]
    converted, revenue = np.append(rng.random(300) < 0.4, 1), np.append(rng.integers(1, 100, 300), 50)
    table = path_rows(make_journeys(paths, converted, revenue))  # "y" is in exactly one state
    dense = removal_effects(table, 2)
    assert dense.conversions[-1] > 0
    monkeypatch.setattr(markov_attribution, "DENSE_LIMIT", 0)
    sparse = removal_effects(table, 2)
    np.testing.assert_allclose(dense.conversions, sparse.conversions, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dense.revenue, sparse.revenue, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dense_limit", [400, 0], ids=["contains-matrix", "contains-lists"])
def test_markov_sparse_lu_and_series_equal_the_dense_solve(monkeypatch, dense_limit):
    """Both large-chain solvers, called directly (no fallback can hide a wrong one), against the
    dense solve: every removal's P(conversion) and value, including a channel in no state."""
    m = markov_attribution
    rng = np.random.default_rng(4)
    paths = [list(rng.choice(list("abcdefg"), rng.integers(1, 8))) for _ in range(300)]
    # "z" is in no state (removing it removes nothing), "y" in exactly one, "a" in every first state
    labels = ("z", *"abcdefg", "y")
    converted, revenue = rng.random(300) < 0.4, rng.integers(1, 100, 300)
    paths = [["a", *path] for path in paths] + [["a", "y"]]
    table = path_rows(make_journeys(paths, np.append(converted, 1), np.append(revenue, 50), labels=labels))
    reference = m.transition_counts(table, 2)
    expected = m._solve_dense(reference, *m._probabilities(reference))
    assert expected[0][1] == pytest.approx(expected[0][0], rel=1e-14)  # batched LU: bitwise only on some CPUs
    assert expected[0][-1] < expected[0][0] and expected[0][2] == 0
    monkeypatch.setattr(m, "DENSE_LIMIT", dense_limit)
    chain = m.transition_counts(table, 2)
    assert isinstance(chain.contains, np.ndarray) == (dense_limit > 0)
    q, r, rv = m._probabilities(chain)
    series = m._solve_series(chain, q, r, rv)
    assert series is not None  # converged by itself
    for p_conversion, value in (m._solve_sparse(chain, q, r, rv), series):
        np.testing.assert_allclose(p_conversion, expected[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(value, expected[1], rtol=0, atol=1e-10)


@pytest.mark.parametrize("order", [1, 2])
def test_markov_per_journey_from_a_path_table_equals_the_journeys(order):
    """What the SQL engines compute from the path table equals the credit from the journeys."""
    rng = np.random.default_rng(20 + order)
    paths = [list(rng.choice(list("abcde"), rng.integers(1, 6))) for _ in range(300)]
    journeys = make_journeys(paths, rng.random(300) < 0.4, rng.integers(1, 100, 300))
    for model_id in ("markov", "markov_per_journey"):
        model = MODELS[model_id]
        expected = run_model(model, journeys, {"order": order})
        got = model.from_paths(aggregate_paths(journeys), {"order": order})
        assert (list(got.columns), got.index.name) == (["conversions", "revenue"], "segment")
        np.testing.assert_allclose(got.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-12)
        assert got["conversions"].sum() == pytest.approx(journeys.converted.sum())


def test_per_journey_weights_split_equally_where_every_effect_is_zero():
    journeys = make_journeys([["a", "b", "a"], ["b", "c"], ["c"]])
    weights = markov_attribution.per_journey_weights(journeys, np.array([0.6, 0.0, 0.0]))
    np.testing.assert_allclose(weights, [0.5, 0.0, 0.5, 0.5, 0.5, 1.0])
    weights = markov_attribution.per_journey_weights(journeys, np.array([0.2, 0.6, 0.2]))
    np.testing.assert_allclose(weights, [0.2, 0.6, 0.2, 0.75, 0.25, 1.0])
    nothing = markov_attribution.per_journey_weights(journeys, np.zeros(3))
    np.testing.assert_allclose(nothing, [1 / 3, 1 / 3, 1 / 3, 0.5, 0.5, 1.0])
    assert len(markov_attribution.per_journey_weights(make_journeys([]), np.zeros(0))) == 0


def test_markov_counts_big_chains_sparsely_like_small_ones(monkeypatch):
    """Chains over DENSE_COUNTS_UP_TO count only the distinct transitions (scipy.sparse): the
    same counts, ends and credit as the dense count, with one journey per row or weighted rows."""
    from scipy import sparse

    m = markov_attribution
    rng = np.random.default_rng(30)
    paths = [list(rng.choice(list("abcdef"), rng.integers(1, 7))) for _ in range(500)]
    journeys = make_journeys(paths, rng.random(500) < 0.4, rng.integers(1, 100, 500))
    for table in (path_rows(journeys), aggregate_paths(journeys)):
        dense = m.transition_counts(table, 2)
        with monkeypatch.context() as patch:
            patch.setattr(m, "DENSE_COUNTS_UP_TO", 0)
            big = m.transition_counts(table, 2)
            big_credit = markov_credit(table, 2)
        assert sparse.issparse(big.counts) and not sparse.issparse(dense.counts)
        np.testing.assert_array_equal(big.counts.toarray(), dense.counts)
        for name in ("to_conversion", "to_null", "end_value"):
            np.testing.assert_array_equal(getattr(big, name), getattr(dense, name))
        np.testing.assert_allclose(big_credit.to_numpy(), markov_credit(table, 2).to_numpy(), rtol=1e-12, atol=1e-12)


def test_markov_series_ends_exactly_on_a_chain_without_cycles():
    """Channels always in alphabetical order: every walk leaves the transient states within a few
    steps, so the series ends when no mass is left (not by extrapolation) and is the exact solve."""
    m = markov_attribution
    rng = np.random.default_rng(40)
    paths = [sorted(rng.choice(list("abcdefgh"), rng.integers(1, 6), replace=False)) for _ in range(300)]
    table = path_rows(make_journeys(paths, rng.random(300) < 0.4, rng.integers(1, 100, 300)))
    chain = m.transition_counts(table, 1)
    q, r, rv = m._probabilities(chain)
    series = m._solve_series(chain, q, r, rv)
    assert series is not None
    dense = m._solve_dense(chain, q, r, rv)
    np.testing.assert_allclose(series[0], dense[0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(series[1], dense[1], rtol=1e-12, atol=1e-12)


def test_markov_series_sums_slowly_decaying_walks_to_machine_precision(monkeypatch):
    """A journey alternating a, b 150 times keeps walking with probability ~1 − 1/300 a step: the
    series must go on until the extrapolated rest is below 1e-16 of P(conversion), not stop when
    one term is small. Alternating 2,000 times it has not converged after SERIES_MAX_STEPS and
    says so (None), and the removal effects come from sparse LU instead."""
    m = markov_attribution

    def chain_of(repeats):
        table = path_rows(make_journeys([["a", "b"] * repeats, ["b", "c"], ["c"]], [1, 0, 1], [10, 0, 20]))
        chain = m.transition_counts(table, 1)
        return chain, *m._probabilities(chain)

    chain, q, r, rv = chain_of(150)
    series, dense = m._solve_series(chain, q, r, rv), m._solve_dense(chain, q, r, rv)
    np.testing.assert_allclose(series[0], dense[0], rtol=1e-13, atol=0)
    np.testing.assert_allclose(series[1], dense[1], rtol=1e-13, atol=0)
    chain, q, r, rv = chain_of(2000)
    assert m._solve_series(chain, q, r, rv) is None
    expected = m.removal_effects(chain)
    monkeypatch.setattr(m, "DENSE_LIMIT", 0)
    fallback = m.removal_effects(chain)
    np.testing.assert_allclose(fallback.conversions, expected.conversions, rtol=1e-12, atol=1e-12)


def test_markov_with_many_channels_uses_byte_keys():
    labels = tuple(f"c{i:03d}" for i in range(300))  # 301 ** 8 does not fit an int64 key
    rng = np.random.default_rng(5)
    paths = [list(rng.choice(labels[:20], rng.integers(1, 5))) for _ in range(200)]
    journeys = make_journeys(paths, converted=rng.random(200) < 0.5, labels=labels)
    result = run_model(MODELS["markov"], journeys, {"order": 8})
    assert result["conversions"].sum() == pytest.approx(journeys.converted.sum())


# --------------------------------------------------------------------------
# Shapley
# --------------------------------------------------------------------------


def _shapley_by_definition(paths) -> dict[str, float]:
    """Conversions credit straight from the definition in shared/ATTRIBUTION.md (mam's)."""
    stats: dict = defaultdict(lambda: [0, 0])
    for channels, conv, null in paths:
        key = frozenset(channels)
        stats[key][0] += conv
        stats[key][1] += conv + null
    v = {s: c / t for s, (c, t) in stats.items() if c > 0}
    credit: dict = defaultdict(float)
    for s, (conv, _) in stats.items():
        if conv == 0:
            continue
        players = sorted(s)
        n = len(players)
        phi = {}
        for i in players:
            others = [p for p in players if p != i]
            total = 0.0
            for k in range(len(others) + 1):
                for subset in combinations(others, k):
                    t = frozenset(subset)
                    weight = factorial(k) * factorial(n - k - 1) / factorial(n)
                    total += weight * (v.get(t | {i}, 0.0) - v.get(t, 0.0))
            phi[i] = total
        for i in players:
            credit[i] += phi[i] / sum(phi.values()) * conv
    return dict(credit)


def test_shapley_by_hand():
    # {a}: 1 of 2 convert (v = .5); {a, b}: 1 of 1 (v = 1); {b}: never converts (v = 0).
    # φ_a({a,b}) = ½(.5 + 1) = .75, φ_b = ½(0 + .5) = .25
    journeys = make_journeys([["a"], ["a"], ["a", "b", "a"], ["b"]], converted=[1, 0, 1, 0], revenue=[10, 0, 100, 0])
    got = credits("shapley", journeys)
    assert got["a"] == pytest.approx((1.75, 10 + 75))
    assert got["b"] == pytest.approx((0.25, 25))


def test_shapley_matches_the_definition_and_its_exact_and_sampled_variants():
    rng = np.random.default_rng(6)
    paths = [list(rng.choice(list("abcdef"), rng.integers(1, 6))) for _ in range(600)]
    converted = (rng.random(600) < 0.35).astype(int)
    journeys = make_journeys(paths, converted=converted, revenue=rng.integers(1, 100, 600))
    expected = _shapley_by_definition([(p, c, 1 - c) for p, c in zip(paths, converted, strict=True)])
    enumerated = shapley_credit(path_rows(journeys))
    scanned = shapley_credit(path_rows(journeys), {"max_exact_size": 1})
    sampled = shapley_credit(path_rows(journeys), {"max_exact_size": 2, "max_scan_coalitions": 0, "samples": 3000})
    for channel, value in expected.items():
        assert enumerated.loc[channel, "conversions"] == pytest.approx(value, abs=1e-10)
        assert scanned.loc[channel, "conversions"] == pytest.approx(value, abs=1e-10)
        assert sampled.loc[channel, "conversions"] == pytest.approx(value, rel=0.1, abs=1.0)
    np.testing.assert_allclose(enumerated.to_numpy(), scanned.to_numpy(), atol=1e-9)
    # aggregated paths give the same answer
    np.testing.assert_allclose(shapley_credit(aggregate_paths(journeys)).to_numpy(), enumerated.to_numpy(), atol=1e-9)


def test_shapley_handles_more_than_64_channels_and_large_coalitions():
    labels = tuple(f"c{i:03d}" for i in range(130))
    rng = np.random.default_rng(7)
    paths = [list(rng.choice(labels, rng.integers(1, 19), replace=False)) for _ in range(150)]
    journeys = make_journeys(paths, converted=rng.random(150) < 0.6, revenue=rng.integers(1, 100, 150), labels=labels)
    exact = shapley_credit(path_rows(journeys), {"max_exact_size": 4})
    scanned = shapley_credit(path_rows(journeys), {"max_exact_size": 1})
    np.testing.assert_allclose(exact.to_numpy(), scanned.to_numpy(), atol=1e-9)
    assert exact["conversions"].sum() == pytest.approx(journeys.converted.sum())


@pytest.mark.parametrize("params", [{}, {"max_exact_size": 1}], ids=["enumerated", "scanned"])
def test_shapley_credit_does_not_depend_on_the_channels_codes(params):
    """Channels coded past 64 (masks of several words) get exactly what they get coded below 64.

    (Exact methods only: sampling draws its random orders coalition by coalition, in an order
    that follows the masks.)"""
    rng = np.random.default_rng(11)
    used = [f"u{i:02d}" for i in range(12)]
    paths = [list(rng.choice(used, rng.integers(1, 8), replace=False)) for _ in range(300)]
    converted, revenue = rng.random(300) < 0.5, rng.integers(1, 100, 300)
    compact = shapley_credit(path_rows(make_journeys(paths, converted, revenue)), params)

    wide_labels = [f"x{i:03d}" for i in range(200)]
    for i, channel in enumerate(used):  # codes 3, 20, ..., 190: spread over words 0 to 2, in the same order
        wide_labels[17 * i + 3] = channel
    wide = shapley_credit(path_rows(make_journeys(paths, converted, revenue, labels=tuple(wide_labels))), params)

    np.testing.assert_allclose(wide.loc[used].to_numpy(), compact.loc[used].to_numpy(), rtol=1e-12, atol=1e-12)
    assert (wide.drop(index=used).to_numpy() == 0).all()
    assert wide["conversions"].sum() == pytest.approx(converted.sum())


def test_sampled_shapley_does_not_depend_on_the_channels_codes():
    """The sampled φ of channels coded past 64 equals theirs coded below 64 (one coalition per size,
    so both draw the same random orders for the same coalition)."""
    used = ["u0", "u1", "u2", "u3", "u4"]
    paths = [used[:size] for size in range(1, 6)] + [[c] for c in used[1:]] + [used[:3], used[:5]]
    converted = [1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1]
    revenue = [10, 20, 30, 40, 50, 0, 5, 15, 25, 0, 35]
    params = {"max_exact_size": 1, "max_scan_coalitions": 0, "samples": 40, "seed": 3}
    compact = shapley_credit(path_rows(make_journeys(paths, converted, revenue)), params)
    wide_labels = [f"x{i:03d}" for i in range(150)]
    for i, channel in enumerate(used):
        wide_labels[31 * i + 7] = channel  # codes 7, 38, 69, 100, 131: words 0 to 2
    wide = shapley_credit(path_rows(make_journeys(paths, converted, revenue, labels=tuple(wide_labels))), params)
    np.testing.assert_allclose(wide.loc[used].to_numpy(), compact.loc[used].to_numpy(), rtol=1e-12, atol=1e-12)


def test_shapley_is_exact_up_to_and_including_each_threshold():
    """``max_exact_size`` and ``max_scan_coalitions`` are inclusive: at the bound the exact methods run."""
    rng = np.random.default_rng(5)
    used = list("abcdef")
    paths = [list(rng.choice(used, rng.integers(1, 5), replace=False)) for _ in range(200)]
    table = path_rows(make_journeys(paths, rng.random(200) < 0.5, rng.integers(1, 50, 200)))
    exact = shapley_credit(table)
    kept = len(coalitions(table)[1].nonzero()[0])  # coalitions with conversions
    sampled_above = {"samples": 3, "seed": 1}
    for params in (
        {"max_exact_size": 4, "max_scan_coalitions": 0},  # every size is at most 4: enumerated
        {"max_exact_size": 1, "max_scan_coalitions": kept},  # exactly as many coalitions as allowed: scanned
    ):
        got = shapley_credit(table, {**params, **sampled_above})
        np.testing.assert_allclose(got.to_numpy(), exact.to_numpy(), rtol=1e-12, atol=1e-12)
    # one below either bound, 3 random orders are not exact
    below = shapley_credit(table, {"max_exact_size": 1, "max_scan_coalitions": kept - 1, **sampled_above})
    assert not np.allclose(below.to_numpy(), exact.to_numpy())
    assert exact.index.name == "segment"


def test_shapley_defaults_are_the_documented_ones():
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    section = text[text.index("`max_exact_size` channels") :][:600]
    documented = {
        name: int(value.replace(",", ""))
        for name, value in re.findall(r"`(\w+)`[^`]*?\(default ([\d,]+)", section.replace("\n", " "))
    }
    assert (
        documented
        == SHAPLEY[0].defaults
        == {"max_exact_size": 15, "max_scan_coalitions": 50_000, "samples": 1000, "seed": 0}
    )


def test_every_built_in_model_is_registered_through_its_hook():
    from roistory.plugin_manager import build_registry, new_plugin_manager

    registry = build_registry(new_plugin_manager())
    for model in [*HEURISTICS, *MARKOV, *SHAPLEY]:
        assert registry.models[model.id] is model


def test_shapley_without_numpy_2_bit_counting_gives_the_same_credit(monkeypatch):
    """numpy < 2 (allowed by the requirements) has no ``bitwise_count``: the fallbacks count the same."""
    from roistory.plugins import shapley_attribution

    labels = tuple(f"c{i:03d}" for i in range(130))
    rng = np.random.default_rng(8)
    paths = [list(rng.choice(labels, rng.integers(1, 9), replace=False)) for _ in range(120)]
    table = path_rows(make_journeys(paths, rng.random(120) < 0.6, rng.integers(1, 100, 120), labels=labels))
    expected = shapley_credit(table, {"max_exact_size": 5})
    shapley_attribution._shapley_matrix.cache_clear()
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    try:
        got = shapley_credit(table, {"max_exact_size": 5})
    finally:
        shapley_attribution._shapley_matrix.cache_clear()
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-12)


def test_shapley_gives_nothing_for_an_empty_path():
    """v(empty set) = 0: a path table row without touches (a plugin's, a warehouse's) changes no credit."""
    labels = ("a", "b", "c")
    table = PathTable(
        labels=labels,
        offsets=np.array([0, 2, 3, 5], np.int64),
        codes=np.array([0, 1, 2, 0, 2], np.int32),
        conversions=np.array([3.0, 1.0, 2.0]),
        revenue=np.array([30.0, 10.0, 20.0]),
        nulls=np.array([1.0, 4.0, 2.0]),
    )
    with_empty = PathTable(
        labels=labels,
        offsets=np.array([0, 2, 2, 3, 5], np.int64),  # row 1 has no touches
        codes=table.codes,
        conversions=np.array([3.0, 5.0, 1.0, 2.0]),
        revenue=np.array([30.0, 50.0, 10.0, 20.0]),
        nulls=np.array([1.0, 0.0, 4.0, 2.0]),
    )
    expected = shapley_credit(table)
    assert expected["conversions"].sum() == pytest.approx(6.0)
    pd.testing.assert_frame_equal(shapley_credit(with_empty), expected, rtol=1e-12)


# --------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "params", "key", "message"),
    [
        ("markov", {"order": 0}, "attribution.params.markov.order", "from 1 to 8"),
        ("markov", {"order": "2"}, "attribution.params.markov.order", "whole number"),
        ("markov", {"ordre": 2}, "attribution.params.markov.ordre", "did you mean 'order'"),
        ("markov_per_journey", {"order": 1.5}, "attribution.params.markov_per_journey.order", "whole number"),
        ("time_decay", {"half_life_days": 0}, "attribution.params.time_decay.half_life_days", "positive"),
        ("position_based", {"weights": [0.5, 0.5, 0.5]}, "attribution.params.position_based.weights", "add up to 1"),
        ("position_based", {"weights": [0.5, 0.5]}, "attribution.params.position_based.weights", "three"),
        ("last_non_direct", {"direct_channels": "Direct"}, None, None),  # a single name is fine
        (
            "last_non_direct",
            {"direct_channels": ["Drect"]},
            "attribution.params.last_non_direct.direct_channels",
            "did you mean 'Direct'",
        ),
        ("shapley", {"samples": 0}, "attribution.params.shapley.samples", "from 1 to 1000000"),
        ("shapley", {"samples": 10**12}, "attribution.params.shapley.samples", "from 1 to 1000000"),
        (
            "shapley",
            {"max_scan_coalitions": 10**9},
            "attribution.params.shapley.max_scan_coalitions",
            "from 0 to 10000000",
        ),
        ("shapley", {"seed": 2**40}, "attribution.params.shapley.seed", "from 0 to 4294967295"),
        ("shapley", {"max_exact_size": 21}, "attribution.params.shapley.max_exact_size", "from 1 to 20"),
        ("shapley", {"max_exact_size": 20}, None, None),  # the bound itself is allowed
        ("shapley", {"samples": True}, "attribution.params.shapley.samples", "whole number"),
    ],
)
def test_bad_parameters_name_their_key(model_id, params, key, message):
    journeys = make_journeys([["Direct", "Email"], ["Email"]], converted=[1, 0])
    if key is None:
        run_model(MODELS[model_id], journeys, params)
        return
    with pytest.raises(ConfigError) as info:
        run_model(MODELS[model_id], journeys, params)
    assert info.value.key == key
    assert message in str(info.value)


def test_an_unknown_direct_channel_with_no_close_name_gets_no_hint():
    journeys = make_journeys([["Direct", "Email"], ["Email"]], converted=[1, 0])
    with pytest.raises(ConfigError) as info:
        run_model(MODELS["last_non_direct"], journeys, {"direct_channels": ["Zzzz"]})
    assert str(info.value) == "attribution.params.last_non_direct.direct_channels: unknown channel 'Zzzz'"


def test_model_param_error_is_a_value_error():
    assert issubclass(ModelParamError, ValueError)


# --------------------------------------------------------------------------
# Path table and journey building
# --------------------------------------------------------------------------


def test_aggregate_paths_merges_identical_paths_exactly():
    rng = np.random.default_rng(8)
    paths = [list(rng.choice(list("abc"), rng.integers(1, 4))) for _ in range(500)]
    converted = rng.random(500) < 0.5
    revenue = rng.integers(1, 100, 500)
    table = aggregate_paths(make_journeys(paths, converted=converted, revenue=revenue, labels=("a", "b", "c")))
    expected: dict = defaultdict(lambda: [0.0, 0.0, 0.0])
    for p, c, r in zip(paths, converted, revenue, strict=True):
        expected[" > ".join(p)][0] += c
        expected[" > ".join(p)][1] += r * c
        expected[" > ".join(p)][2] += 1 - c
    frame = table.to_frame()
    assert len(frame) == len(expected)
    for row in frame.itertuples():
        assert [row.total_conversions, row.total_conversion_value, row.total_null] == expected[row.path]
    back = PathTable.from_frame(frame, separator=">")
    assert back.paths() == table.paths()


def test_aggregate_paths_with_long_paths_uses_byte_keys():
    paths = [["a", "b"] * 40, ["a", "b"] * 40, ["b", "a"] * 40]
    table = aggregate_paths(make_journeys(paths, converted=[1, 0, 1]))
    assert len(table) == 2
    assert list(table.conversions) == [1, 1] and list(table.nulls) == [1, 0]


def _journey_frames(n_events: int, seed: int, resolution: str):
    rng = np.random.default_rng(seed)
    step = {"s": 10**9, "ns": 1, "ns_decades": 1}[resolution]
    spacing = 3600 * 10**9 if resolution != "ns_decades" else 400 * 86400 * 10**9  # 50 steps of 400 days
    ts = pd.to_datetime(rng.integers(0, 50, n_events) * spacing + rng.integers(0, 3, n_events) * step)
    tp = pd.DataFrame(
        {
            "person_id": rng.choice(["p1", "p2", "p3"], n_events),
            "timestamp": ts,
            "channel": rng.choice(["Email", "Direct", None], n_events),
        }
    )
    conv_at = rng.random(n_events) < 0.2
    cv = tp[conv_at][["person_id", "timestamp"]].assign(revenue=1.0).reset_index(drop=True)
    return tp, cv


@pytest.mark.parametrize("resolution", ["s", "ns", "ns_decades"])
def test_build_journeys_orders_ties_like_a_stable_sort(resolution):
    """Many equal timestamps: touches keep their file order (the int64-key sort and lexsort agree)."""
    from roistory import attribution

    tp, cv = _journey_frames(300, 9, resolution)
    events = conversion_events(tp, cv)
    days = 1 if resolution != "ns_decades" else 500
    journeys, _ = build_journeys(tp, events, lookback_days=days, dormancy_days=days)
    original = attribution._event_order

    def lexsort_order(person, timestamps, kind):
        return np.lexsort((kind, timestamps, person))

    attribution._event_order = lexsort_order
    try:
        reference, _ = build_journeys(tp, events, lookback_days=days, dormancy_days=days)
    finally:
        attribution._event_order = original
    assert journeys.labels == reference.labels == ("(not set)", "Direct", "Email")
    np.testing.assert_array_equal(journeys.codes, reference.codes)
    np.testing.assert_array_equal(journeys.offsets, reference.offsets)
    np.testing.assert_array_equal(journeys.hours_before, reference.hours_before)
    np.testing.assert_array_equal(journeys.converted, reference.converted)


# --------------------------------------------------------------------------
# roistory attribute
# --------------------------------------------------------------------------


def _write(tmp_path, name, frame):
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.fixture
def files(tmp_path):
    tp = pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p2", "p3", "p3"],
            "timestamp": [
                "2026-03-01T10:00:00",
                "2026-03-02T10:00:00",
                "2026-03-03T10:00:00",
                "2026-03-01T08:00:00",
                "2026-03-04T08:00:00",
            ],
            "channel": ["Email", "Paid Search", "Direct", "Email", "Display"],
            "campaign": ["Spring", "Brand", "", "Spring", "Retarget"],
        }
    )
    cv = pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p4"],
            "timestamp": ["2026-03-02T12:00:00", "2026-03-05T10:00:00", "2026-03-05T10:00:00"],
            "revenue": [100.0, 50.0, 7.0],
        }
    )
    return _write(tmp_path, "tp.csv", tp), _write(tmp_path, "cv.csv", cv), tp, cv


def invoke(*args):
    return CliRunner().invoke(attribute, [str(a) for a in args])


def test_attribute_json_rows_match_the_run_json_shape(files):
    tp, cv, _, _ = files
    result = invoke(tp, "--conversions", cv, "--model", "linear,markov", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["attribution"]
    assert set(rows[0]) == {"model", "segment", "conversions", "revenue"}
    linear = {r["segment"]["channel"]: (r["conversions"], r["revenue"]) for r in rows if r["model"] == "linear"}
    assert linear["Email"] == (0.5, 50.0) and linear["Paid Search"] == (0.5, 50.0) and linear["Direct"] == (1, 50)
    assert linear["(no touchpoints)"] == (1, 7.0)  # p4 converted without touchpoints: counted, not dropped
    for model in ("linear", "markov"):
        assert sum(r["conversions"] for r in rows if r["model"] == model) == pytest.approx(3)
        assert sum(r["revenue"] for r in rows if r["model"] == model) == pytest.approx(157)
    assert "1 conversion had no touchpoint" in result.stderr


def test_attribute_csv_table_parquet_and_campaigns(files, tmp_path):
    tp, cv, tp_frame, cv_frame = files
    csv_out = invoke(tp, "--conversions", cv, "--model", "first_touch", "--format", "csv")
    assert csv_out.exit_code == 0
    assert csv_out.stdout.splitlines()[0] == "model,channel,conversions,revenue"
    table = invoke(tp, "--conversions", cv, "--model", "first_touch,shapley")
    assert table.exit_code == 0 and "first_touch — First touch" in table.stdout and "shapley" in table.stdout
    parquet = _write(tmp_path, "tp.parquet", tp_frame.assign(timestamp=pd.to_datetime(tp_frame["timestamp"])))
    by_campaign = invoke(
        parquet, "--conversions", cv, "--model", "last_non_direct", "--dimension", "campaign", "--format", "json"
    )
    assert by_campaign.exit_code == 0, by_campaign.output
    rows = {r["segment"]["campaign"]: r["conversions"] for r in json.loads(by_campaign.stdout)["attribution"]}
    assert rows["Brand"] == 1 and rows["(not set)"] == 1  # p2's journey is direct only
    with_param = invoke(tp, "--conversions", cv, "--model", "markov", "--param", "markov.order=2", "--format", "json")
    assert with_param.exit_code == 0


def test_attribute_session_format_and_progress(tmp_path):
    sessions = pd.DataFrame(
        {
            "person_id": ["a", "a", "b"],
            "timestamp": ["2026-01-01T00:00:00", "2026-01-02T00:00:00", "2026-01-01T00:00:00"],
            "channel": ["Email", "Display", "Email"],
            "conversion": [0, 1, 0],
            "revenue": ["", "20", ""],
        }
    )
    path = _write(tmp_path, "sessions.csv", sessions)
    result = invoke(path, "--model", "last_touch", "--format", "json", "--progress")
    assert result.exit_code == 0, result.output
    rows = {r["segment"]["channel"]: r["revenue"] for r in json.loads(result.stdout)["attribution"]}
    assert rows == {"Display": 20.0, "Email": 0.0}


@pytest.mark.parametrize(
    ("change", "args", "message"),
    [
        ("no_person", [], "missing required column 'person_id'"),
        ("no_timestamp", [], "missing required column 'timestamp'"),
        ("mixed_zones", [], "time zone"),
        (None, ["--model", "markof"], "did you mean 'markov'"),
        (None, ["--model", "markov", "--param", "markov.order=0"], "attribution.params.markov.order"),
        (None, ["--model", "linear", "--param", "linear"], "model.param=value"),
        (None, ["--model", "linear", "--format", "xml"], "unknown format"),
        (None, ["--model", "linear", "--lookback-days", "0"], "--lookback-days"),
        (None, ["--model", "linear", "--dimension", "colour"], "not a touchpoints dimension"),
        ("negative_revenue", [], "must not be negative"),
        (
            None,
            ["--model", "last_non_direct", "--param", "last_non_direct.direct_channels=[Drect]"],
            "unknown channel 'Drect'",
        ),
    ],
)
def test_attribute_bad_input_exits_2_with_one_line(files, tmp_path, change, args, message):
    tp_path, cv_path, tp, cv = files
    if change == "no_person":
        tp_path = _write(tmp_path, "bad.csv", tp.drop(columns="person_id"))
    elif change == "no_timestamp":
        tp_path = _write(tmp_path, "bad.csv", tp.drop(columns="timestamp"))
    elif change == "mixed_zones":
        tp_path = _write(tmp_path, "bad.csv", tp.assign(timestamp=[*tp["timestamp"][:4], "2026-03-04T08:00:00+02:00"]))
    elif change == "negative_revenue":
        cv_path = _write(tmp_path, "badcv.csv", cv.assign(revenue=[100.0, -1.0, 7.0]))
    result = invoke(tp_path, "--conversions", cv_path, *(args or ["--model", "linear"]))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_attribute_without_conversions_exits_2(files):
    tp, _, _, _ = files
    result = invoke(tp, "--model", "linear")
    assert result.exit_code == 2 and "no conversions" in result.stderr


def test_attribute_is_registered_on_the_cli():
    from roistory.cli import cli

    assert "attribute" in cli.commands


def test_heuristics_split_over_threads_give_the_same_credit(monkeypatch):
    from roistory.plugins import heuristic_attribution

    rng = np.random.default_rng(10)
    paths = [list(rng.choice(list("abcdef"), rng.integers(1, 7))) for _ in range(500)]
    journeys = make_journeys(
        paths,
        converted=rng.random(500) < 0.7,
        revenue=rng.integers(1, 100, 500),
        hours=[sorted(rng.uniform(0, 900, len(p)), reverse=True) for p in paths],
    )
    serial = {m.id: run_model(m, journeys) for m in HEURISTICS}
    monkeypatch.setattr(heuristic_attribution, "PARALLEL_FROM", 1)
    monkeypatch.setattr(heuristic_attribution, "_workers", lambda: 3)
    for model in HEURISTICS:
        np.testing.assert_allclose(
            run_model(model, journeys).to_numpy(), serial[model.id].to_numpy(), rtol=1e-12, atol=1e-9
        )


def test_touch_ranges_cut_large_inputs_into_one_balanced_part_per_worker(monkeypatch):
    """Small inputs stay in one part; from PARALLEL_FROM touches on, one part per worker, cut at journeys."""
    from roistory.plugins import heuristic_attribution

    journeys = make_journeys([["a"] * (i % 3 + 1) for i in range(300)])  # 600 touches, journeys of 1-3
    n = len(journeys.codes)
    monkeypatch.setattr(heuristic_attribution, "_workers", lambda: 3)
    monkeypatch.setattr(heuristic_attribution, "PARALLEL_FROM", n + 1)
    assert heuristic_attribution._touch_ranges(journeys) == [(0, n, 0, 300)]

    monkeypatch.setattr(heuristic_attribution, "PARALLEL_FROM", n)  # the threshold itself is large
    ranges = heuristic_attribution._touch_ranges(journeys)
    assert len(ranges) == 3
    assert (ranges[0][0], ranges[0][2], ranges[-1][1], ranges[-1][3]) == (0, 0, n, 300)
    for (_, end, _, end_journey), (start, _, start_journey, _) in pairwise(ranges):
        assert (end, end_journey) == (start, start_journey)  # contiguous
    for start, end, start_journey, end_journey in ranges:
        assert (journeys.offsets[start_journey], journeys.offsets[end_journey]) == (start, end)
        assert abs((end - start) - n / 3) < 3  # balanced to within one journey


def test_non_converting_journeys_change_no_rule_based_credit():
    """The pipeline may pass every journey: rule-based credit only comes from converting ones."""
    rng = np.random.default_rng(12)
    paths = [list(rng.choice(list("abcd"), rng.integers(1, 6))) for _ in range(300)]
    journeys = make_journeys(paths, converted=rng.random(300) < 0.4, revenue=rng.integers(1, 100, 300))
    converting = journeys.subset(journeys.converted > 0)
    for model in HEURISTICS:
        np.testing.assert_allclose(
            run_model(model, journeys).to_numpy(), run_model(model, converting).to_numpy(), rtol=1e-12, atol=1e-9
        )


def test_markov_series_solve_equals_sparse_lu(monkeypatch):
    rng = np.random.default_rng(13)
    paths = [list(rng.choice(list("abcdefgh"), rng.integers(1, 9))) for _ in range(3000)]
    journeys = make_journeys(paths, converted=rng.random(3000) < 0.3, revenue=rng.integers(1, 100, 3000))
    table = path_rows(journeys)
    series = removal_effects(table, 3)  # > DENSE_LIMIT states: the series
    assert markov_attribution.transition_counts(table, 3).n_states > markov_attribution.DENSE_LIMIT
    chain = markov_attribution.transition_counts(table, 3)
    assert markov_attribution._solve_series(chain, *markov_attribution._probabilities(chain)) is not None
    monkeypatch.setattr(markov_attribution, "SERIES", False)
    lu = removal_effects(table, 3)
    np.testing.assert_allclose(series.conversions, lu.conversions, rtol=0, atol=1e-13)
    np.testing.assert_allclose(series.revenue, lu.revenue, rtol=0, atol=1e-13)
    assert series.p_conversion == pytest.approx(journeys.converted.mean(), abs=1e-14)


@pytest.mark.parametrize("model_id", ["markov", "markov_per_journey", "shapley"])
@pytest.mark.parametrize("order", [1, 2])
def test_a_channel_without_touches_gets_exactly_nothing(model_id, order):
    journeys = make_journeys(
        [["a", "b"], ["b"], ["a"], ["b", "a", "b"]],
        converted=[1, 0, 1, 1],
        revenue=[5, 0, 7, 9],
        labels=("a", "b", "z"),
    )
    params = {"order": order} if model_id != "shapley" else None
    got = run_model(MODELS[model_id], journeys, params)
    assert got.loc["z"].tolist() == [0.0, 0.0]
    if model_id == "markov":
        assert removal_effects(path_rows(journeys), order).conversions[2] == 0.0


def test_arrow_factorisation_of_chunked_strings_matches_pandas():
    import pyarrow as pa

    from roistory.attribution import _factorize, _person_codes

    chunks = [["b", "a", None, "c"], [], ["a", "d", "b"], ["e", None, "a"]]
    arrow = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks, type=pa.string())))
    plain = pd.Series([v for c in chunks for v in c], dtype=object)
    for sort in (False, True):
        codes, uniques = _factorize(arrow, sort=sort)
        expected, expected_uniques = pd.factorize(plain, sort=sort)
        assert [uniques[c] if c >= 0 else None for c in codes] == [
            expected_uniques[c] if c >= 0 else None for c in expected
        ]
        if sort:
            assert list(uniques) == sorted(uniques)
    people = _person_codes(arrow, pd.Series(["d", "zz", "a", "zz"], dtype=object))
    touch, conversion = people[:10], people[10:]
    assert conversion[0] == touch[5] and conversion[2] == touch[1]  # 'd' and 'a' as in the touchpoints
    assert conversion[1] == conversion[3] and conversion[1] not in touch  # a person with no touchpoint


def test_time_decay_far_beyond_the_half_life_keeps_the_relative_weights():
    """Touches 2000 and 2001 hours before the conversion with a 1-hour half-life: 0.5 ** 2000
    underflows, yet only the gap between the touches matters (weights 1 : 0.5 → 2/3 : 1/3)."""
    journeys = make_journeys([["a", "b"], ["a"]], revenue=[30.0, 9.0], hours=[[2001.0, 2000.0], [5000.0]])
    got = credits("time_decay", journeys, {"half_life_days": 1 / 24})
    assert got["a"] == pytest.approx((1 / 3 + 1, 10.0 + 9.0), rel=1e-12)
    assert got["b"] == pytest.approx((2 / 3, 20.0), rel=1e-12)


def test_last_non_direct_steps_back_over_long_runs_of_direct_touches():
    """Runs of up to 40 direct touches: past 16 steps the model switches to a search over all
    non-direct touches, which must still stop at the journey's own first touch."""
    rng = np.random.default_rng(7)
    paths = []
    for _ in range(300):
        head = list(rng.choice(["Email", "Paid Search", "Display", "Direct"], size=int(rng.integers(0, 4))))
        paths.append(head + ["Direct"] * int(rng.integers(0, 41)) or ["Direct"])
    revenue = rng.integers(1, 100, size=len(paths)).astype(float)
    expected: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for path, value in zip(paths, revenue, strict=True):
        credited = next((c for c in reversed(path) if c != "Direct"), "Direct")  # the definition, by hand
        expected[credited][0] += 1
        expected[credited][1] += value
    got = credits("last_non_direct", make_journeys(paths, revenue=revenue))
    assert {k: v for k, v in got.items() if v != (0.0, 0.0)} == {k: tuple(v) for k, v in expected.items()}
    assert max(len(p) - 1 - max((i for i, c in enumerate(p) if c != "Direct"), default=0) for p in paths) > 16


def test_time_decay_of_no_journeys_is_no_credit():
    got = credits("time_decay", make_journeys([], labels=("Email",)))
    assert all(value == (0.0, 0.0) for value in got.values())


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        # a direct-only journey after one that ends on a non-direct touch: never steps into it
        ([["Email"], ["Direct"]], {"Email": 1, "Direct": 1}),
        ([["Email"], ["Direct", "Direct"]], {"Email": 1, "Direct": 1}),
        # past 16 steps (the search over all non-direct touches) with the array's first one ...
        ([["Email"] + ["Direct"] * 20, ["Paid Search"]], {"Email": 1, "Paid Search": 1}),
        # ... not the journey's first touch
        ([["Direct", "Email"] + ["Direct"] * 20], {"Email": 1}),
        ([["Direct"] * 20, ["Display"] + ["Direct"] * 20], {"Direct": 1, "Display": 1}),
    ],
)
def test_last_non_direct_never_credits_a_touch_of_another_journey(paths, expected):
    got = credits("last_non_direct", make_journeys(paths, revenue=[1.0] * len(paths)))
    assert {k: v[0] for k, v in got.items() if v[0]} == expected


def test_last_non_direct_by_campaign_looks_at_the_channel_not_the_campaign_code():
    """The direct touch's campaign sorts last: its campaign code is no channel's code."""
    tp = pd.DataFrame(
        {
            "person_id": ["p", "p", "p", "q"],
            "timestamp": pd.to_datetime([T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0]),
            "channel": ["Email", "Paid Search", "Direct", "Email"],
            "campaign": ["Newsletter", "Brand", "Zebra", "Newsletter"],
        }
    )
    cv = pd.DataFrame(
        {"person_id": ["p", "q"], "timestamp": [pd.Timestamp(T0 + timedelta(days=1))] * 2, "revenue": [50.0, 5.0]}
    )
    journeys, _ = build_journeys(tp, conversion_events(tp, cv), dimension="campaign")
    got = credits("last_non_direct", journeys)
    assert {k: v for k, v in got.items() if v[0]} == {"Brand": (1, 50), "Newsletter": (1, 5)}
