"""Rows that are not data: total and subtotal lines, and rows repeating an earlier row."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from roistory.sources._text import as_arrow, byte_edges, is_text
from roistory.sources.locales import TOTAL_INITIAL_BYTES, TOTALS_LABEL

_TOTAL_INITIALS = np.zeros(256, bool)
_TOTAL_INITIALS[TOTAL_INITIAL_BYTES] = True


def totals_mask(raw: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Rows labelled as totals ("Total", "Total: Account", "Grand Totals (12 records)", "Subtotal",
    "Totaal: account", "Gesamt: Konto", "合計: アカウント" ...: see :mod:`roistory.sources.locales`)."""
    mask = np.zeros(len(raw), bool)
    for column in columns:
        series = raw[column]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
            continue
        array = as_arrow(series)
        if not is_text(array):
            continue
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        if len(array) == 0:
            continue
        # only values starting as a totals label can (T, S, G, a space, 合, 总, 總 ...)
        first, _, _ = byte_edges(array)
        initial = _TOTAL_INITIALS[first]
        candidates = np.flatnonzero(initial)
        if not len(candidates):
            continue
        hit = pc.fill_null(pc.match_substring_regex(array.take(pa.array(candidates)), TOTALS_LABEL), False)
        mask[candidates[hit.to_numpy(zero_copy_only=False)]] = True
    return mask


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _numeric_hash(parts: list[Any]) -> np.ndarray | None:
    """A hash of each row's numbers and dates alone (None when the rows have none)."""
    numeric = [p for p in parts if isinstance(p, np.ndarray)]
    if not numeric:
        return None
    h = np.ascontiguousarray(numeric[0]).view(np.uint64).copy()
    shift = np.uint64(31)
    with np.errstate(over="ignore"):
        for values in numeric[1:]:
            h ^= h >> shift
            h *= _GOLDEN
            h += np.ascontiguousarray(values).view(np.uint64)
        h ^= h >> shift
        h *= _GOLDEN
    return h


def duplicated_rows(parts: list[Any], raw: pd.DataFrame) -> np.ndarray:
    """Rows of one chunk repeating an earlier row in every cell of the export.

    Rows can only repeat each other if their numbers and dates do: those are compared first
    (a hash, cheap); only rows sharing them are compared cell by cell.
    """
    n = len(raw)
    h = _numeric_hash(parts)
    if h is not None:
        ordered = np.sort(h)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        if not len(repeated):
            return np.zeros(n, bool)
        candidates = np.flatnonzero(np.isin(h, np.unique(repeated)))
    else:
        candidates = np.arange(n)
    subset = raw.iloc[candidates]
    exact = subset.astype(object).where(subset.notna(), None).duplicated().to_numpy()
    duplicated = np.zeros(n, bool)
    duplicated[candidates[exact]] = True
    return duplicated


def repeated_hashes(hashes: np.ndarray) -> np.ndarray:
    """Rows whose hash repeats an earlier row's (several chunks: the rows are gone by now)."""
    ordered = np.sort(hashes)
    if not (ordered[1:] == ordered[:-1]).any():
        return np.zeros(len(hashes), bool)
    return pd.Series(hashes).duplicated().to_numpy()


_DUCKDB: Any = None
_DUCKDB_LOCK = threading.Lock()


def row_hashes(parts: list[pa.ChunkedArray | np.ndarray]) -> np.ndarray:
    """A 64-bit content hash per row over the given columns (stable across chunks), by DuckDB."""
    global _DUCKDB
    import duckdb  # heavy; loaded only when a source comes in several chunks

    arrays, names = [], []
    for i, part in enumerate(parts):
        arrays.append(part if isinstance(part, (pa.ChunkedArray, pa.Array)) else pa.array(part))
        names.append(f"c{i}")
    table = pa.Table.from_arrays(arrays, names=names)
    with _DUCKDB_LOCK:
        if _DUCKDB is None:
            _DUCKDB = duckdb.connect()
        con = _DUCKDB.cursor()
    try:
        con.register("chunk", table)
        return con.execute(f"SELECT hash({', '.join(names)}) AS h FROM chunk").fetchnumpy()["h"].astype(np.uint64)
    finally:
        con.close()
