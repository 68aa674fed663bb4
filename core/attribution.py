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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

NO_TOUCHPOINTS = "(no touchpoints)"
NOT_SET = "(not set)"


@dataclass(frozen=True)
class AttributionModel:
    """An attribution model.

    ``attribute(journeys, params)`` returns per-touch weights (an array as long
    as ``journeys.codes``, summing to 1 within each converting journey) or a
    DataFrame indexed by segment label with ``conversions`` and ``revenue``.
    ``params`` holds ``defaults`` overridden by the report's ``attribution.params``.
    """

    id: str
    label: str
    description: str
    attribute: Callable[[Journeys, dict[str, Any]], np.ndarray | pd.DataFrame]
    defaults: dict[str, Any] = field(default_factory=dict)


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

    def __len__(self) -> int:
        return len(self.converted)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def journey_of_touch(self) -> np.ndarray:
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths)

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


def conversion_events(
    touchpoints: pd.DataFrame, conversions: pd.DataFrame | None
) -> pd.DataFrame:
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


def build_journeys(
    touchpoints: pd.DataFrame,
    conversions: pd.DataFrame,
    *,
    dimension: str = "channel",
    lookback_days: int = 90,
    dormancy_days: int = 180,
) -> tuple[Journeys, JourneyStats]:
    """Cut each person's touches into journeys (see the module docstring)."""
    labels_raw = (
        touchpoints[dimension].fillna(NOT_SET)
        if dimension in touchpoints
        else pd.Series(NOT_SET, index=touchpoints.index)
    )
    codes, labels = pd.factorize(labels_raw, sort=True)
    people = pd.concat([touchpoints["person_id"], conversions["person_id"]], ignore_index=True)
    person_codes, _ = pd.factorize(people)
    n_touch = len(touchpoints)

    # One event list: touches and conversions. At equal timestamps a conversion
    # from the conversions table sorts before the touch (touches must be strictly
    # earlier), a session-format conversion after its own row's touch.
    order = np.concatenate(
        [np.ones(n_touch, np.int8), np.where(conversions["same_row"].to_numpy(bool), 2, 0).astype(np.int8)]
    )
    timestamps = np.concatenate(
        [
            touchpoints["timestamp"].to_numpy("datetime64[ns]").astype(np.int64),
            conversions["timestamp"].to_numpy("datetime64[ns]").astype(np.int64),
        ]
    )
    is_conv = np.concatenate([np.zeros(n_touch, bool), np.ones(len(conversions), bool)])
    event_code = np.concatenate([codes.astype(np.int32), np.full(len(conversions), -1, np.int32)])
    event_revenue = np.concatenate([np.zeros(n_touch), conversions["revenue"].to_numpy(float)])
    sort = np.lexsort((order, timestamps, person_codes))
    person_codes, timestamps, is_conv = person_codes[sort], timestamps[sort], is_conv[sort]
    event_code, event_revenue = event_code[sort], event_revenue[sort]

    n = len(sort)
    new_person = np.ones(n, bool)
    new_person[1:] = person_codes[1:] != person_codes[:-1]
    after_conversion = np.zeros(n, bool)
    after_conversion[1:] = is_conv[:-1]
    gap = np.zeros(n, np.int64)
    gap[1:] = timestamps[1:] - timestamps[:-1]
    dormant = ~new_person & ~after_conversion & (gap > dormancy_days * 86_400 * 10**9)
    journey = np.cumsum(new_person | after_conversion | dormant) - 1
    n_journeys = int(journey[-1]) + 1 if n else 0

    # A journey converts when its last event is a conversion.
    last_event = np.full(n_journeys, -1, np.int64)
    last_event[journey] = np.arange(n)  # later events overwrite earlier ones
    converts = is_conv[last_event] if n else np.zeros(0, bool)
    end_ts = timestamps[last_event] if n else np.zeros(0, np.int64)

    touch = ~is_conv
    in_lookback = ~converts[journey] | (timestamps >= end_ts[journey] - lookback_days * 86_400 * 10**9)
    kept = touch & in_lookback
    touch_count = np.bincount(journey[kept], minlength=n_journeys)

    stats = JourneyStats(
        conversions=int(is_conv.sum()),
        touches_beyond_lookback=int((touch & ~in_lookback).sum()),
        reengaged_journeys=int((dormant & touch).sum()),
    )
    orphan = converts & (touch_count == 0)
    stats.unattributed = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(end_ts[orphan]),
            "revenue": event_revenue[last_event[orphan]],
        }
    )

    has_touches = touch_count > 0
    keep_journey = np.flatnonzero(has_touches)
    renumber = np.full(n_journeys, -1, np.int64)
    renumber[keep_journey] = np.arange(len(keep_journey))
    kept_journey = journey[kept]
    # The last touch of a non-converting journey is its end.
    last_touch = np.full(n_journeys, -1, np.int64)
    last_touch[kept_journey] = np.flatnonzero(kept)
    end_of = np.where(converts, end_ts, timestamps[np.maximum(last_touch, 0)])
    counts = touch_count[keep_journey]
    return (
        Journeys(
            labels=tuple(str(label) for label in labels),
            offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            codes=event_code[kept],
            hours_before=(end_of[kept_journey] - timestamps[kept]) / 3.6e12,
            converted=converts[keep_journey].astype(float),
            revenue=np.where(converts, event_revenue[last_event], 0.0)[keep_journey],
            end=end_of[keep_journey].astype("datetime64[ns]"),
        ),
        stats,
    )


class AttributionError(ValueError):
    """A model broke the conservation rule or returned the wrong shape."""


def credit_from_weights(journeys: Journeys, weights: np.ndarray) -> pd.DataFrame:
    """Turn per-touch weights into conversions and revenue per segment."""
    journey = journeys.journey_of_touch
    conversions = np.bincount(journeys.codes, weights * journeys.converted[journey], len(journeys.labels))
    revenue = np.bincount(journeys.codes, weights * journeys.revenue[journey], len(journeys.labels))
    return pd.DataFrame(
        {"conversions": conversions, "revenue": revenue}, index=pd.Index(journeys.labels, name="segment")
    )


def run_model(model: AttributionModel, journeys: Journeys, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run a model and check it conserves conversions and revenue."""
    result = model.attribute(journeys, {**model.defaults, **(params or {})})
    if isinstance(result, np.ndarray):
        if result.shape != journeys.codes.shape:
            raise AttributionError(f"model '{model.id}' returned {result.shape} weights for {journeys.codes.shape} touches")
        result = credit_from_weights(journeys, result.astype(float))
    expected_conversions = float(journeys.converted.sum())
    expected_revenue = float((journeys.converted * journeys.revenue).sum())
    for column, expected in (("conversions", expected_conversions), ("revenue", expected_revenue)):
        total = float(result[column].sum())
        if not np.isclose(total, expected, rtol=1e-9, atol=1e-6):
            raise AttributionError(f"model '{model.id}' credits {total} {column}, journeys have {expected}")
    return result
