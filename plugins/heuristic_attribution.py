"""Rule-based attribution models: first touch, last touch, last non-direct, linear,
time decay and position based (U-shaped).

Every model works on the integer-coded :class:`~roistory.attribution.Journeys`
with whole-array numpy operations (no per-journey Python loop, no path
strings). The ``*_weights`` functions give one weight per touch (summing to 1
within each journey) for anyone who wants the per-touch split; the models
registered below compute the per-segment credit directly, which is the same
number with fewer passes over the touches (first/last only look at one touch
per journey; the others need one weighted ``np.bincount`` per measure).

Definitions (see ``shared/ATTRIBUTION.md``):

- ``first_touch`` / ``last_touch``: all credit to the first / last touch.
- ``last_non_direct``: all credit to the last touch whose *channel* is not in
  ``direct_channels`` (default ``["Direct"]``); a journey of direct touches only
  credits its last touch. For the campaign dimension the touch's channel decides
  what is direct and its campaign gets the credit.
- ``linear``: each touch ``1/n`` (a channel touched m times gets ``m/n``).
- ``time_decay``: ``w_i = 0.5 ** (h_i / H)``, normalised within the journey, with
  ``h_i`` the hours from the touch to the *conversion* and ``H = 24 *
  half_life_days`` (default 7 days). marketing-attribution-models measures
  ``h_i`` to the journey's last touch instead; because the weights are
  normalised within the journey, shifting every ``h_i`` of a journey by the same
  amount cancels out, so both give identical credit.
- ``position_based``: ``weights = [first, middle, last]`` (default 0.4/0.2/0.4):
  one touch gets everything; two touches split ``first:last`` (0.5/0.5 by
  default); from three touches on the first and last get their weight and the
  middle weight is shared equally by the touches in between (mam's fixed rule is
  the default).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from typing import Any

import numpy as np
import pandas as pd

from roistory.api import AttributionModel, Journeys, ModelParamError, hookimpl

# --------------------------------------------------------------------------
# Shared arithmetic
# --------------------------------------------------------------------------


def _values(journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
    """Per journey: the conversions to split and the revenue to split."""
    return journeys.converted, journeys.converted * journeys.revenue


def _frame(journeys: Journeys, conversions: np.ndarray, revenue: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"conversions": conversions, "revenue": revenue},
        index=pd.Index(journeys.labels, name="segment"),
    )


def _credit_one_touch(journeys: Journeys, codes: np.ndarray) -> pd.DataFrame:
    """All of each journey's credit to one touch, whose code per journey is ``codes``."""
    n = len(journeys.labels)
    conv, rev = _values(journeys)
    conversions = np.bincount(codes, None if journeys.all_converted else conv, n).astype(float)
    return _frame(journeys, conversions, np.bincount(codes, rev, n))


PARALLEL_FROM = 2_000_000  # touches from which the per-touch passes are split over threads
_pool: Any = None


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _touch_ranges(journeys: Journeys) -> list[tuple[int, int, int, int]]:
    """(first touch, end touch, first journey, end journey) of one part per worker, cut at journey boundaries."""
    n_touch, n_journeys = len(journeys.codes), len(journeys)
    parts = _workers() if n_touch >= PARALLEL_FROM else 1
    cuts = [0] + [int(np.searchsorted(journeys.offsets, n_touch * k // parts)) for k in range(1, parts)] + [n_journeys]
    cuts = sorted(set(cuts))
    return [
        (int(journeys.offsets[a]), int(journeys.offsets[b]), a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)
    ]


def _in_parallel(work, ranges: list) -> list:
    """Run ``work(*range)`` for every range; numpy's gathers and ufuncs release the GIL, so threads overlap."""
    global _pool
    if len(ranges) == 1:
        return [work(*ranges[0])]
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="roistory-attribution")
    return list(_pool.map(lambda r: work(*r), ranges))


def _spread(
    journeys: Journeys, per_journey: tuple[np.ndarray, np.ndarray], touch_factor: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per segment, the sum over touches of ``touch_factor[t] × per_journey[j(t)]`` (conversions, revenue).

    One gather into a reused buffer and one ``np.bincount`` per measure, split
    over threads on large inputs.
    """
    n = len(journeys.labels)
    journey, codes = journeys.journey_of_touch, journeys.codes_intp

    def work(a: int, b: int, _ja: int, _jb: int) -> list[np.ndarray]:
        buffer = np.empty(b - a)
        out = []
        for values in per_journey:
            np.take(values, journey[a:b], out=buffer, mode="clip")  # "clip": no defensive copy of out
            if touch_factor is not None:
                buffer *= touch_factor[a:b]
            out.append(np.bincount(codes[a:b], buffer, n))
        return out

    parts = _in_parallel(work, _touch_ranges(journeys))
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


# --------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------


def _check_direct_channels(params: dict[str, Any]) -> dict[str, Any]:
    value = params.get("direct_channels")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ModelParamError("direct_channels", f"must be a list of channel names, got {value!r}")
    return {**params, "direct_channels": list(value)}


def _check_half_life(params: dict[str, Any]) -> dict[str, Any]:
    value = params.get("half_life_days")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ModelParamError("half_life_days", f"must be a positive number of days, got {value!r}")
    return {**params, "half_life_days": float(value)}


def _check_position_weights(params: dict[str, Any]) -> dict[str, Any]:
    value = params.get("weights")
    if isinstance(value, dict):
        value = [value.get("first"), value.get("middle"), value.get("last")]
    ok = (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in value)
    )
    if not ok:
        raise ModelParamError("weights", f"must be three non-negative numbers [first, middle, last], got {value!r}")
    first, middle, last = (float(v) for v in value)
    if not math.isclose(first + middle + last, 1.0, abs_tol=1e-9):
        raise ModelParamError("weights", f"must add up to 1 (first + middle + last), got {first + middle + last:g}")
    if first + last == 0:
        raise ModelParamError("weights", "the first and last weights cannot both be 0")
    return {**params, "weights": [first, middle, last]}


# --------------------------------------------------------------------------
# Per-touch weights (public: the same definitions, one weight per touch)
# --------------------------------------------------------------------------


def first_touch(journeys: Journeys, params: dict) -> np.ndarray:
    weights = np.zeros(len(journeys.codes))
    weights[journeys.offsets[:-1]] = 1.0
    return weights


def last_touch(journeys: Journeys, params: dict) -> np.ndarray:
    weights = np.zeros(len(journeys.codes))
    weights[journeys.offsets[1:] - 1] = 1.0
    return weights


def linear(journeys: Journeys, params: dict) -> np.ndarray:
    return np.repeat(1.0 / journeys.lengths, journeys.lengths)


def last_non_direct_touch(journeys: Journeys, direct_channels: list[str]) -> np.ndarray:
    """Index of the credited touch of every journey: the last non-direct one, else the last.

    Steps back from each journey's last touch only where it is direct (a few
    vectorised steps over a shrinking set of journeys); long runs of direct
    touches fall back to a binary search over all non-direct touches.
    """
    channel_codes, channel_labels = journeys.channel_view()
    first, last = journeys.offsets[:-1], journeys.offsets[1:] - 1
    direct = np.zeros(len(channel_labels) + 1, bool)
    index = {label: i for i, label in enumerate(channel_labels)}
    direct[[index[name] for name in direct_channels if name in index]] = True
    if not direct.any() or not len(last):
        return last
    chosen = last.copy()
    last_channel = journeys.last_codes if journeys.channel_codes is None else channel_codes[last]
    stepped = todo = np.flatnonzero(direct[last_channel] & (last > first))
    for _ in range(16):
        if not len(todo):
            break
        chosen[todo] -= 1
        todo = todo[direct[channel_codes[chosen[todo]]] & (chosen[todo] > first[todo])]
    if len(todo):
        non_direct = np.flatnonzero(~direct[channel_codes])
        at = np.searchsorted(non_direct, last[todo], side="right") - 1
        candidate = non_direct[np.maximum(at, 0)] if len(non_direct) else first[todo]
        chosen[todo] = np.where((at >= 0) & (candidate >= first[todo]), candidate, first[todo])
    # journeys of direct touches only: the last touch
    chosen[stepped] = np.where(direct[channel_codes[chosen[stepped]]], last[stepped], chosen[stepped])
    return chosen


def last_non_direct(journeys: Journeys, params: dict) -> np.ndarray:
    weights = np.zeros(len(journeys.codes))
    weights[last_non_direct_touch(journeys, _check_direct_channels({**LND_DEFAULTS, **params})["direct_channels"])] = (
        1.0
    )
    return weights


def _decay(journeys: Journeys, half_life_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Unnormalised weights ``0.5 ** (h / H)`` per touch and their sum per journey."""
    hours = journeys.hours_before
    rate = -1.0 / (24.0 * half_life_days)
    if len(hours) and float(hours.max()) * -rate > 1000:
        # far beyond the half-life: measure from each journey's latest touch so nothing underflows
        latest = hours[journeys.offsets[1:] - 1]  # touches are in time order
        hours = hours - np.repeat(latest, journeys.lengths)
    weights = np.empty(len(hours))
    totals = np.empty(len(journeys))
    journey = journeys.journey_of_touch

    def work(a: int, b: int, ja: int, jb: int) -> None:
        part = weights[a:b]
        np.multiply(hours[a:b], rate, out=part)
        np.exp2(part, out=part)
        totals[ja:jb] = np.bincount(journey[a:b], part, jb)[ja:]

    _in_parallel(work, _touch_ranges(journeys))
    return weights, totals


def time_decay_weights(journeys: Journeys, half_life_days: float) -> np.ndarray:
    """``0.5 ** (h / H)`` normalised within each journey (``h``: hours to the conversion)."""
    weights, totals = _decay(journeys, half_life_days)
    weights /= np.repeat(totals, journeys.lengths)
    return weights


def time_decay(journeys: Journeys, params: dict) -> np.ndarray:
    return time_decay_weights(journeys, _check_half_life({**TD_DEFAULTS, **params})["half_life_days"])


def position_based_weights(journeys: Journeys, weights: list[float]) -> np.ndarray:
    first_w, middle_w, last_w = weights
    lengths = journeys.lengths
    per_middle = np.where(lengths >= 3, middle_w / np.maximum(lengths - 2, 1), 0.0)
    out = np.repeat(per_middle, lengths)
    starts, ends = journeys.offsets[:-1], journeys.offsets[1:] - 1
    end_share = _end_shares(lengths, first_w, last_w)
    out[starts] = end_share[0]
    out[ends] = np.where(lengths == 1, 1.0, end_share[1])
    return out


def position_based(journeys: Journeys, params: dict) -> np.ndarray:
    return position_based_weights(journeys, _check_position_weights({**PB_DEFAULTS, **params})["weights"])


def _end_shares(lengths: np.ndarray, first_w: float, last_w: float) -> tuple[np.ndarray, np.ndarray]:
    """Shares of the first and the last touch by journey length (1 touch: all to it)."""
    pair = first_w + last_w
    first = np.where(lengths == 1, 1.0, np.where(lengths == 2, first_w / pair, first_w))
    last = np.where(lengths == 1, 0.0, np.where(lengths == 2, last_w / pair, last_w))
    return first, last


# --------------------------------------------------------------------------
# The models: credit per segment computed directly
# --------------------------------------------------------------------------

LND_DEFAULTS: dict[str, Any] = {"direct_channels": ["Direct"]}
TD_DEFAULTS: dict[str, Any] = {"half_life_days": 7}
PB_DEFAULTS: dict[str, Any] = {"weights": [0.4, 0.2, 0.4]}


def _first_touch_credit(journeys: Journeys, params: dict) -> pd.DataFrame:
    return _credit_one_touch(journeys, journeys.first_codes)


def _last_touch_credit(journeys: Journeys, params: dict) -> pd.DataFrame:
    return _credit_one_touch(journeys, journeys.last_codes)


def _last_non_direct_credit(journeys: Journeys, params: dict) -> pd.DataFrame:
    direct_channels = params["direct_channels"]
    _, channel_labels = journeys.channel_view()
    if direct_channels != LND_DEFAULTS["direct_channels"]:
        known = set(channel_labels)
        for name in direct_channels:
            if name not in known:
                close = difflib.get_close_matches(name, list(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ModelParamError("direct_channels", f"unknown channel '{name}'{hint}")
    touch = last_non_direct_touch(journeys, direct_channels)
    codes = journeys.last_codes.copy()
    moved = np.flatnonzero(touch != journeys.offsets[1:] - 1)
    codes[moved] = journeys.codes[touch[moved]]
    return _credit_one_touch(journeys, codes)


def _linear_credit(journeys: Journeys, params: dict) -> pd.DataFrame:
    conv, rev = _values(journeys)
    inverse = 1.0 / journeys.lengths
    return _frame(journeys, *_spread(journeys, (conv * inverse, rev * inverse)))


def _time_decay_credit(journeys: Journeys, params: dict) -> pd.DataFrame:
    weights, totals = _decay(journeys, params["half_life_days"])
    conv, rev = _values(journeys)
    return _frame(journeys, *_spread(journeys, (conv / totals, rev / totals), weights))


def _position_based_credit(journeys: Journeys, params: dict) -> pd.DataFrame:
    first_w, middle_w, last_w = params["weights"]
    n = len(journeys.labels)
    lengths = journeys.lengths
    conv, rev = _values(journeys)
    # every touch of a journey of 3+ touches gets middle/(n-2); the first and last touch are then corrected
    per_middle = middle_w / np.maximum(lengths - 2, 1)
    per_middle[lengths < 3] = 0.0
    if middle_w > 0 and per_middle.any():
        conversions, revenue = _spread(journeys, (per_middle * conv, per_middle * rev))
    else:
        conversions, revenue = np.zeros(n), np.zeros(n)
    kind = np.minimum(lengths, 3)  # 1, 2, or 3+ touches
    pair = first_w + last_w
    first_share = np.array([0.0, 1.0, first_w / pair, first_w])[kind] - per_middle
    last_share = np.array([0.0, 0.0, last_w / pair, last_w])[kind] - per_middle
    for at, share in ((journeys.first_codes, first_share), (journeys.last_codes, last_share)):
        conversions += np.bincount(at, share if journeys.all_converted else share * conv, n)
        revenue += np.bincount(at, share * rev, n)
    return _frame(journeys, conversions, revenue)


MODELS = [
    AttributionModel(
        "first_touch",
        "First touch",
        "All credit to the first touch of the journey: rewards the channels that introduce people.",
        _first_touch_credit,
        default=True,
    ),
    AttributionModel(
        "last_touch",
        "Last touch",
        "All credit to the last touch before the conversion: rewards the channels that close.",
        _last_touch_credit,
        default=True,
    ),
    AttributionModel(
        "last_non_direct",
        "Last non-direct touch",
        "All credit to the last touch that was not a direct visit (typing the address or a bookmark): "
        "assumes a direct visit only completes what another channel started.",
        _last_non_direct_credit,
        dict(LND_DEFAULTS),
        _check_direct_channels,
    ),
    AttributionModel(
        "linear",
        "Linear",
        "Equal credit to every touch of the journey: assumes each interaction mattered as much.",
        _linear_credit,
        default=True,
    ),
    AttributionModel(
        "time_decay",
        "Time decay",
        "More credit to touches closer to the conversion; a touch loses half its weight for every "
        "half-life (default 7 days) before the conversion: assumes recent interactions matter more.",
        _time_decay_credit,
        dict(TD_DEFAULTS),
        _check_half_life,
    ),
    AttributionModel(
        "position_based",
        "Position based (U-shaped)",
        "40% to the first touch, 40% to the last, 20% shared by the touches in between: assumes "
        "introducing and closing matter most.",
        _position_based_credit,
        dict(PB_DEFAULTS),
        _check_position_weights,
    ),
]


# the SQL journey engines sum these rules in place (roistory.engines.rules)
MODELS = [dataclasses.replace(model, engine_rule=model.id) for model in MODELS]


@hookimpl
def register_attribution_models(register):
    for model in MODELS:
        register(model)
