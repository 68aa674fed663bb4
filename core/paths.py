"""The path table: journeys aggregated into distinct paths, integer-coded.

A path table has one row per distinct channel sequence with the number of
converting journeys on it (``conversions``), their revenue (``revenue``) and
the number of journeys on it that did not convert (``nulls``) — the table
ChannelAttribution and marketing-attribution-models take as input, but with
paths as integer codes in flat arrays instead of ``'a > b > c'`` strings.

This step is separate from the models on purpose: a distributed backend (a
warehouse query) can produce the same table, and the data-driven models
(:mod:`roistory.plugins.markov_attribution`, :mod:`roistory.plugins.shapley_attribution`)
accept a :class:`PathTable` as well as :class:`~roistory.attribution.Journeys`.

- :func:`path_rows`: one row per journey, no aggregation (free).
- :func:`aggregate_paths`: identical sequences merged (exact; no hashing that could collide).
- :meth:`PathTable.from_frame` / :meth:`PathTable.to_frame`: to and from the string form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from roistory.attribution import Journeys

__all__ = ["PathTable", "aggregate_paths", "path_rows"]


@dataclass(frozen=True)
class PathTable:
    """Paths as flat arrays: the touches of row ``i`` are ``codes[offsets[i]:offsets[i+1]]``."""

    labels: tuple[str, ...]  # channel (segment) label of each code
    offsets: np.ndarray  # int64, one more than the number of rows
    codes: np.ndarray  # int32 per touch
    conversions: np.ndarray  # float64 per row: converting journeys on the path
    revenue: np.ndarray  # float64 per row: their revenue
    nulls: np.ndarray  # float64 per row: non-converting journeys on the path

    def __len__(self) -> int:
        return len(self.conversions)

    @cached_property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @cached_property
    def row_of_touch(self) -> np.ndarray:
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths)

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_revenue(self) -> float:
        return float(self.revenue.sum())

    def paths(self, separator: str = " > ") -> list[str]:
        """The path strings (slow for millions of rows: for export and comparison only)."""
        labels = np.array(self.labels, dtype=object)
        names = labels[self.codes]
        return [separator.join(names[a:b]) for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)]

    def to_frame(self, separator: str = " > ") -> pd.DataFrame:
        """ChannelAttribution's input shape: path, total_conversions, total_conversion_value, total_null."""
        return pd.DataFrame(
            {
                "path": self.paths(separator),
                "total_conversions": self.conversions,
                "total_conversion_value": self.revenue,
                "total_null": self.nulls,
            }
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        path: str = "path",
        conversions: str = "total_conversions",
        revenue: str | None = "total_conversion_value",
        nulls: str | None = "total_null",
        separator: str = ">",
    ) -> PathTable:
        """Read a path table produced elsewhere (a warehouse query, ChannelAttribution's input).

        Channel names are stripped of surrounding blanks; labels are sorted.
        """
        split = frame[path].astype(str).str.split(separator, regex=False)
        lengths = split.str.len().to_numpy(np.int64)
        if (lengths == 0).any():
            raise ValueError("a path has no channel")
        flat = pd.Series(np.concatenate(split.to_numpy()) if len(split) else np.array([], dtype=object)).str.strip()
        codes, uniques = pd.factorize(flat, sort=True)
        n = len(frame)
        return cls(
            labels=tuple(str(u) for u in uniques),
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            codes=codes.astype(np.int32),
            conversions=frame[conversions].to_numpy(float),
            revenue=frame[revenue].to_numpy(float) if revenue and revenue in frame else np.zeros(n),
            nulls=frame[nulls].to_numpy(float) if nulls and nulls in frame else np.zeros(n),
        )


def path_rows(journeys: Journeys) -> PathTable:
    """One path-table row per journey (nothing merged): what the models need, at no cost."""
    converted = journeys.converted
    return PathTable(
        labels=journeys.labels,
        offsets=journeys.offsets,
        codes=journeys.codes,
        conversions=converted,
        revenue=converted * journeys.revenue,
        nulls=1.0 - converted,
    )


def _row_keys(codes: np.ndarray, starts: np.ndarray, length: int, base: int) -> np.ndarray:
    """One exact key per row of equal length: an int64 number in base ``base`` if it fits, else bytes."""
    if length * np.log2(max(base, 2)) < 62:
        key = np.zeros(len(starts), np.int64)
        for i in range(length):
            key *= base
            key += codes[starts + i]
        return key
    matrix = np.ascontiguousarray(codes[starts[:, None] + np.arange(length)], dtype=np.int32)
    return matrix.view(np.dtype((np.void, 4 * length))).ravel()


def aggregate_paths(source: Journeys | PathTable) -> PathTable:
    """Merge identical paths: conversions, revenue and nulls add up.

    Exact: rows are grouped by length, and rows of one length by an exact key
    (the path as a number in base ``len(labels)`` when it fits in 62 bits, else
    its bytes). Rows come out ordered by length, then by first appearance.
    """
    table = path_rows(source) if isinstance(source, Journeys) else source
    lengths = table.lengths
    starts = table.offsets[:-1]
    base = max(len(table.labels), 1)
    group = np.empty(len(table), np.int64)  # the output row of every input row
    firsts: list[np.ndarray] = []
    next_id = 0
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        key = _row_keys(table.codes, starts[rows], int(length), base)
        inverse, uniques = pd.factorize(key) if key.dtype != object and key.dtype.kind != "V" else (None, None)
        if inverse is None:
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            order = np.argsort(first, kind="stable")  # first-appearance order
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            inverse = rank[inverse]
            first = first[order]
        else:
            first = np.full(len(uniques), -1, np.int64)
            first[inverse[::-1]] = np.arange(len(inverse))[::-1]
        group[rows] = inverse + next_id
        firsts.append(rows[first])
        next_id += len(first)
    representative = np.concatenate(firsts) if firsts else np.zeros(0, np.int64)
    out_lengths = lengths[representative]
    offsets = np.concatenate([[0], np.cumsum(out_lengths)]).astype(np.int64)
    touch = np.repeat(starts[representative] - offsets[:-1], out_lengths) + np.arange(offsets[-1])
    return PathTable(
        labels=table.labels,
        offsets=offsets,
        codes=table.codes[touch],
        conversions=np.bincount(group, table.conversions, next_id),
        revenue=np.bincount(group, table.revenue, next_id),
        nulls=np.bincount(group, table.nulls, next_id),
    )
