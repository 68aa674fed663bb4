"""Vectorised text helpers shared by the parsing modules (Arrow arrays, no Python loops)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Cells that mean "no value" in exports: Google Ads' "--", spreadsheets' "#N/A", ...
PLACEHOLDERS = ("--", "-", "—", "–", "n/a", "na", "#n/a", "null", "none", "nan", "(none)", "#div/0!", "#value!")
SPACES = " \t\r\n\u00a0\u202f\u2007\ufeff"


def as_arrow(series: pd.Series) -> pa.ChunkedArray:
    """The column as an Arrow array (zero-copy for Arrow-backed and numeric columns)."""
    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # object column mixing types (numbers and text): every value as text
        array = pa.array(
            series.map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v))
        )
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def is_text(array: pa.ChunkedArray) -> bool:
    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def trim_text(array: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed text; blank becomes missing."""
    if not needs_trim(array):
        return array
    trimmed = pc.utf8_trim(array, SPACES)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)


def byte_edges(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray, int]:
    """First and last byte of each string of an Arrow string array (read straight from its
    buffers, no copy of the text; for an empty or missing value, a neighbour's byte), and the
    number of empty (not missing) values."""
    buffers = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None and buffers[2].size
        else np.zeros(1, np.uint8)
    )
    starts, ends = offsets[:-1], offsets[1:]
    empty = int(np.count_nonzero(ends == starts)) - chunk.null_count
    if not len(starts):
        return np.zeros(0, np.uint8), np.zeros(0, np.uint8), 0
    first = data.take(starts, mode="clip")
    last = data.take(ends - 1, mode="clip")
    return first, last, empty


def needs_trim(array: pa.ChunkedArray) -> bool:
    """Does any value start or end with white space, or is any value blank? (A false alarm
    only costs a trim.) Reads the first and last byte of each value from the Arrow buffers,
    block by block so the temporaries stay in cache."""
    block = 1 << 16
    for chunk in array.chunks:
        for start in range(0, len(chunk), block):
            first, last, empty = byte_edges(chunk.slice(start, block))
            if empty > 0 or first.min() <= 32 or last.min() <= 32:  # ASCII white space, controls
                return True
            # NBSP, narrow NBSP, BOM: only looked for when a value has a non-ASCII edge
            if first.max() >= 0xC2 and ((first == 0xC2) | (first == 0xE2) | (first == 0xEF)).any():
                return True
            if last.max() >= 0x80 and ((last == 0xA0) | (last == 0xAF) | (last == 0x87) | (last == 0xBF)).any():
                return True
    return False


def to_str_series(array: pa.ChunkedArray, index: pd.Index) -> pd.Series:
    series = array.to_pandas()
    if series.dtype != "str":
        series = series.astype("str")
    series.index = index
    return series


def with_index(series: pd.Series, index: pd.Index) -> pd.Series:
    series.index = index
    return series


def frame_of(columns: dict[str, pd.Series], index: pd.Index) -> pd.DataFrame:
    """A DataFrame of the given columns without copying them into consolidated blocks."""
    frame = pd.DataFrame(index=index)
    for name, series in columns.items():
        frame[name] = series
    return frame


def first_true(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])
