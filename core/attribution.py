"""Journeys and attribution: who touched what before converting, and who gets the credit.

Journeys are built once per dimension (channel, campaign, ...) as integer-coded
arrays, so models do arithmetic on numbers, never on path strings:

- a conversion closes its person's current journey; the touches strictly before
  it (or the converting row itself, for session-format touchpoints) within
  ``lookback_days`` belong to it;
- a gap longer than ``dormancy_days`` between a person's events starts a new
  journey (re-engagement);
- touches after a person's last conversion form a non-converting journey.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from roistory.errors import ConfigError
from roistory.items import AttributionModel  # noqa: F401 (re-exported)

NO_TOUCHPOINTS = "(no touchpoints)"
NOT_SET = "(not set)"


@dataclass(frozen=True)
class Journeys:
    """Journeys as flat arrays. Touches of journey ``j`` are ``offsets[j]:offsets[j+1]``, in time order."""

    labels: tuple[str, ...]  # segment label of each code
    offsets: np.ndarray  # int64, one more than the number of journeys
    codes: np.ndarray  # int32 per touch
    hours_before: np.ndarray  # float64 per touch: hours until the conversion (or the journey's last touch)
    converted: np.ndarray  # float64 per journey: 1.0 converting, 0.0 not
    revenue: np.ndarray  # float64 per journey
    end: np.ndarray  # datetime64[ns] per journey: conversion time, else last touch
    # When the journeys are coded by another dimension (campaign, ...): each
    # touch's channel, so channel rules (last_non_direct) still apply.
    channel_codes: np.ndarray | None = None  # int32 per touch, into channel_labels
    channel_labels: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return len(self.converted)

    @cached_property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @cached_property
    def journey_of_touch(self) -> np.ndarray:
        """The journey index of every touch (computed once, shared by the models run on these journeys).

        ``np.intp``: numpy's gathers and ``np.bincount`` convert other index types first.
        """
        return np.repeat(np.arange(len(self), dtype=np.intp), self.lengths)

    @cached_property
    def first_codes(self) -> np.ndarray:
        """The code of every journey's first touch (``np.intp``, cached)."""
        return self.codes[self.offsets[:-1]].astype(np.intp)

    @cached_property
    def last_codes(self) -> np.ndarray:
        """The code of every journey's last touch (``np.intp``, cached)."""
        return self.codes[self.offsets[1:] - 1].astype(np.intp)

    @cached_property
    def codes_intp(self) -> np.ndarray:
        """``codes`` as ``np.intp``, for the per-touch ``np.bincount`` calls of the models (cached)."""
        return self.codes.astype(np.intp, copy=False)

    @property
    def all_converted(self) -> bool:
        return bool(len(self)) and bool(self.converted.min() == 1.0)

    def channel_view(self) -> tuple[np.ndarray, tuple[str, ...]]:
        """Each touch's channel code and the channel labels (the journeys' own codes for the channel dimension)."""
        if self.channel_codes is not None and self.channel_labels is not None:
            return self.channel_codes, self.channel_labels
        return self.codes, self.labels

    def subset(self, mask: np.ndarray) -> Journeys:
        """The journeys where ``mask`` is true (touch arrays follow)."""
        lengths = self.lengths[mask]
        touch_mask = np.repeat(mask, self.lengths)
        return Journeys(
            self.labels,
            np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            self.codes[touch_mask],
            self.hours_before[touch_mask],
            self.converted[mask],
            self.revenue[mask],
            self.end[mask],
            None if self.channel_codes is None else self.channel_codes[touch_mask],
            self.channel_labels,
        )

    def ending_between(self, start: pd.Timestamp, end: pd.Timestamp) -> Journeys:
        """Journeys that converted (or, non-converting, ended) in [start, end)."""
        ends = self.end.astype("datetime64[ns]")
        return self.subset((ends >= start.to_datetime64()) & (ends < end.to_datetime64()))


@dataclass
class JourneyStats:
    """What journey building had to leave out, for the data-quality section."""

    conversions: int = 0
    unattributed: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"timestamp": [], "revenue": []})
    )  # conversions with no touch in their journey
    touches_beyond_lookback: int = 0
    reengaged_journeys: int = 0


def conversion_events(touchpoints: pd.DataFrame, conversions: pd.DataFrame | None) -> pd.DataFrame:
    """Conversions as (person_id, timestamp, revenue, same_row): from the table, or session rows."""
    if conversions is not None:
        revenue = conversions["revenue"] if "revenue" in conversions else 0.0
        return pd.DataFrame(
            {
                "person_id": conversions["person_id"].to_numpy(),
                "timestamp": conversions["timestamp"].to_numpy(),
                "revenue": pd.Series(revenue, index=conversions.index).fillna(0.0).to_numpy(),
                "same_row": False,
            }
        )
    if "conversion" in touchpoints:
        rows = touchpoints[touchpoints["conversion"] == 1]
        revenue = rows["revenue"].fillna(0.0) if "revenue" in rows else 0.0
        return pd.DataFrame(
            {
                "person_id": rows["person_id"].to_numpy(),
                "timestamp": rows["timestamp"].to_numpy(),
                "revenue": pd.Series(revenue, index=rows.index).to_numpy(dtype=float),
                "same_row": True,
            }
        )
    return pd.DataFrame({"person_id": [], "timestamp": [], "revenue": [], "same_row": []})


def _arrow_strings(values: pd.Series):
    """The pyarrow ChunkedArray behind an Arrow-backed string column, else None."""
    dtype = values.dtype
    arrow_backed = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype) and str(dtype.pyarrow_dtype) in ("string", "large_string")
    )
    if not arrow_backed:
        return None
    import pyarrow as pa

    array = values.array.__arrow_array__()
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _full_dictionary(encoded):
    """The dictionary of a dictionary-encoded ChunkedArray: every chunk's is a snapshot of one
    growing memo table, so the longest holds every value and all chunks' codes index it."""
    return max((chunk.dictionary for chunk in encoded.chunks), key=len)


def _factorize(values: pd.Series, *, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize`` (codes, -1 for missing; uniques), through pyarrow for Arrow-backed strings.

    pyarrow's dictionary encoding takes about half the time and memory of
    pandas' on 10M strings (and the memory goes back to the system after).
    """
    array = _arrow_strings(values)
    if array is None or len(array) == 0:
        codes, uniques = pd.factorize(values, sort=sort)
        return codes, pd.Index(uniques)
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(array)
    dictionary = _full_dictionary(encoded)
    codes = np.concatenate(
        [pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False) for chunk in encoded.chunks]
    ).astype(np.int64)
    uniques = pd.Index(
        dictionary.to_pylist() if len(dictionary) < 1_000_000 else dictionary.to_numpy(zero_copy_only=False)
    )
    del encoded, dictionary
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if sort and len(uniques):
        order = np.argsort(uniques.to_numpy(dtype=object).astype(str), kind="stable")
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
        uniques = uniques[order]
    return codes, uniques


def _segment_codes(touchpoints: pd.DataFrame, column: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes (int32) and sorted labels of a dimension column; missing values are NOT_SET."""
    if column not in touchpoints:
        return np.zeros(len(touchpoints), np.int32), (NOT_SET,)
    codes, uniques = _factorize(touchpoints[column], sort=True)
    labels = [str(label) for label in uniques]
    if (codes < 0).any():
        # missing values: '(not set)' takes its sorted place among the labels
        at = int(np.searchsorted(np.array(labels, dtype=object), NOT_SET)) if labels else 0
        if at < len(labels) and labels[at] == NOT_SET:
            codes = np.where(codes < 0, at, codes)
        else:
            labels.insert(at, NOT_SET)
            codes = np.where(codes < 0, at, codes + (codes >= at))
    return codes.astype(np.int32, copy=False), tuple(labels)


def _event_order(person: np.ndarray, timestamps: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """The permutation sorting events by (person, timestamp, kind), ties kept in input order.

    One int64 key and an unstable sort when the key fits (the usual case: the
    timestamps' common unit is found so that the span fits), else np.lexsort.
    """
    n = len(person)
    if n == 0:
        return np.zeros(0, np.int64)
    low = int(timestamps.min())
    if low == np.iinfo(np.int64).min:  # NaT: keep numpy's ordering of it
        return np.lexsort((kind, timestamps, person))
    relative = timestamps - low
    for unit in (10**9, 10**6, 10**3, 1):
        if unit == 1 or not (relative % unit).any():
            break
    if unit > 1:
        relative //= unit
    span = int(relative.max()) + 1
    people = int(person.max()) + 1
    if people * span * 3 >= 2**62:
        # sub-second timestamps over a long span: their dense rank keeps the order and fits
        by_time = np.argsort(relative)
        ordered = relative[by_time]
        step = np.ones(n, np.int64)
        step[0] = 0
        np.not_equal(ordered[1:], ordered[:-1], out=step[1:], casting="unsafe")
        relative[by_time] = np.cumsum(step)
        del by_time, ordered, step
        span = int(relative.max()) + 1
        if people * span * 3 >= 2**62:
            return np.lexsort((kind, timestamps, person))
    key = person.astype(np.int64)
    key *= span
    key += relative
    del relative
    key *= 3
    key += kind
    order = np.argsort(key)
    key = key[order]
    tie = key[1:] == key[:-1]
    if tie.any():
        # equal keys: restore input order within each run of ties (stability)
        mark = np.zeros(n, bool)
        mark[1:] |= tie
        mark[:-1] |= tie
        at = np.flatnonzero(mark)
        order[at] = order[at][np.lexsort((order[at], key[at]))]
    return order


def _person_codes(touch_people: pd.Series, conversion_people: pd.Series) -> np.ndarray:
    """One integer per person across both tables (touchpoints factorised once, conversions looked up)."""
    array = _arrow_strings(touch_people)
    if array is not None and len(array):  # (an empty array encodes to no chunk at all)
        import pyarrow as pa
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(array)
        dictionary = _full_dictionary(encoded)
        codes = np.concatenate([pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in encoded.chunks])
        del encoded
        converted = _arrow_strings(conversion_people)
        if converted is None:
            converted = pa.array(conversion_people.astype(object).to_numpy(), type=pa.string())
        looked_up = pc.index_in(converted, value_set=dictionary)
        conversion_codes = pc.fill_null(looked_up, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        n_people = len(dictionary)
        del dictionary, looked_up
        pa.default_memory_pool().release_unused()  # the hash table's memory back to the system
    else:
        codes, uniques = pd.factorize(touch_people)
        conversion_codes = pd.Index(uniques).get_indexer(pd.Index(conversion_people.to_numpy()))
        n_people = len(uniques)
    unknown = conversion_codes < 0
    if unknown.any():  # people who converted without any touchpoint
        extra, _ = pd.factorize(pd.Series(conversion_people.to_numpy()[unknown]))
        conversion_codes[unknown] = np.where(extra < 0, -1, extra + n_people)
    dtype = np.int32 if n_people + len(conversion_codes) < 2**31 else np.int64
    return np.concatenate([codes.astype(dtype, copy=False), conversion_codes.astype(dtype, copy=False)])


def build_journeys(
    touchpoints: pd.DataFrame,
    conversions: pd.DataFrame,
    *,
    dimension: str = "channel",
    lookback_days: int = 90,
    dormancy_days: int = 180,
) -> tuple[Journeys, JourneyStats]:
    """Cut each person's touches into journeys (see the module docstring).

    Works on integer codes throughout: persons and segments are factorised
    once, events are sorted with one int64 key, and the journey arrays are
    cut with cumulative sums, so 10M touchpoints take a few seconds and a
    few hundred MiB beyond the input.
    """
    codes, labels = _segment_codes(touchpoints, dimension)
    channel_codes = channel_labels = None
    if dimension != "channel" and "channel" in touchpoints:
        channel_codes, channel_labels = _segment_codes(touchpoints, "channel")
    n_touch, n_conv = len(touchpoints), len(conversions)
    person = _person_codes(touchpoints["person_id"], conversions["person_id"])
    timestamps = np.concatenate(
        [
            touchpoints["timestamp"].to_numpy("datetime64[ns]").view(np.int64),
            conversions["timestamp"].to_numpy("datetime64[ns]").view(np.int64),
        ]
    )
    # At equal timestamps a conversion from the conversions table sorts before
    # the touch (touches must be strictly earlier), a session-format conversion
    # after its own row's touch.
    kind = np.ones(n_touch + n_conv, np.int8)
    kind[n_touch:] = np.where(conversions["same_row"].to_numpy(bool), 2, 0)
    sort = _event_order(person, timestamps, kind)
    del kind
    person = person[sort]
    timestamps = timestamps[sort]
    is_conv = sort >= n_touch

    n = len(sort)
    boundary = np.ones(n, bool)  # an event that starts a journey
    np.not_equal(person[1:], person[:-1], out=boundary[1:])
    del person
    dormant = np.zeros(n, bool)
    dormant[1:] = (timestamps[1:] - timestamps[:-1]) > dormancy_days * 86_400 * 10**9
    dormant &= ~boundary
    dormant[1:] &= ~is_conv[:-1]
    boundary[1:] |= is_conv[:-1]
    boundary |= dormant
    journey = np.cumsum(boundary, dtype=np.int64)
    journey -= 1
    del boundary
    n_journeys = int(journey[-1]) + 1 if n else 0

    # A journey converts when its last event is a conversion.
    last_event = np.full(n_journeys, -1, np.int64)
    last_event[journey] = np.arange(n)  # later events overwrite earlier ones
    converts = is_conv[last_event] if n else np.zeros(0, bool)
    end_ts = timestamps[last_event] if n else np.zeros(0, np.int64)
    conv_revenue = conversions["revenue"].to_numpy(float)
    journey_revenue = np.zeros(n_journeys)
    if n_conv:
        journey_revenue[converts] = conv_revenue[sort[last_event[converts]] - n_touch]

    touch = ~is_conv
    del is_conv
    in_lookback = timestamps >= (end_ts - lookback_days * 86_400 * 10**9)[journey]
    in_lookback |= ~converts[journey]
    kept = touch & in_lookback
    touch_count = np.bincount(journey[kept], minlength=n_journeys)

    stats = JourneyStats(
        conversions=int(n_conv),
        touches_beyond_lookback=int((touch & ~in_lookback).sum()),
        reengaged_journeys=int((dormant & touch).sum()),
    )
    del touch, in_lookback, dormant
    orphan = converts & (touch_count == 0)
    stats.unattributed = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(end_ts[orphan]),
            "revenue": journey_revenue[orphan],
        }
    )

    kept_at = np.flatnonzero(kept)
    del kept
    kept_journey = journey[kept_at]
    del journey
    keep_journey = np.flatnonzero(touch_count > 0)
    # The last touch of a non-converting journey is its end.
    last_touch = np.full(n_journeys, -1, np.int64)
    last_touch[kept_journey] = kept_at
    end_of = np.where(converts, end_ts, timestamps[np.maximum(last_touch, 0)])
    del last_touch
    hours_before = (end_of[kept_journey] - timestamps[kept_at]) / 3.6e12
    del kept_journey, timestamps
    origin = sort[kept_at]  # row of touchpoints of each kept touch
    del sort, kept_at
    counts = touch_count[keep_journey]
    return (
        Journeys(
            labels=labels,
            offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            codes=codes[origin],
            hours_before=hours_before,
            converted=converts[keep_journey].astype(float),
            revenue=journey_revenue[keep_journey],
            end=end_of[keep_journey].astype("datetime64[ns]"),
            channel_codes=None if channel_codes is None else channel_codes[origin],
            channel_labels=channel_labels,
        ),
        stats,
    )


class AttributionError(ValueError):
    """A model broke the conservation rule or returned the wrong shape."""


class ModelParamError(ValueError):
    """A model parameter (``attribution.params.<model>.<param>``) is invalid."""

    def __init__(self, param: str, message: str):
        self.param = param
        super().__init__(message)


def resolve_params(model: AttributionModel, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The model's defaults overridden by ``params``, checked by the model.

    Raises :class:`roistory.errors.ConfigError` keyed ``attribution.params.<model>[.<param>]``
    for an unknown parameter name (when the model declares its defaults) or a
    value the model's ``validate`` rejects.
    """
    params = dict(params or {})
    if model.defaults:
        for name in params:
            if name not in model.defaults:
                close = difflib.get_close_matches(name, list(model.defaults), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f"; known: {', '.join(model.defaults)}"
                raise ConfigError(f"unknown parameter '{name}'{hint}", key=f"attribution.params.{model.id}.{name}")
    merged = {**model.defaults, **params}
    if model.validate is not None:
        try:
            merged = model.validate(merged)
        except ModelParamError as exc:
            raise ConfigError(str(exc), key=f"attribution.params.{model.id}.{exc.param}") from None
    return merged


def credit_from_weights(journeys: Journeys, weights: np.ndarray) -> pd.DataFrame:
    """Turn per-touch weights into conversions and revenue per segment."""
    journey = journeys.journey_of_touch
    codes = journeys.codes_intp
    n = len(journeys.labels)
    if journeys.all_converted:
        conversions = np.bincount(codes, weights, n)
    else:
        conversions = np.bincount(codes, weights * journeys.converted[journey], n)
    revenue = np.bincount(codes, weights * (journeys.converted * journeys.revenue)[journey], n)
    return pd.DataFrame(
        {"conversions": conversions, "revenue": revenue}, index=pd.Index(journeys.labels, name="segment")
    )


def with_orphans(credits: pd.DataFrame, orphans: pd.DataFrame) -> pd.DataFrame:
    """Conversions no touchpoint reached become the ``NO_TOUCHPOINTS`` segment, so segment
    conversions and revenue add up to the totals (one rule for every engine and command)."""
    if not len(orphans):
        return credits
    extra = pd.DataFrame(
        {"conversions": [float(len(orphans))], "revenue": [float(orphans["revenue"].sum())]},
        index=pd.Index([NO_TOUCHPOINTS], name="segment"),
    )
    return pd.concat([credits, extra])


def run_model(model: AttributionModel, journeys: Journeys, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run a model and check it conserves conversions and revenue.

    ``journeys`` may include non-converting journeys: rule-based models give
    them no credit, data-driven models (markov, shapley) learn from them.
    Bad parameters raise :class:`roistory.errors.ConfigError` naming the key.
    """
    resolved = resolve_params(model, params)
    try:
        result = model.attribute(journeys, resolved)
    except ModelParamError as exc:
        raise ConfigError(str(exc), key=f"attribution.params.{model.id}.{exc.param}") from None
    if isinstance(result, np.ndarray):
        if result.shape != journeys.codes.shape:
            raise AttributionError(
                f"model '{model.id}' returned {result.shape} weights for {journeys.codes.shape} touches"
            )
        result = credit_from_weights(journeys, result.astype(float))
    expected_conversions = float(journeys.converted.sum())
    expected_revenue = float((journeys.converted * journeys.revenue).sum())
    for column, expected in (("conversions", expected_conversions), ("revenue", expected_revenue)):
        total = float(result[column].sum())
        if not np.isclose(total, expected, rtol=1e-9, atol=1e-6):
            raise AttributionError(f"model '{model.id}' credits {total} {column}, journeys have {expected}")
    return result
