"""Shapley-value attribution over observed channel sets (marketing-attribution-models' definition).

**Players and coalitions.** A journey's coalition is the *set* of channels it
touched (order and repeats ignored). For every observed coalition ``S``:
``conversions(S)``, ``total(S)`` (journeys, converting or not), ``value(S)``
(revenue) and ``conv_rate(S) = conversions(S) / total(S)``; only coalitions
with conversions are kept.

**Characteristic function** (mam's, documented here because it is a choice):
``v(T) = conv_rate(T)`` when ``T`` is exactly a kept coalition, else ``0`` —
no summing over subsets, and ``v(∅) = 0``. So a channel set that was never
observed converting is worth nothing, and a channel's marginal contribution to
``S`` is measured only against the sub-journeys people really took.

**Credit.** ``φ_i(S)`` is the standard Shapley value of player ``i`` in the game
restricted to the players of ``S``. Coalition ``S`` gives channel ``i``
``φ_i(S) / Σ_j φ_j(S)`` of its conversions and of its revenue (mam scales by
``total(S)`` on both sides, which cancels). ``Σ_j φ_j(S) = v(S) > 0``, so each
coalition's conversions and revenue are split exactly; a channel's share can be
negative (it lowered the conversion rate of the sets it joined).

**Cost.** mam enumerates the ``2^|S|`` subsets of every coalition. Here:

- coalitions with up to ``max_exact_size`` channels (default 15): the same
  enumeration, vectorised — all coalitions of one size at once, subsets looked
  up with a binary search over the kept coalitions' bit masks;
- larger coalitions: still exact, by scanning the kept coalitions for subsets
  of ``S`` (only observed subsets have ``v ≠ 0``), which costs the number of kept
  coalitions instead of ``2^|S|`` — as long as there are at most
  ``max_scan_coalitions`` kept coalitions (default 50,000);
- beyond that, an approximation: ``samples`` random orders of ``S``'s channels
  (seeded by ``seed``), each channel's marginal contribution averaged. It is
  unbiased, and still splits each coalition's conversions exactly (every
  order's contributions add up to ``v(S)``).

Channels are bits of uint64 words, so any number of channels (campaigns) works.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from roistory.api import AttributionModel, Journeys, ModelParamError, PathTable, hookimpl, path_rows

DEFAULTS: dict[str, Any] = {"max_exact_size": 15, "max_scan_coalitions": 50_000, "samples": 1000, "seed": 0}


PARAM_RANGES = (
    ("max_exact_size", 1, 20),
    ("max_scan_coalitions", 0, 10_000_000),
    ("samples", 1, 1_000_000),
    ("seed", 0, 2**32 - 1),
)


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    # upper bounds keep memory and time finite: `samples` orders each allocate samples × channels
    for name, low, high in PARAM_RANGES:
        value = params.get(name)
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low or (high and value > high):
            bound = f"from {low} to {high}" if high else f"of at least {low}"
            raise ModelParamError(name, f"must be a whole number {bound}, got {value!r}")
        out[name] = int(value)
    return out


# --------------------------------------------------------------------------
# Coalitions as bit masks
# --------------------------------------------------------------------------


def _popcount(masks: np.ndarray) -> np.ndarray:
    """Set bits per row of a (n, words) uint64 array."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(masks).sum(axis=1).astype(np.int64)
    as_bytes = masks.view(np.uint8).reshape(len(masks), -1)  # pragma: no cover - numpy < 2
    return np.unpackbits(as_bytes, axis=1).sum(axis=1).astype(np.int64)


def _keys(masks: np.ndarray) -> np.ndarray:
    """One sortable scalar per row of masks: the word itself, or the row's bytes."""
    if masks.shape[1] == 1:
        return masks[:, 0]
    return np.ascontiguousarray(masks).view(np.dtype((np.void, 8 * masks.shape[1]))).ravel()


def coalitions(table: PathTable) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct channel sets: (masks ``k × words``, conversions, total journeys, value)."""
    n_codes = max(len(table.labels), 1)
    words = (n_codes + 63) // 64
    rows = np.flatnonzero(table.lengths > 0)
    starts = table.offsets[:-1][rows]
    masks = np.zeros((len(rows), words), np.uint64)
    if len(rows) and words == 1:
        bit = table.codes.astype(np.uint64)
        np.left_shift(np.uint64(1), bit, out=bit)
        masks[:, 0] = np.bitwise_or.reduceat(bit, starts)
        del bit
    elif len(rows):
        codes = table.codes.astype(np.int64)
        word = codes >> 6
        bit = np.left_shift(np.uint64(1), (codes & 63).astype(np.uint64))
        for w in range(words):
            masks[:, w] = np.bitwise_or.reduceat(np.where(word == w, bit, np.uint64(0)), starts)
    keys = _keys(masks)
    if keys.dtype.kind == "V":
        _, first, group = np.unique(keys, return_index=True, return_inverse=True)
    else:
        group, uniques = pd.factorize(keys)
        first = np.full(len(uniques), -1, np.int64)
        first[group[::-1]] = np.arange(len(group))[::-1]
    k = len(first)
    conversions = np.bincount(group, table.conversions[rows], k)
    total = np.bincount(group, table.conversions[rows] + table.nulls[rows], k)
    value = np.bincount(group, table.revenue[rows], k)
    return masks[first], conversions, total, value


def _members(masks: np.ndarray, size: int) -> np.ndarray:
    """The channel codes of each mask (rows of ``size`` sorted codes)."""
    words = masks.shape[1]
    bits = np.unpackbits(masks.view(np.uint8).reshape(len(masks), words * 8), axis=1, bitorder="little")
    rows, codes = np.nonzero(bits)
    return codes.reshape(len(masks), size)


@lru_cache(maxsize=32)
def _shapley_matrix(size: int) -> np.ndarray:
    """``W[m, i]``: the weight of ``v(subset m)`` in ``φ_i``, for every local subset mask m of ``size`` players."""
    subsets = np.arange(1 << size)
    t = (
        np.bitwise_count(subsets.astype(np.uint64)).astype(np.int64)
        if hasattr(np, "bitwise_count")
        else np.array([bin(m).count("1") for m in subsets])
    )
    fact = [math.factorial(i) for i in range(size + 1)]
    member = (subsets[:, None] >> np.arange(size)) & 1
    plus = np.array([fact[x - 1] * fact[size - x] / fact[size] if x >= 1 else 0.0 for x in range(size + 1)])
    minus = np.array([fact[x] * fact[size - x - 1] / fact[size] if x < size else 0.0 for x in range(size + 1)])
    return np.where(member == 1, plus[t][:, None], -minus[t][:, None])


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    at = np.searchsorted(sorted_keys, query)
    at = np.minimum(at, len(sorted_keys) - 1)
    return np.where(sorted_keys[at] == query, values[at], 0.0)


# --------------------------------------------------------------------------
# φ per coalition: enumeration, scan, sampling
# --------------------------------------------------------------------------


def _phi_enumerate(masks: np.ndarray, size: int, sorted_keys, values) -> np.ndarray:
    """Exact φ for coalitions of one size: every subset looked up (mam's method, vectorised)."""
    members = _members(masks, size)
    words = masks.shape[1]
    weight = _shapley_matrix(size)
    out = np.zeros((len(masks), size))
    chunk = max(1, 2_000_000 // (1 << size))
    for at in range(0, len(masks), chunk):
        part = members[at : at + chunk]
        subset = np.zeros((len(part), 1, words), np.uint64)
        for i in range(size):
            add = np.zeros((len(part), 1, words), np.uint64)
            code = part[:, i]
            add[np.arange(len(part)), 0, code >> 6] = np.left_shift(np.uint64(1), (code & 63).astype(np.uint64))
            subset = np.concatenate([subset, subset | add], axis=1)
        flat = subset.reshape(-1, words)
        v = _lookup(sorted_keys, values, _keys(flat)).reshape(len(part), 1 << size)
        out[at : at + chunk] = v @ weight
    return out


def _phi_scan(mask: np.ndarray, size: int, kept_masks, kept_sizes, kept_values) -> np.ndarray:
    """Exact φ for one large coalition: only its observed subsets have v ≠ 0."""
    inside = ~((kept_masks & ~mask[None, :]) != 0).any(axis=1)
    sub_masks, t, v = kept_masks[inside], kept_sizes[inside], kept_values[inside]
    s = size
    log_fact = np.array([math.lgamma(i + 1) for i in range(s + 1)])
    plus = np.exp(log_fact[t - 1] + log_fact[s - t] - log_fact[s]) * v
    minus = np.where(t < s, np.exp(log_fact[t] + log_fact[np.maximum(s - t - 1, 0)] - log_fact[s]), 0.0) * v
    members = _members(mask[None, :], size)[0]
    member_of = ((sub_masks[:, members >> 6] >> (members & 63).astype(np.uint64)) & np.uint64(1)).astype(float)
    # φ_i = Σ_{T ∋ i} plus_T − Σ_{T ∌ i} minus_T
    return (plus + minus) @ member_of - minus.sum()


def _phi_sample(mask: np.ndarray, size: int, sorted_keys, values, samples: int, rng) -> np.ndarray:
    """Monte Carlo φ for one large coalition: marginal contributions over random orders."""
    members = _members(mask[None, :], size)[0]
    words = len(mask)
    orders = np.argsort(rng.random((samples, size)), axis=1)
    chosen = members[orders]  # samples × size channel codes, in arrival order
    prefix = np.zeros((samples, size, words), np.uint64)
    bits = np.left_shift(np.uint64(1), (chosen & 63).astype(np.uint64))
    for w in range(words):
        prefix[:, :, w] = np.bitwise_or.accumulate(np.where((chosen >> 6) == w, bits, np.uint64(0)), axis=1)
    v = _lookup(sorted_keys, values, _keys(prefix.reshape(-1, words))).reshape(samples, size)
    marginal = np.diff(v, axis=1, prepend=0.0)
    phi = np.zeros(size)
    position = np.searchsorted(members, chosen)
    np.add.at(phi, position.ravel(), marginal.ravel())
    return phi / samples


def shapley_credit(table: PathTable, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Conversions and revenue per channel (see the module docstring)."""
    params = check_params({**DEFAULTS, **(params or {})})
    n_labels = len(table.labels)
    conversions = np.zeros(n_labels)
    revenue = np.zeros(n_labels)
    masks, conv, total, value = coalitions(table)
    kept = conv > 0
    masks, conv, total, value = masks[kept], conv[kept], total[kept], value[kept]
    rate = conv / total
    keys = _keys(masks)
    order = np.argsort(keys)
    sorted_keys, sorted_rate = keys[order], rate[order]
    sizes = _popcount(masks)
    rng = np.random.default_rng(params["seed"])

    def credit(rows: np.ndarray, size: int, phi: np.ndarray) -> None:
        members = _members(masks[rows], size)
        share = phi / phi.sum(axis=1, keepdims=True)
        np.add.at(conversions, members.ravel(), (share * conv[rows, None]).ravel())
        np.add.at(revenue, members.ravel(), (share * value[rows, None]).ravel())

    for size in np.unique(sizes):
        size = int(size)
        rows = np.flatnonzero(sizes == size)
        if size <= params["max_exact_size"]:
            credit(rows, size, _phi_enumerate(masks[rows], size, sorted_keys, sorted_rate))
        elif len(masks) <= params["max_scan_coalitions"]:
            phi = np.stack([_phi_scan(masks[r], size, masks, sizes, rate) for r in rows])
            credit(rows, size, phi)
        else:
            phi = np.stack(
                [_phi_sample(masks[r], size, sorted_keys, sorted_rate, params["samples"], rng) for r in rows]
            )
            credit(rows, size, phi)
    return pd.DataFrame({"conversions": conversions, "revenue": revenue}, index=pd.Index(table.labels, name="segment"))


def _shapley(journeys: Journeys, params: dict) -> pd.DataFrame:
    return shapley_credit(path_rows(journeys), params)


MODELS = [
    AttributionModel(
        "shapley",
        "Shapley value",
        "Treats the channels of a journey as a team and gives each its average contribution to the "
        "conversion rate over every order in which the team could have been assembled, using only channel "
        "sets people really took.",
        _shapley,
        dict(DEFAULTS),
        check_params,
        from_paths=shapley_credit,
    ),
]


@hookimpl
def register_attribution_models(register):
    for model in MODELS:
        register(model)
