"""Markov-chain attribution (removal effect), solved exactly as an absorbing chain.

The model is ChannelAttribution's (see ``shared/ATTRIBUTION.md``), computed
without simulation:

1. **States.** With order ``k`` a state is a window of ``k`` consecutive
   channels of a path (repeats included); a path shorter than ``k`` is one
   state. Consecutive equal states are merged (order 1: ``a > a > b`` walks
   ``a, b``); non-consecutive repeats (loops) stay.
2. **Walk.** ``start → s_1 → … → s_m``, each step weighted by the path's
   journeys (conversions + nulls); the last state goes to *conversion* with the
   path's conversions and to *null* with its nulls. Transition probabilities
   are counts over the origin state's total.
3. **Removal effect.** Removing channel ``c`` sends every transition into a
   state that contains ``c`` to null. With ``Q`` the transient block and
   ``r_s = P(s → conversion)``, the expected visits ``x`` solve
   ``(I − Qᵀ) x = e_start`` and ``P(conv) = Σ x_s r_s``; ``P₋c`` is the same
   with ``c``'s states removed, and ``RE_c = 1 − P₋c / P(conv)``.
   All channels at once: a batched dense LU solve for chains up to a few
   hundred states (BLAS pinned to one thread); for bigger (higher-order)
   chains, whose sparse LU fills in almost completely, the visit series
   ``x = Σ_k (Qᵀ)^k e_start`` summed with sparse products until its remainder
   (the mass still walking, extrapolated geometrically) is below 1e-16 of
   P(conv) — machine precision — with sparse LU as the fallback.
4. **Credit.** ``markov`` (ChannelAttribution's global rule):
   ``A_c = RE_c / Σ_d RE_d × Σ conversions``. ``markov_per_journey``
   (marketing-attribution-models' rule): every touch of a converting journey
   gets ``w_c / Σ_touches w`` of that journey's conversion and revenue, with
   ``w_c = RE_c / ΣRE``.
5. **Revenue** (global rule): ``m_s = ΣV / Σy`` over paths ending in ``s``;
   ``RE^V_c = 1 − Σ x^{−c}_s r_s m_s / Σ x_s r_s m_s`` and the revenue credit is
   ``RE^V_c / ΣRE^V × ΣV`` — the removal effect on expected *value*, not
   ``A_c`` times an average value.

The functions :func:`markov_states`, :func:`transition_counts`,
:func:`removal_effects` and :func:`markov_credit` work on a
:class:`~roistory.paths.PathTable` (aggregated or one row per journey) and are
public for benchmarks and for backends that build the path table elsewhere.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from roistory.api import AttributionModel, Journeys, ModelParamError, PathTable, hookimpl, path_rows

MAX_ORDER = 8
DENSE_LIMIT = 400  # transient states up to which the dense batched solve is used
SERIES = True  # larger chains: the visit series summed to machine precision (sparse LU if it does not converge)
DENSE_COUNTS_UP_TO = 4_000_000  # (states + 1)² up to which transitions are counted in a dense array


# --------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    order = params.get("order")
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or not 1 <= order <= MAX_ORDER:
        raise ModelParamError("order", f"must be a whole number from 1 to {MAX_ORDER}, got {order!r}")
    return {**params, "order": int(order)}


# --------------------------------------------------------------------------
# States and transitions
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    """The observed chain: states, transition counts, and what ends where.

    States are numbered ``0..n_states-1``; ``start = n_states``. ``counts`` is
    the ``(n_states + 1) × (n_states + 1)`` transient block (dense ndarray or
    scipy.sparse CSR), ``to_conversion`` / ``to_null`` the absorbing columns,
    ``end_value`` the revenue of the paths ending in each state, and
    ``contains[c]`` the states that contain channel ``c`` (as a boolean
    ``n_channels × n_states`` matrix, or a list of index arrays for big chains).
    """

    n_states: int
    counts: Any
    to_conversion: np.ndarray
    to_null: np.ndarray
    end_value: np.ndarray
    contains: Any
    n_channels: int

    @property
    def start(self) -> int:
        return self.n_states


def _compact(key: np.ndarray, key_space: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids ``0..k-1`` for integer keys (ordered by key when a presence table is used), and the keys."""
    if key_space is not None and key_space <= max(4 * len(key), 1024) and key_space <= 50_000_000:
        present = np.zeros(key_space, bool)
        present[key] = True
        uniques = np.flatnonzero(present)
        if len(uniques) == key_space:
            return key.astype(np.int64, copy=False), uniques
        return (np.cumsum(present) - 1)[key], uniques
    ids, uniques = pd.factorize(key)
    return ids.astype(np.int64, copy=False), np.asarray(uniques, dtype=np.int64)


def markov_states(table: PathTable, order: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Each row's walk of states after merging consecutive equal states.

    Returns ``(state, state_offsets, state_channels, n_states)``: the state id
    of every step, the steps of row ``i`` at ``state_offsets[i]:state_offsets[i+1]``,
    and for every state id its channels as an ``n_states × order`` matrix
    (``-1`` pads the states of paths shorter than ``order``).

    Vectorised over all touches: a window starting at touch ``t`` is the
    number ``Σ (c_{t+i} + 1)·B^(order-1-i)`` (digit 0 pads past the row's end),
    computed with ``order`` shifted passes; no per-row Python.
    """
    codes, offsets = table.codes, table.offsets
    lengths = table.lengths
    n_codes = max(len(table.labels), 1)
    n = len(codes)
    row_start = np.zeros(n, bool)
    row_start[offsets[:-1][lengths > 0]] = True
    if order == 1:
        keep = row_start.copy()
        if n:
            keep[1:] |= codes[1:] != codes[:-1]
        kept_at = np.flatnonzero(keep)
        if n_codes <= DENSE_LIMIT:  # every code is a state (unseen ones are empty rows: no effect)
            state = codes[kept_at].astype(np.intp)
            state_channels = np.arange(n_codes, dtype=np.int64)[:, None]
        else:
            state, uniques = _compact(codes[kept_at], n_codes)
            state_channels = uniques[:, None].astype(np.int64)
    else:
        base = n_codes + 1  # digit 0 pads short paths
        fits = order * np.log2(base) < 62
        key_dtype = np.int32 if fits and base**order < 2**31 else np.int64
        in_row = np.ones(n, bool)  # touch t+i is still in t's row
        key = codes.astype(key_dtype)
        key += 1
        digits = [key.copy()] if not fits else []
        digit = np.empty(n, key_dtype)
        not_row_start = ~row_start
        for i in range(1, order):
            reach = max(n - i, 0)  # touches t that have a touch t+i (none when all touches are fewer than i)
            np.logical_and(in_row[:reach], not_row_start[i:], out=in_row[:reach])
            in_row[reach:] = False
            digit[:reach] = codes[i:]
            digit[:reach] += 1
            digit[reach:] = 0
            digit *= in_row
            if fits:
                key *= base
                key += digit
            else:
                digits.append(digit.copy())
        del not_row_start, digit
        # a window starts at t when it ends inside t's row, or t starts a row shorter than
        # order; the start before a window start that is not a row start is the touch before it
        keep = in_row
        keep |= row_start
        if fits:
            change = row_start.copy()
            if n:
                change[1:] |= key[1:] != key[:-1]
            keep &= change
            del change
            kept_at = np.flatnonzero(keep)
            key = key[kept_at]
            if base**order <= DENSE_LIMIT:  # every key is a state (impossible ones are empty rows)
                state = key.astype(np.intp)
                uniques = np.arange(base**order, dtype=np.int64)
            else:
                state, uniques = _compact(key, base**order if base**order <= 50_000_000 else None)
            state_channels = np.zeros((len(uniques), order), np.int64)
            rest = uniques.astype(np.int64)
            for i in range(order - 1, -1, -1):
                state_channels[:, i] = rest % base - 1
                rest //= base
        else:  # too many channels for a numeric key: exact byte keys
            starts = np.flatnonzero(keep)
            matrix = np.stack([d[starts] for d in digits], axis=1).astype(np.int64)
            merged = row_start[starts].copy()
            if len(starts):
                merged[1:] |= (matrix[1:] != matrix[:-1]).any(axis=1)
            kept_at = starts[merged]
            matrix = np.ascontiguousarray(matrix[merged])
            void = matrix.view(np.dtype((np.void, 8 * order))).ravel()
            _, first, state = np.unique(void, return_index=True, return_inverse=True)
            state = state.astype(np.int64).ravel()
            state_channels = matrix[first] - 1
    # steps per row: kept windows that start inside the row
    kept = np.zeros(n + 1, np.int32 if n < 2**31 else np.int64)
    kept[kept_at + 1] = 1
    np.cumsum(kept, out=kept)
    state_offsets = kept[offsets].astype(np.int64)
    return state, state_offsets, state_channels, len(state_channels)


def transition_counts(table: PathTable, order: int = 1) -> Chain:
    """Count the weighted transitions of every row's walk (see the module docstring)."""
    state, state_offsets, state_channels, n_states = markov_states(table, order)
    steps = np.diff(state_offsets)
    has_steps = steps > 0
    start = n_states
    size = n_states + 1
    weight = table.conversions + table.nulls
    unit = bool(len(weight)) and bool((weight == 1.0).all())  # one journey per row: count, no weights
    first = state_offsets[:-1][has_steps]
    last = state_offsets[1:][has_steps] - 1
    # the transition leaving every step: to the next step of its row (a row's last step
    # goes to a dummy bin, its conversions and nulls are counted apart)
    transition = state * size
    if len(state) > 1:
        transition[:-1] += state[1:]
    transition[last] = size * size
    step_weight = None if unit else np.repeat(weight, steps)
    if unit:
        into_first = np.bincount(state[first], minlength=size).astype(float)
    else:
        into_first = np.bincount(state[first], weight[has_steps], size)
    end_state = state[last]
    to_conversion = np.bincount(end_state, table.conversions[has_steps], size)
    to_null = np.bincount(end_state, table.nulls[has_steps], size)
    end_value = np.bincount(end_state, table.revenue[has_steps], size)
    if size * size <= DENSE_COUNTS_UP_TO:
        flat = np.bincount(transition, step_weight, size * size + 1)[: size * size]
        counts: Any = flat.astype(float, copy=False).reshape(size, size)
        counts[start] += into_first
    else:  # big chains: count the distinct transitions only
        from scipy import sparse

        ids, inverse = np.unique(transition, return_inverse=True)
        flat = np.bincount(inverse.ravel(), step_weight, len(ids)).astype(float, copy=False)
        real = ids < size * size
        source, target = np.divmod(ids[real], size)
        nonzero_first = np.flatnonzero(into_first)
        counts = sparse.csr_matrix(
            (
                np.concatenate([flat[real], into_first[nonzero_first]]),
                (np.concatenate([source, np.full(len(nonzero_first), start)]), np.concatenate([target, nonzero_first])),
            ),
            shape=(size, size),
        )
        counts.sum_duplicates()
    n_channels = len(table.labels)
    # states no walk visits (codes or keys that never occur) contain nothing
    visited = (np.asarray(counts.sum(axis=1)).ravel() + to_conversion + to_null)[:n_states] > 0
    state_channels = np.where(visited[:, None], state_channels, -1)
    if n_states <= DENSE_LIMIT:
        contains = np.zeros((n_channels, n_states), bool)
        for column in state_channels.T:
            valid = column >= 0
            contains[column[valid], np.flatnonzero(valid)] = True
    else:
        pairs = np.unique(np.concatenate([c[c >= 0] * n_states + np.flatnonzero(c >= 0) for c in state_channels.T]))
        channel, index = np.divmod(pairs, n_states)
        bounds = np.searchsorted(channel, np.arange(n_channels + 1))
        contains = [index[bounds[c] : bounds[c + 1]] for c in range(n_channels)]
    return Chain(n_states, counts, to_conversion, to_null, end_value, contains, n_channels)


# --------------------------------------------------------------------------
# Exact absorbing-chain solve
# --------------------------------------------------------------------------


_controller: Any = None
_controller_sees_scipy = False


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Pin BLAS/OpenMP to one thread: OpenBLAS's pool stalls on small solves on 2-core machines.

    The threadpoolctl controller is built once (scanning the loaded libraries
    costs ~2 ms) and again only when scipy's own BLAS has been loaded since.
    """
    global _controller, _controller_sees_scipy
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    sees_scipy = "scipy.linalg" in sys.modules
    if _controller is None or (sees_scipy and not _controller_sees_scipy):
        _controller, _controller_sees_scipy = ThreadpoolController(), sees_scipy
    with _controller.limit(limits=1):
        yield


@dataclass(frozen=True)
class RemovalEffects:
    """Per channel: the removal effect on conversions (``conversions``) and on value (``revenue``)."""

    conversions: np.ndarray
    revenue: np.ndarray
    p_conversion: float  # P(conversion) of the full chain
    value_per_walk: float  # expected value of one walk from start


def _probabilities(chain: Chain) -> tuple[Any, np.ndarray, np.ndarray]:
    """Q (transient block), r (to conversion) and r·m (expected value on absorption) per state."""
    counts = chain.counts
    row_sums = np.asarray(counts.sum(axis=1)).ravel() + chain.to_conversion + chain.to_null
    scale = np.divide(1.0, row_sums, out=np.zeros_like(row_sums), where=row_sums > 0)
    if isinstance(counts, np.ndarray):
        q = counts * scale[:, None]
    else:
        from scipy import sparse

        q = sparse.diags(scale) @ counts
    return q, chain.to_conversion * scale, chain.end_value * scale


def _solve_dense(chain: Chain, q: np.ndarray, r: np.ndarray, rv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(conv) and E(value) for the full chain (index 0) and every channel removed (1..n), batched."""
    size = chain.n_states + 1
    keep = np.ones((chain.n_channels + 1, size), bool)
    keep[1:, : chain.n_states] = ~chain.contains
    diagonal = np.arange(size)
    x = np.zeros((chain.n_channels + 1, size))
    batch = max(1, 4_000_000 // (size * size))
    with one_blas_thread():
        for at in range(0, chain.n_channels + 1, batch):
            mask = keep[at : at + batch]
            a = np.empty((len(mask), size, size))
            a[:] = -q.T
            a *= mask[:, :, None]
            a *= mask[:, None, :]
            a[:, diagonal, diagonal] += 1.0
            rhs = np.zeros((len(mask), size, 1))
            rhs[:, chain.start, 0] = 1.0
            x[at : at + batch] = np.linalg.solve(a, rhs)[:, :, 0]
    x *= keep
    return x @ r, x @ rv


def _solve_sparse(chain: Chain, q: Any, r: np.ndarray, rv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy import sparse
    from scipy.sparse.linalg import splu

    size = chain.n_states + 1
    system = (sparse.identity(size, format="csr") - sparse.csr_matrix(q).T).tocsr()
    p = np.zeros(chain.n_channels + 1)
    v = np.zeros(chain.n_channels + 1)
    contains = chain.contains
    if isinstance(contains, np.ndarray):
        contains = [np.flatnonzero(row) for row in contains]
    with one_blas_thread():
        for i in range(chain.n_channels + 1):
            if i == 0:
                keep = np.arange(size)
            else:
                removed = contains[i - 1]
                if len(removed) == 0:
                    p[i], v[i] = p[0], v[0]
                    continue
                mask = np.ones(size, bool)
                mask[removed] = False
                keep = np.flatnonzero(mask)
            sub = system[keep][:, keep].tocsc()
            rhs = np.zeros(len(keep))
            rhs[np.searchsorted(keep, chain.start)] = 1.0
            x = splu(sub).solve(rhs)
            p[i], v[i] = x @ r[keep], x @ rv[keep]
    return p, v


SERIES_MAX_STEPS = 20_000


def _solve_series(chain: Chain, q: Any, r: np.ndarray, rv: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Large chains: expected visits ``x = Σ_k (Qᵀ)^k e_start`` for all removals at once.

    Sparse LU of a big higher-order chain fills in almost completely (its graph
    is an expander), while this series needs one sparse product per step of
    the walk. It is summed until the probability mass still in transient
    states, ``m_k``, extrapolated over the rest of the series
    (``m_k · ρ / (1 − ρ)`` with ``ρ`` the observed decay per step), is below
    ``1e-16`` of P(conv): machine precision, as a direct solve (tests compare
    it with sparse LU to 1e-13). Returns None (the caller falls back to sparse
    LU) if it has not converged after ``SERIES_MAX_STEPS`` steps.
    """
    from scipy import sparse

    size = chain.n_states + 1
    systems = chain.n_channels + 1
    qt = sparse.csr_matrix(q).T.tocsr()
    keep = np.ones((size, systems))
    contains = chain.contains
    if isinstance(contains, np.ndarray):
        keep[: chain.n_states, 1:] = ~contains.T
    else:
        for c, removed in enumerate(contains):
            keep[removed, c + 1] = 0.0
    term = np.zeros((size, systems))
    term[chain.start] = 1.0
    x = term.copy()
    previous = np.ones(systems)
    converged = False
    for _ in range(SERIES_MAX_STEPS):
        term = qt @ term
        term *= keep
        x += term
        mass = term.sum(axis=0)
        if not mass.any():
            converged = True
            break
        ratio = np.divide(mass, previous, out=np.zeros_like(mass), where=previous > 0)
        ratio[(previous == 0) & (mass > 0)] = 1.0  # cannot happen for a walk, kept for safety
        previous = mass
        if (ratio < 1).all():
            p_floor = max(float(x[:, 0] @ r), 1e-300)
            if (mass * ratio / (1 - ratio)).max() <= 1e-16 * p_floor:
                converged = True
                break
    if not converged:
        return None
    return x.T @ r, x.T @ rv


def removal_effects(table: PathTable | Chain, order: int = 1) -> RemovalEffects:
    """Exact removal effects of every channel (codes of ``table.labels``)."""
    chain = table if isinstance(table, Chain) else transition_counts(table, order)
    n = chain.n_channels
    if chain.n_states == 0:
        return RemovalEffects(np.zeros(n), np.zeros(n), 0.0, 0.0)
    q, r, rv = _probabilities(chain)
    size = chain.n_states + 1
    if chain.n_states <= DENSE_LIMIT and isinstance(q, np.ndarray) and (chain.n_channels + 1) * size**3 <= 2e9:
        p, v = _solve_dense(chain, q, r, rv)
    else:
        solved = _solve_series(chain, q, r, rv) if SERIES else None
        p, v = solved if solved is not None else _solve_sparse(chain, q, r, rv)
    present = (
        chain.contains.any(axis=1)
        if isinstance(chain.contains, np.ndarray)
        else np.array([len(c) > 0 for c in chain.contains])
    )

    def effect(total: float, removed: np.ndarray) -> np.ndarray:
        if total <= 0:
            return np.zeros(n)
        out = 1.0 - removed / total
        out[~present] = 0.0  # a channel in no state removes nothing
        return np.clip(out, 0.0, 1.0)

    return RemovalEffects(effect(p[0], p[1:]), effect(v[0], v[1:]), float(p[0]), float(v[0]))


def markov_credit(table: PathTable, order: int = 1) -> pd.DataFrame:
    """The global rule: conversions and revenue split in proportion to the removal effects."""
    effects = removal_effects(table, order)
    return pd.DataFrame(
        {
            "conversions": _share(effects.conversions, table.total_conversions),
            "revenue": _share(effects.revenue, table.total_revenue),
        },
        index=pd.Index(table.labels, name="segment"),
    )


def _share(effect: np.ndarray, total: float) -> np.ndarray:
    denominator = effect.sum()
    if total == 0 or denominator <= 0:
        return np.zeros_like(effect)
    return effect / denominator * total


# --------------------------------------------------------------------------
# The models
# --------------------------------------------------------------------------


def _markov(journeys: Journeys, params: dict) -> pd.DataFrame:
    return markov_credit(path_rows(journeys), params["order"])


def per_journey_weights(journeys: Journeys, effects: np.ndarray) -> np.ndarray:
    """mam's split: touch t of a journey gets ``w_c / Σ_touches w`` with ``w = RE / ΣRE``.

    A journey whose channels all have a zero removal effect (possible only
    through rounding) is split equally, so nothing is lost.
    """
    total = effects.sum()
    w = effects / total if total > 0 else np.zeros_like(effects)
    touch = w[journeys.codes]
    if not len(touch):
        return touch
    sums = np.add.reduceat(touch, journeys.offsets[:-1])
    zero = sums <= 0
    if zero.any():
        touch = np.where(np.repeat(zero, journeys.lengths), 1.0, touch)
        sums = np.where(zero, journeys.lengths, sums)
    return touch / np.repeat(sums, journeys.lengths)


def _markov_from_paths(table: PathTable, params: dict) -> pd.DataFrame:
    return markov_credit(table, params["order"])


def _markov_per_journey_from_paths(table: PathTable, params: dict) -> pd.DataFrame:
    """mam's split on a path table: a row's journeys share its path, so they share its weights."""
    effects = removal_effects(table, params["order"])
    # one "journey" per row, for its path only: the weights read the codes and offsets, and the
    # row's conversions and revenue are multiplied in below
    per_row = Journeys(
        table.labels,
        table.offsets,
        table.codes,
        np.zeros(len(table.codes)),
        np.zeros(len(table)),
        np.zeros(len(table)),
        np.zeros(len(table), "datetime64[ns]"),
    )
    weights = per_journey_weights(per_row, effects.conversions)
    journey = per_row.journey_of_touch
    n = len(table.labels)
    return pd.DataFrame(
        {
            "conversions": np.bincount(table.codes, weights * table.conversions[journey], n),
            "revenue": np.bincount(table.codes, weights * table.revenue[journey], n),
        },
        index=pd.Index(table.labels, name="segment"),
    )


def _markov_per_journey(journeys: Journeys, params: dict) -> np.ndarray:
    effects = removal_effects(path_rows(journeys), params["order"])
    return per_journey_weights(journeys, effects.conversions)


MODELS = [
    AttributionModel(
        "markov",
        "Markov chain (removal effect)",
        "Learns from converting and non-converting journeys how likely each path is to convert, then "
        "asks what would be lost if a channel disappeared (its removal effect); credit is split in "
        "proportion to those effects. Solved exactly, no simulation.",
        _markov,
        {"order": 1},
        check_params,
        from_paths=_markov_from_paths,
    ),
    AttributionModel(
        "markov_per_journey",
        "Markov chain, split per journey",
        "The Markov removal effects used as weights inside each converting journey: every touch gets its "
        "channel's share of that journey's conversion (marketing-attribution-models' rule).",
        _markov_per_journey,
        {"order": 1},
        check_params,
        from_paths=_markov_per_journey_from_paths,
    ),
]


@hookimpl
def register_attribution_models(register):
    for model in MODELS:
        register(model)
