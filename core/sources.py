"""Canonical tables and source loading.

A source type (registered by a plugin) reads a file or system into a raw
DataFrame; this module renames and completes its columns as the report config
says, then parses and validates them against the canonical table, so every
plugin gets the same checks and the same error messages.

Parsing is vectorised (pyarrow compute and numpy): a clean column costs one
cast; only a column that needs it pays for cleaning (currency symbols,
``1.234,56`` decimals, percent signs, placeholders such as ``--``). Every
error names the file, the row (the reader's row number: a CSV's line number)
and the column.

What the normaliser does to rows, in order (each step counted as a finding
when it changes anything, see :class:`LoadedSource`):

1. header names trimmed, the source's ``columns`` rename map applied,
   ``values`` constants added;
2. a required column missing: error, naming the closest header;
3. totals and subtotal rows ("Total", "Total: Account", "Grand Totals (12
   records)", "Subtotal") dropped;
4. numbers parsed; placeholders (``--``, ``N/A``, ``-``, ``null``) in an
   optional column read as missing, in a required column an error;
5. dates parsed in one format per column (ISO 8601, else detected: ``10/15/2026``,
   ``15.10.2026``, ``Oct 15, 2026``, ``20261015``, ...); a column mixing formats,
   or whose day/month order cannot be told, is an error;
6. values checked: required cells present, amounts not negative, flags 0/1;
7. rows identical in every column of the export dropped (``options.duplicates:
   keep`` keeps them).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from roistory.errors import DataError
from roistory.quality import Finding
from roistory.safety import require_regular_file, without_outside_values

if TYPE_CHECKING:
    import pandera.pandas as pa_schema

    from roistory.config import Config, SourceConfig

# A reader may attach these to the DataFrame it returns (``frame.attrs[...]``):
FINDINGS_ATTR = "roistory.findings"
"""list[Finding]: what the reader itself dropped or assumed (footer lines, totals it checked)."""
LINE_OF_ATTR = "roistory.line_of"
OPTIONS_ATTR = "roistory.options"
"""dict: defaults for the core options (``date_order``, ``decimal``, ...) that the export
format implies (LinkedIn writes US dates); the source's own ``options`` win."""
"""Callable[[int], int]: turns a row number of the frame's index into the exact line of the
file, for readers whose index is a fast approximation (it is only called to word an error)."""


@dataclass(frozen=True)
class SourceType:
    """A kind of source a report's ``sources[].type`` can name.

    ``read(source, config)`` returns the raw rows; the DataFrame's index is the
    row number quoted in error messages (for a CSV, the line number).

    ``chunks(source, config)``, when given, yields the same rows in several
    DataFrames (consecutive, each indexed by row number): the core then
    normalises one chunk at a time, so a file larger than memory is never held
    whole. ``read`` must still work (other tools call it).
    """

    name: str
    read: Callable[[SourceConfig, Config], pd.DataFrame]
    description: str = ""
    chunks: Callable[[SourceConfig, Config], Iterable[pd.DataFrame]] | None = None
    needs_path: bool = False  # True: a missing ``path`` is a config error naming sources[i].path


# Column kinds: "str", "date" (a day), "timestamp", "number" (>= 0), "signed" (any number), "flag" (0/1)
TABLE_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    # table: {column: (kind, required)}
    "spend": {
        "date": ("date", True),
        "channel": ("str", True),
        "cost": ("number", True),
        "campaign": ("str", False),
        "media_type": ("str", False),
        "audience": ("str", False),
        "market": ("str", False),
        "currency": ("str", False),
        "impressions": ("number", False),
        "clicks": ("number", False),
        "platform_conversions": ("number", False),
        "impression_share": ("number", False),
    },
    "touchpoints": {
        "person_id": ("str", True),
        "timestamp": ("timestamp", True),
        "channel": ("str", True),
        "campaign": ("str", False),
        "interaction": ("str", False),
        "media_type": ("str", False),
        "audience": ("str", False),
        "market": ("str", False),
        "conversion": ("flag", False),
        "revenue": ("number", False),
        "currency": ("str", False),
        # a login / CRM id seen on the touch (GA4 user_id): identity resolution links it
        "user_id": ("str", False),
        "email": ("str", False),
    },
    "conversions": {
        "person_id": ("str", True),
        "timestamp": ("timestamp", True),
        "revenue": ("number", False),
        "conversion_type": ("str", False),
        "deal_id": ("str", False),
        "currency": ("str", False),
        "user_id": ("str", False),
        "email": ("str", False),
    },
    "leads": {
        "lead_id": ("str", True),
        "created_at": ("date", True),
        "person_id": ("str", False),
        "email": ("str", False),
        "company": ("str", False),
        "source_channel": ("str", False),
        "source_campaign": ("str", False),
        "mql_at": ("date", False),
        "sql_at": ("date", False),
        "opportunity_at": ("date", False),
        "won_at": ("date", False),
        "lost_at": ("date", False),
        "amount": ("number", False),
        "market": ("str", False),
        "currency": ("str", False),
    },
    "customers": {
        "customer_id": ("str", True),
        "start_date": ("date", True),
        "end_date": ("date", False),
        "mrr": ("number", False),
        "acquisition_channel": ("str", False),
        "market": ("str", False),
        "currency": ("str", False),
    },
    "email": {
        "date": ("date", True),
        "campaign": ("str", True),
        "sent": ("number", True),
        **{
            c: ("number", False)
            for c in (
                "delivered",
                "opens",
                "clicks",
                "replies",
                "unsubscribes",
                "bounces",
                "conversions",
            )
        },
    },
    "web": {
        "date": ("date", True),
        "channel": ("str", True),
        "sessions": ("number", True),
        **{c: ("number", False) for c in ("users", "new_users", "conversions", "pageviews")},
    },
    "social": {
        "date": ("date", True),
        "platform": ("str", False),
        **{
            c: ("number", False)
            for c in (
                "mentions",
                "shares",
                "comments",
                "followers",
                "reach",
                "branded_searches",
            )
        },
    },
}

# Money columns, converted to the report currency by roistory.fx.
MONEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "spend": ("cost",),
    "touchpoints": ("revenue",),
    "conversions": ("revenue",),
    "leads": ("amount",),
    "customers": ("mrr",),
}

# The date column that places a table's rows in a period (report periods, history months, out-of-period counts).
PERIOD_COLUMN = {
    "spend": "date",
    "touchpoints": "timestamp",
    "conversions": "timestamp",
    "leads": "created_at",
    "customers": "start_date",
    "email": "date",
    "web": "date",
    "social": "date",
}

# What happens to rows identical in every column: an aggregated export (spend, email, web,
# social) or a record table (leads, customers, conversions) never legitimately repeats a row,
# so the repeat is dropped and counted; an event log (touchpoints) can (two clicks in the same
# second), so its rows are kept unless options.duplicates says otherwise.
DUPLICATES_DEFAULT = {"touchpoints": "keep"}

# Options every source type accepts, handled here rather than by the reader.
CORE_OPTIONS = {"duplicates", "date_format", "date_order", "decimal", "thousands"}

_DTYPES = {"str": str, "date": "datetime64[ns]", "timestamp": "datetime64[ns]"}


def table_schema(table: str) -> pa_schema.DataFrameSchema:
    """The pandera schema of a canonical table (a description for plugin authors and tests;
    :func:`normalise_table` validates with equivalent vectorised checks)."""
    import pandera.pandas as pa_schema

    columns = {}
    for name, (kind, required) in TABLE_COLUMNS[table].items():
        if kind in ("number", "signed", "flag"):
            checks = {"number": [pa_schema.Check.ge(0)], "flag": [pa_schema.Check.isin([0, 1])]}.get(kind, [])
            columns[name] = pa_schema.Column(float, checks=checks, nullable=not required, coerce=True, required=required)
        else:
            columns[name] = pa_schema.Column(_DTYPES[kind], nullable=not required, coerce=True, required=required)
    return pa_schema.DataFrameSchema(columns, strict=False, name=table)


def _closest(name: str, candidates: list[str]) -> str:
    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    if not match:
        lowered = {c.lower(): c for c in candidates}
        match = [lowered[name.lower()]] if name.lower() in lowered else []
    return f" (did you mean '{match[0]}'?)" if match else ""


def data_error(message: str, *, file: str | None, row: Any = None, column: str | None = None) -> DataError:
    """A DataError that remembers its bare message (so the row can be re-mapped later)."""
    row = None if row is None or (isinstance(row, float) and np.isnan(row)) else int(row)
    error = DataError(message, file=file, row=row, column=column)
    error.detail = message  # type: ignore[attr-defined]
    return error


# --------------------------------------------------------------------------
# Text helpers (vectorised)
# --------------------------------------------------------------------------

# Cells that mean "no value" in exports: Google Ads' "--", spreadsheets' "#N/A", ...
PLACEHOLDERS = ("--", "-", "—", "–", "n/a", "na", "#n/a", "null", "none", "nan", "(none)", "#div/0!", "#value!")
_SPACES = " \t\r\n\u00a0\u202f\u2007\ufeff"
_TOTALS = r"(?i)^\s*(grand\s+|sub-?\s*)?totals?\b"


def _arrow(series: pd.Series) -> pa.ChunkedArray:
    """The column as an Arrow array (zero-copy for Arrow-backed and numeric columns)."""
    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # object column mixing types (numbers and text): every value as text
        array = pa.array(series.map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)))
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _is_text(array: pa.ChunkedArray) -> bool:
    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def _trim(array: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed text; blank becomes missing."""
    if not _needs_trim(array):
        return array
    trimmed = pc.utf8_trim(array, _SPACES)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)


def _edges(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray, int]:
    """First and last byte of each string of an Arrow string array (read straight from its
    buffers, no copy of the text; for an empty or missing value, a neighbour's byte), and the
    number of empty (not missing) values."""
    buffers = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None and buffers[2].size else np.zeros(1, np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    empty = int(np.count_nonzero(ends == starts)) - chunk.null_count
    if not len(starts):
        return np.zeros(0, np.uint8), np.zeros(0, np.uint8), 0
    first = data.take(starts, mode="clip")
    last = data.take(ends - 1, mode="clip")
    return first, last, empty


def _needs_trim(array: pa.ChunkedArray) -> bool:
    """Does any value start or end with white space, or is any value blank? (A false alarm
    only costs a trim.) Reads the first and last byte of each value from the Arrow buffers,
    block by block so the temporaries stay in cache."""
    block = 1 << 16
    for chunk in array.chunks:
        for start in range(0, len(chunk), block):
            first, last, empty = _edges(chunk.slice(start, block))
            if empty > 0 or first.min() <= 32 or last.min() <= 32:  # ASCII white space, controls
                return True
            # NBSP, narrow NBSP, BOM: only looked for when a value has a non-ASCII edge
            if first.max() >= 0xC2 and ((first == 0xC2) | (first == 0xE2) | (first == 0xEF)).any():
                return True
            if last.max() >= 0x80 and ((last == 0xA0) | (last == 0xAF) | (last == 0x87) | (last == 0xBF)).any():
                return True
    return False


def _to_str_series(array: pa.ChunkedArray, index: pd.Index) -> pd.Series:
    series = array.to_pandas()
    if series.dtype != "str":
        series = series.astype("str")
    series.index = index
    return series


def _with_index(series: pd.Series, index: pd.Index) -> pd.Series:
    series.index = index
    return series


def _frame_of(columns: dict[str, pd.Series], index: pd.Index) -> pd.DataFrame:
    """A DataFrame of the given columns without copying them into consolidated blocks."""
    frame = pd.DataFrame(index=index)
    for name, series in columns.items():
        frame[name] = series
    return frame


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

_CURRENCY_PREFIX = r"^(?:[A-Z]{3}\s*|US\$|CA\$|A\$|AU\$|NZ\$|HK\$|S\$|R\$|Mex\$|[$€£¥₹₩₽₺₫₱฿]|kr\.?\s|zł\s|CHF\s|Rp\.?\s?)"
_CURRENCY_SUFFIX = r"(?:\s*[A-Z]{3}|\s*[$€£¥₹₩₽₺₫₱฿]|\s?kr\.?|\s?zł|\s?Kč|\s?Ft)$"
_NUMBER_DOT = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][-+]?\d+)?$")
_NUMBER_COMMA = re.compile(r"^-?(\d{1,3}(\.\d{3})+|\d+)?(,\d+)?$")


def _number_votes(text: pa.ChunkedArray) -> tuple[int, int]:
    """(votes for '.' as the decimal separator, votes for ',') from values that decide it."""
    both_dot = pc.sum(pc.match_substring_regex(text, r"\d,\d{3}\.\d")).as_py() or 0
    both_comma = pc.sum(pc.match_substring_regex(text, r"\d\.\d{3},\d")).as_py() or 0
    # a single separator followed by anything but exactly three digits is a decimal point
    only_dot = pc.sum(pc.match_substring_regex(text, r"^[^,]*\d?\.(\d{1,2}|\d{4,})$")).as_py() or 0
    only_comma = pc.sum(pc.match_substring_regex(text, r"^[^.]*\d?,(\d{1,2}|\d{4,})$")).as_py() or 0
    return both_dot + only_dot, both_comma + only_comma


@dataclass
class _ColumnState:
    """What the first chunk decided for a column, kept for the next chunks."""

    date_format: str | None = None
    date_example: tuple[int, str] | None = None  # (row, value) that set the format
    decimal: str | None = None


@dataclass
class _SourceState:
    """Decisions and counts for one source across its chunks."""

    columns: dict[str, _ColumnState] = field(default_factory=dict)
    decimal: str | None = None  # the source's number style once known
    forced_decimal: str | None = None  # options.decimal
    totals: list[tuple[int, str]] = field(default_factory=list)
    totals_count: int = 0
    placeholders: dict[str, int] = field(default_factory=dict)
    placeholder_examples: dict[str, str] = field(default_factory=dict)
    currency_codes: dict[str, pa.ChunkedArray] = field(default_factory=dict)  # money column -> code per row
    percent_columns: set[str] = field(default_factory=set)
    hashes: list[np.ndarray] = field(default_factory=list)
    chunks: int = 0
    rows_read: int = 0
    line_of: Callable[[int], int] | None = None
    reader_findings: list[Finding] = field(default_factory=list)

    def column(self, name: str) -> _ColumnState:
        return self.columns.setdefault(name, _ColumnState())


def _parse_numbers(
    series: pd.Series, name: str, kind: str, required: bool, file: str, state: _SourceState
) -> np.ndarray:
    """A number column as float64 (NaN = missing); raises naming the first bad row."""
    index = series.index
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    array = _arrow(series)
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
        return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_boolean(array.type):
        return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    if not _is_text(array):
        array = pc.cast(array, pa.string())
    # fast path: every cell a plain number
    try:
        values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
        nan = np.isnan(values)
        # 'nan' and 'inf' cast too: only accept when NaN means an empty cell
        if int(nan.sum()) == array.null_count and not np.isinf(values).any():
            return values
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    return _parse_number_text(array, index, name, required, file, state)


_MONEY = {"cost", "revenue", "amount", "mrr"}
_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB", "₺": "TRY", "₫": "VND", "₱": "PHP", "฿": "THB"}


def _code_at(text: pa.ChunkedArray, where: str, extract: str) -> pa.ChunkedArray:
    """The ISO currency code a money cell carries ('USD 1,200.00', '1.200,00 EUR'), else null."""
    hit = pc.fill_null(pc.match_substring_regex(text, where), False)
    return pc.replace_substring_regex(pc.if_else(hit, text, pa.scalar(None, text.type)), extract, r"\1")


def _symbol_code(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """The currency of an unambiguous symbol ('€', '£'; not '$', which many currencies use)."""
    result = pa.chunked_array([pa.nulls(len(text), text.type)]) if len(text) else text
    for symbol, code in _SYMBOLS.items():
        hit = pc.fill_null(pc.match_substring(text, symbol), False)
        if pc.any(hit).as_py():
            result = pc.if_else(hit, pa.scalar(code, text.type), result)
    return result


def _parse_number_text(
    array: pa.ChunkedArray, index: pd.Index, name: str, required: bool, file: str, state: _SourceState
) -> np.ndarray:
    text = _trim(array)
    lowered = pc.utf8_lower(text)
    placeholder = pc.fill_null(pc.is_in(lowered, pa.array(PLACEHOLDERS)), False)
    n_placeholders = pc.sum(placeholder).as_py() or 0
    if n_placeholders:
        where = placeholder.to_numpy(zero_copy_only=False)
        row, value = index[_first(where)], text[_first(where)].as_py()
        if required:
            raise data_error(f"'{value}' is not a number (a required value cannot be a placeholder)", file=file, row=row, column=name)
        state.placeholders[name] = state.placeholders.get(name, 0) + n_placeholders
        state.placeholder_examples.setdefault(name, value)
        text = pc.if_else(placeholder, pa.scalar(None, text.type), text)
    clean = text
    percent = pc.fill_null(pc.ends_with(clean, "%"), False)
    has_percent = bool(pc.any(percent).as_py())
    if has_percent:
        state.percent_columns.add(name)
        clean = pc.replace_substring_regex(clean, r"^\s*[<>≤≥]\s*", "")  # Google Ads' "< 10%"
        clean = pc.replace_substring_regex(clean, r"\s*%$", "")
    negative = pc.fill_null(pc.match_substring_regex(clean, r"^\(.*\)$"), False)
    clean = pc.replace_substring_regex(clean, r"^\((.*)\)$", r"\1")
    if name in _MONEY:
        code = pc.coalesce(
            _code_at(clean, r"^[A-Z]{3}\s*[-+(]?\s*[\d.,]", r"^([A-Z]{3}).*$"),
            _code_at(clean, r"[\d.,]\s*[A-Z]{3}$", r"^.*([A-Z]{3})$"),
            _symbol_code(clean),
        )
        if code.null_count < len(code):
            state.currency_codes[name] = code
    clean = pc.replace_substring_regex(clean, _CURRENCY_PREFIX, "")
    clean = pc.replace_substring_regex(clean, _CURRENCY_SUFFIX, "")
    clean = pc.replace_substring_regex(clean, r"^([-+]?)\s*[$€£¥₹]\s*", r"\1")  # "-$5.00"
    clean = pc.replace_substring_regex(clean, r"^\+", "")
    clean = pc.replace_substring_regex(clean, "[ \u00a0\u202f\u2007'’]", "")  # 1 234,56 and 1'234.56
    # which separator is the decimal point: this column's unambiguous values, else the source's
    decimal = state.forced_decimal or state.column(name).decimal
    if decimal is None:
        dot, comma = _number_votes(clean)
        if dot and comma:
            decimal = "."
            # each style's first value, to name in the error
            first_comma = pc.match_substring_regex(clean, r"\d\.\d{3},\d|^[^.]*\d?,(\d{1,2}|\d{4,})$")
            where = pc.fill_null(first_comma, False).to_numpy(zero_copy_only=False)
            raise data_error(
                f"mixes number styles: '{clean[_first(where)].as_py()}' uses ',' as the decimal separator "
                "where other rows use '.' (set options.decimal)",
                file=file,
                row=index[_first(where)],
                column=name,
            )
        decimal = "." if dot else "," if comma else state.decimal
        if decimal is not None:
            state.column(name).decimal = decimal
            state.decimal = state.decimal or decimal
        else:
            decimal = "."
    pattern = _NUMBER_DOT if decimal == "." else _NUMBER_COMMA
    well_formed = pc.match_substring_regex(clean, pattern.pattern)
    bad = pc.and_(pc.is_valid(clean), pc.invert(pc.fill_null(well_formed, False)))
    bad = pc.or_(bad, pc.fill_null(pc.equal(clean, "-"), False))
    bad_mask = pc.fill_null(bad, False).to_numpy(zero_copy_only=False)
    if bad_mask.any():
        i = _first(bad_mask)
        raise data_error(f"cannot read '{text[i].as_py()}' as a number", file=file, row=index[i], column=name)
    if decimal == ".":
        clean = pc.replace_substring(clean, ",", "")
    else:
        clean = pc.replace_substring(pc.replace_substring(clean, ".", ""), ",", ".")
    values = pc.cast(clean, pa.float64()).to_numpy(zero_copy_only=False).copy()
    negative_mask = negative.to_numpy(zero_copy_only=False)
    if negative_mask.any():
        values[negative_mask] = -np.abs(values[negative_mask])
    if has_percent:
        values[percent.to_numpy(zero_copy_only=False)] /= 100.0
    return values


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_TIME_SUFFIXES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p", " %I:%M%p")
# Formats tried, in order, on a column's first value when it is not ISO 8601.
_DATE_FORMATS: list[tuple[str, str]] = [
    ("%Y/%m/%d", "YYYY/MM/DD"),
    ("%Y%m%d", "YYYYMMDD"),
    ("%d.%m.%Y", "DD.MM.YYYY"),
    ("%d.%m.%y", "DD.MM.YY"),
    ("%b %d, %Y", "Mon D, YYYY"),
    ("%B %d, %Y", "Month D, YYYY"),
    ("%a, %b %d, %Y", "Day, Mon D, YYYY"),
    ("%A, %B %d, %Y", "Day, Month D, YYYY"),
    ("%d %b %Y", "D Mon YYYY"),
    ("%d %B %Y", "D Month YYYY"),
    ("%d-%b-%Y", "D-Mon-YYYY"),
    ("%d-%b-%y", "D-Mon-YY"),
    ("%b %d %Y", "Mon D YYYY"),
]
# Day and month in either order: decided from the column's values, or options.date_order.
_AMBIGUOUS = re.compile(r"^\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})\b")


def _format_label(fmt: str) -> str:
    if fmt == "ISO8601":
        return "ISO 8601 (YYYY-MM-DD)"
    return (
        fmt.replace("%Y", "YYYY").replace("%y", "YY").replace("%m", "MM").replace("%d", "DD")
        .replace("%H", "hh").replace("%I", "hh").replace("%M", "mm").replace("%S", "ss").replace("%p", "AM/PM")
        .replace("%b", "Mon").replace("%B", "Month").replace("%a", "Day").replace("%A", "Day")
    )


def _strptime_ok(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def _iso_ok(value: str) -> bool:
    try:
        pd.to_datetime(pd.Series([value]), format="ISO8601")
    except (ValueError, TypeError):
        return False
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}", value))


def _detect_format(value: str, text: pd.Series, order: str | None) -> str | None:
    """The strptime format of ``value`` (None: unknown); ``text`` decides day/month order."""
    if _iso_ok(value):
        return "ISO8601"
    for base, _ in _DATE_FORMATS:
        for suffix in _TIME_SUFFIXES:
            if _strptime_ok(value, base + suffix):
                return base + suffix
    match = _AMBIGUOUS.match(value)
    if not match:
        return None
    sep = match.group(2)
    year = "%Y" if len(match.group(4)) == 4 else "%y"
    if order is None:
        parts = text.str.extract(rf"^\s*(\d{{1,2}}){re.escape(sep)}(\d{{1,2}}){re.escape(sep)}")
        first = pd.to_numeric(parts[0], errors="coerce")
        second = pd.to_numeric(parts[1], errors="coerce")
        if (first > 12).any():
            order = "dmy"
        elif (second > 12).any():
            order = "mdy"
        else:
            return "AMBIGUOUS"
    base = f"%d{sep}%m{sep}{year}" if order == "dmy" else f"%m{sep}%d{sep}{year}"
    for suffix in _TIME_SUFFIXES:
        if _strptime_ok(value, base + suffix):
            return base + suffix
    return None


def _parse_dates(frame: pd.DataFrame, table: str, file: str, timezone: str, state: _SourceState | None = None, options: dict | None = None) -> pd.DataFrame:
    """Parse dates/timestamps (one format per column); naive timestamps are in the report's time zone."""
    state = state or _SourceState()
    options = options or {}
    for name, (kind, required) in TABLE_COLUMNS[table].items():
        if name not in frame or kind not in ("date", "timestamp"):
            continue
        frame[name] = _parse_date_column(frame[name], name, kind, required, file, timezone, state, options)
    return frame


def _parse_date_column(
    raw: pd.Series, name: str, kind: str, required: bool, file: str, timezone: str, state: _SourceState, options: dict
) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        parsed = raw
    else:
        array = _arrow(raw)
        if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
            target = pa.timestamp("ns", array.type.tz) if pa.types.is_timestamp(array.type) else pa.timestamp("ns")
            parsed = _with_index(pc.cast(array, target).to_pandas(), raw.index)
        else:
            if not _is_text(array):
                array = pc.cast(array, pa.string())
            parsed = _parse_date_text(array, raw.index, name, kind, file, state, options)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]")
    if kind == "date":
        ticks = parsed.to_numpy().view(np.int64)
        if (ticks % _DAY_NS != 0).any():  # NaT is a multiple of a day too
            parsed = parsed.dt.normalize()
    if required and parsed.hasnans:
        row = parsed.index[_first(parsed.isna().to_numpy())]
        raise data_error("value is missing", file=file, row=row, column=name)
    return parsed


_DAY_NS = 86_400 * 10**9


def _parse_date_text(
    array: pa.ChunkedArray, index: pd.Index, name: str, kind: str, file: str, state: _SourceState, options: dict
) -> pd.Series:
    text = _trim(array)
    placeholder = pc.fill_null(pc.is_in(pc.utf8_lower(text), pa.array(PLACEHOLDERS)), False)
    if pc.any(placeholder).as_py():
        text = pc.if_else(placeholder, pa.scalar(None, text.type), text)
    column = state.column(name)
    # fast path: plain ISO dates and timestamps without a zone
    if column.date_format in (None, "ISO8601"):
        try:
            cast = pc.cast(text, pa.timestamp("ns"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            cast = None
        if cast is not None:
            if column.date_format is None and len(cast) and cast.null_count < len(cast):
                column.date_format = "ISO8601"
            return _with_index(cast.to_pandas(), index)
    series = _to_str_series(text, index)
    valid = series.notna().to_numpy()
    if not valid.any():
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    fmt = options.get("date_format") or column.date_format
    if fmt is None:
        first = _first(valid)
        value = str(series.iloc[first])
        fmt = _detect_format(value, series[valid], options.get("date_order"))
        if fmt == "AMBIGUOUS":
            raise data_error(
                f"cannot tell day from month in '{value}' (every value could be either): "
                "set options.date_format, e.g. '%d/%m/%Y' or '%m/%d/%Y'",
                file=file,
                row=index[first],
                column=name,
            )
        if fmt is None:
            what = "an ISO date (YYYY-MM-DD)" if kind == "date" else "an ISO 8601 timestamp"
            raise data_error(f"cannot read '{value}' as {what}", file=file, row=index[first], column=name)
        column.date_format = fmt
        column.date_example = (int(index[first]) if isinstance(index[first], (int, np.integer)) else first, value)
    try:
        if fmt == "ISO8601":
            parsed = pd.to_datetime(series, format="ISO8601", errors="coerce")
        else:
            parsed = pd.to_datetime(series, format=fmt, errors="coerce")
    except (ValueError, TypeError) as exc:  # mixed naive and zoned timestamps
        raise data_error(f"mixes timestamps with and without time zone ({exc})", file=file, column=name) from None
    bad = (parsed.isna() & series.notna()).to_numpy()
    if bad.any():
        i = _first(bad)
        value = str(series.iloc[i])
        other = _detect_format(value, series[valid], options.get("date_order") or ("dmy" if "%d/%m" in fmt else "mdy" if "%m/%d" in fmt else None))
        if other not in (None, "AMBIGUOUS") and other != fmt:
            example = f" as in row {column.date_example[0]} ('{column.date_example[1]}')" if column.date_example else ""
            message = (
                f"mixes date formats: '{value}' is {_format_label(other)} but the column is "
                f"{_format_label(fmt)}{example}"
            )
        elif fmt == "ISO8601":
            what = "an ISO date (YYYY-MM-DD)" if kind == "date" else "an ISO 8601 timestamp"
            message = f"cannot read '{value}' as {what}"
        else:
            message = f"cannot read '{value}' as a date in the format {_format_label(fmt)}"
        raise data_error(message, file=file, row=index[i], column=name)
    return parsed


# --------------------------------------------------------------------------
# Rows: totals, duplicates
# --------------------------------------------------------------------------


_TOTAL_INITIALS = np.zeros(256, bool)
_TOTAL_INITIALS[[ord(c) for c in "TtSsGg"] + [9, 32, 0xC2, 0xEF]] = True


def _totals_mask(raw: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Rows labelled as totals ("Total", "Total: Account", "Grand Totals (12 records)", "Subtotal")."""
    mask = np.zeros(len(raw), bool)
    for column in columns:
        series = raw[column]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
            continue
        array = _arrow(series)
        if not _is_text(array):
            continue
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        if len(array) == 0:
            continue
        # only values starting with T, S or G (or a space) can be a totals label
        first, _, _ = _edges(array)
        initial = _TOTAL_INITIALS[first]
        candidates = np.flatnonzero(initial)
        if not len(candidates):
            continue
        hit = pc.fill_null(pc.match_substring_regex(array.take(pa.array(candidates)), _TOTALS), False)
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


def _duplicated_rows(parts: list[Any], raw: pd.DataFrame) -> np.ndarray:
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


def _duplicated(hashes: np.ndarray) -> np.ndarray:
    """Rows whose hash repeats an earlier row's (several chunks: the rows are gone by now)."""
    ordered = np.sort(hashes)
    if not (ordered[1:] == ordered[:-1]).any():
        return np.zeros(len(hashes), bool)
    return pd.Series(hashes).duplicated().to_numpy()


_DUCKDB: Any = None
_DUCKDB_LOCK = threading.Lock()


def _row_hashes(parts: list[pa.ChunkedArray | np.ndarray]) -> np.ndarray:
    """A 64-bit content hash per row over the given columns (stable across chunks), by DuckDB."""
    global _DUCKDB
    import duckdb

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


# --------------------------------------------------------------------------
# The normaliser
# --------------------------------------------------------------------------


def _select(raw: pd.DataFrame, source: SourceConfig, spec: dict, file: str) -> tuple[dict[str, pd.Series], dict[str, str]]:
    """The canonical columns the rows have (renamed, not copied) and, for each, its header;
    checks the required columns (constants from ``values`` count as present)."""
    table = source.table
    headers = [str(c) for c in raw.columns]
    columns: dict[str, pd.Series] = {}
    header_of: dict[str, str] = {}
    for position, header in enumerate(headers):
        target = source.columns.get(header, header)
        if target not in spec:
            continue
        if target in columns:
            raise data_error(
                f"both '{header_of[target]}' and '{header}' become column '{target}'; map only one of them",
                file=file,
                column=target,
            )
        columns[target] = raw.iloc[:, position]
        header_of[target] = header
    for column in source.values:
        if column not in spec:
            raise data_error(f"'values' sets '{column}', which table '{table}' does not have", file=file)
    missing = [c for c, (_, required) in spec.items() if required and c not in columns and c not in source.values]
    if missing:
        column = missing[0]
        renamed_from = [k for k, v in source.columns.items() if v == column]
        hint = _closest(renamed_from[0], headers) if renamed_from else ""
        hint = hint or _closest(column, headers)
        expected = f" (mapped from '{renamed_from[0]}', which the file does not have)" if renamed_from else ""
        raise data_error(f"missing required column '{column}' for table '{table}'{expected}{hint}", file=file, column=column)
    for column in source.values:
        columns.pop(column, None)  # a constant replaces the file's column
    return columns, header_of


def _constant(value: Any, kind: str, index: pd.Index, name: str, file: str, timezone: str) -> pd.Series:
    """A ``values`` constant as a column of the table's type."""
    n = len(index)
    if kind == "str":
        text = None if value is None else str(value).strip() or None
        return _with_index(pa.chunked_array([pa.repeat(pa.scalar(text, pa.large_string()), n)]).to_pandas(), index)
    if kind in ("number", "signed", "flag"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise data_error(f"'values' sets '{name}' to '{value}', which is not a number", file=file, column=name) from None
        if kind == "number" and number < 0:
            raise data_error(f"'values' sets '{name}' to {value}: must not be negative", file=file, column=name)
        return pd.Series(np.full(n, number), index=index, dtype="float64")
    parsed = _parse_date_column(pd.Series([str(value)], dtype=object), name, kind, True, file, timezone, _SourceState(), {})
    return pd.Series(np.full(n, parsed.iloc[0].to_datetime64()), index=index, dtype="datetime64[ns]")


_EMPTY_DTYPES = {"str": "str", "date": "datetime64[ns]", "timestamp": "datetime64[ns]", "number": "float64", "signed": "float64", "flag": "float64"}


class Normaliser:
    """Normalises one source's rows, one chunk at a time, with the same decisions for every chunk."""

    def __init__(self, source: SourceConfig, *, file: str, timezone: str = "UTC"):
        self.source = source
        self.file = file
        self.timezone = timezone
        self.table = source.table
        self.spec = TABLE_COLUMNS[source.table]
        self.options = {k: v for k, v in source.options.items() if k in CORE_OPTIONS}
        self.duplicates = str(self.options.get("duplicates", DUPLICATES_DEFAULT.get(source.table, "drop")))
        if self.duplicates not in ("drop", "keep", "error"):
            raise data_error(f"options.duplicates must be drop, keep or error, got '{self.duplicates}'", file=file)
        self.state = _SourceState()
        if "decimal" in self.options:
            self.state.decimal = self.state.forced_decimal = str(self.options["decimal"])
        # the first chunk's columns to compare rows on: hashed only if a second chunk comes
        self._pending: tuple[list[Any], pd.DataFrame] | None = None

    def __call__(self, raw: pd.DataFrame) -> pd.DataFrame:
        state, file, spec = self.state, self.file, self.spec
        if state.line_of is None and callable(raw.attrs.get(LINE_OF_ATTR)):
            state.line_of = raw.attrs[LINE_OF_ATTR]
        state.reader_findings.extend(raw.attrs.get(FINDINGS_ATTR, []))
        for key, value in (raw.attrs.get(OPTIONS_ATTR) or {}).items():
            if key in CORE_OPTIONS and key not in self.source.options:
                self.options[key] = value
                if key == "decimal":
                    state.decimal = state.forced_decimal = str(value)
        state.rows_read += len(raw)
        if any(not isinstance(c, str) or c != c.strip() for c in raw.columns):
            raw = raw.rename(columns=lambda c: str(c).strip())
        columns, header_of = _select(raw, self.source, spec, file)
        # totals and subtotal rows: the label sits in the first column or in a text or date column
        if len(raw) and len(raw.columns) and self._may_have_totals(columns):
            check = list(dict.fromkeys([str(raw.columns[0]), *(header_of[c] for c in columns if spec[c][0] in ("str", "date", "timestamp"))]))
            totals = _totals_mask(raw, check)
            if totals.any():
                rows = np.flatnonzero(totals)
                state.totals_count += len(rows)
                for i in rows[: max(0, 3 - len(state.totals))]:
                    cells = [raw.iloc[i][c] for c in check]
                    label = next((str(v) for v in cells if isinstance(v, str) and re.match(_TOTALS, v)), "")
                    state.totals.append((raw.index[i], label.strip()))
                raw = raw.loc[~totals]
                columns = {name: series.loc[~totals] for name, series in columns.items()}
        out: dict[str, pd.Series] = {}
        hash_parts: list[Any] = []
        # a text column read from a CSV may share its buffer with every other column of the
        # block: copy the ones kept when others are dropped, so dropped columns are freed
        copy_text = len(header_of) < len(raw.columns)
        for name, series in columns.items():
            kind, required = spec[name]
            if kind == "str":
                array = _arrow(series)
                if not _is_text(array):
                    array = pc.cast(array, pa.string()) if not pa.types.is_null(array.type) else pa.chunked_array([pa.nulls(len(series), pa.string())])
                trimmed = _trim(array)
                if trimmed is array and copy_text:
                    trimmed = pa.chunked_array([pc.take(c, pa.array(np.arange(len(c)))) for c in array.chunks], array.type)
                out[name] = series if trimmed is array and series.dtype == "str" else _to_str_series(trimmed, series.index)
                hash_parts.append(trimmed)
                if required and trimmed.null_count:
                    missing = out[name].isna().to_numpy()
                    raise data_error("value is missing", file=file, row=series.index[_first(missing)], column=name)
            elif kind in ("number", "signed", "flag"):
                values = _parse_numbers(series, name, kind, required, file, state)
                self._check_numbers(values, series.index, name, kind, required, series)
                out[name] = pd.Series(values, index=series.index, dtype="float64")
                hash_parts.append(values)
            else:
                out[name] = _parse_date_column(series, name, kind, required, file, self.timezone, state, self.options)
                hash_parts.append(out[name].to_numpy("datetime64[ns]").view(np.int64))
        index = raw.index
        if state.currency_codes and "currency" in spec and "currency" not in out and "currency" not in self.source.values:
            # the amounts carry their currency ('EUR 1.200,00'): keep it for the conversion
            codes = next(iter(state.currency_codes.values()))
            out["currency"] = _to_str_series(codes, index)
        state.currency_codes.clear()
        for name, value in self.source.values.items():
            out[name] = _constant(value, spec[name][0], index, name, file, self.timezone)
        result = _frame_of({name: out[name] for name in spec if name in out}, index)
        if self.duplicates != "keep" and len(result):
            # identical rows: the parsed columns, and every column of the export not read
            used = set(header_of.values())
            hash_parts.extend(_arrow(raw[c]) for c in raw.columns if c not in used)
            if state.chunks == 0:
                self._pending = (hash_parts, raw)
            else:
                if self._pending is not None:
                    state.hashes.append(_row_hashes(self._pending[0]))
                    self._pending = None
                state.hashes.append(_row_hashes(hash_parts))
            state.chunks += 1
        return result

    def _may_have_totals(self, columns: dict[str, pd.Series]) -> bool:
        """A totals row has no date, or a label where the date goes: a typed date column
        without gaps (Parquet, SQL, a clean CSV) rules them out."""
        for name, (kind, required) in self.spec.items():
            if required and kind in ("date", "timestamp") and name in columns:
                column = columns[name]
                if pd.api.types.is_datetime64_any_dtype(column.dtype) and not column.hasnans:
                    return False
        return True

    def _check_numbers(self, values: np.ndarray, index: pd.Index, name: str, kind: str, required: bool, raw: pd.Series) -> None:
        file = self.file
        missing = np.isnan(values)
        if required and missing.any():
            i = _first(missing)
            value = raw.iloc[i]
            shown = "" if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA else f" ('{value}')"
            raise data_error(f"value is missing{shown}", file=file, row=index[i], column=name)
        if kind == "number":
            negative = values < 0
            if negative.any():
                i = _first(negative)
                raise data_error(f"must not be negative, got {_shown(raw.iloc[i], values[i])}", file=file, row=index[i], column=name)
        elif kind == "flag":
            bad = ~missing & (values != 0) & (values != 1)
            if bad.any():
                i = _first(bad)
                raise data_error(f"must be 0 or 1, got {_shown(raw.iloc[i], values[i])}", file=file, row=index[i], column=name)
        infinite = np.isinf(values)
        if infinite.any():
            i = _first(infinite)
            raise data_error(f"cannot read '{raw.iloc[i]}' as a number", file=file, row=index[i], column=name)

    def finish(self, frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, list[Finding]]:
        """Stack the chunks, drop duplicate rows, and word what was changed."""
        state = self.state
        if frames:
            frame = pd.concat(frames) if len(frames) > 1 else frames[0]
        else:
            frame = _frame_of({c: pd.Series(dtype=_EMPTY_DTYPES[k]) for c, (k, r) in self.spec.items() if r}, pd.RangeIndex(0))
        findings = list(state.reader_findings)
        name = self.source.name
        duplicated = None
        if self._pending is not None and len(frame):
            duplicated = _duplicated_rows(*self._pending)
        elif state.hashes and len(frame):
            duplicated = _duplicated(np.concatenate(state.hashes))
        self._pending = None
        if duplicated is not None and duplicated.any():
            count = int(duplicated.sum())
            rows = [self.line(r) for r in frame.index[duplicated][:3]]
            where = ", ".join(str(r) for r in rows)
            if self.duplicates == "error":
                raise data_error(
                    f"{count} rows repeat an earlier row exactly (e.g. row {rows[0]}); set options.duplicates: drop or keep",
                    file=self.file,
                    row=rows[0],
                )
            frame = frame.loc[~duplicated]
            findings.append(
                Finding(
                    "warning",
                    "duplicate_rows",
                    count,
                    f"source '{name}': {count} {'row' if count == 1 else 'rows'} repeated an earlier row exactly and "
                    f"{'was' if count == 1 else 'were'} dropped ({'row' if len(rows) == 1 else 'rows'} {where}"
                    f"{', …' if count > 3 else ''}); set options.duplicates: keep to keep them",
                )
            )
        if state.totals_count:
            examples = ", ".join(f"row {self.line(r)} '{label}'" for r, label in state.totals)
            findings.append(
                Finding(
                    "info",
                    "totals_rows_dropped",
                    state.totals_count,
                    f"source '{name}': {state.totals_count} total/subtotal {'row was' if state.totals_count == 1 else 'rows were'} "
                    f"not read as data ({examples})",
                )
            )
        for column, count in state.placeholders.items():
            findings.append(
                Finding(
                    "info",
                    "placeholder_values",
                    count,
                    f"source '{name}': {count} {'cell' if count == 1 else 'cells'} of '{column}' held "
                    f"'{state.placeholder_examples[column]}' or a similar placeholder and were read as missing",
                )
            )
        return frame, findings

    def line(self, row: Any) -> Any:
        if self.state.line_of is None:
            return row
        try:
            return self.state.line_of(int(row))
        except Exception:  # the exact line is a nicety; never fail on it
            return row

    def remap(self, error: DataError) -> DataError:
        """The same error with the row turned into the exact line of the file."""
        if error.row is None or self.state.line_of is None or not hasattr(error, "detail"):
            return error
        return data_error(error.detail, file=error.file, row=self.line(error.row), column=error.column)


def _shown(raw_value: Any, number: float) -> str:
    if isinstance(raw_value, str):
        return raw_value.strip()
    return f"{number:g}"


def normalise_table(
    raw: pd.DataFrame,
    source: SourceConfig,
    *,
    file: str,
    timezone: str = "UTC",
    findings: list[Finding] | None = None,
) -> pd.DataFrame:
    """Rename, add constants, parse and validate rows read from one source.

    ``findings``, when given, receives what was dropped or read as missing.
    """
    normaliser = Normaliser(source, file=file, timezone=timezone)
    try:
        frame, notes = normaliser.finish([normaliser(raw)])
    except DataError as exc:
        raise normaliser.remap(exc) from None
    if findings is not None:
        findings.extend(notes)
    return frame


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Sha256:
    """A file's SHA-256, computed in a thread while the file is parsed (hashlib releases the GIL)."""

    def __init__(self, path: Path):
        import threading

        self._value: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._value = file_sha256(path)
        except BaseException as exc:  # pragma: no cover - reported by result()
            self._error = exc

    def result(self) -> str | None:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


@dataclass(frozen=True)
class LoadedSource:
    """One input as recorded in the JSON output and the manifest.

    ``findings`` holds what loading changed (rows dropped, cells read as
    missing, amounts converted): the data-quality section lists them.
    ``sha256`` is the file's checksum; it is computed in a background thread
    while the report is built and waited for when first read.
    """

    name: str
    table: str
    type: str
    path: Path | None
    rows: int
    checksum: str | _Sha256 | None
    findings: tuple[Finding, ...] = ()
    rows_read: int | None = None

    @property
    def sha256(self) -> str | None:
        if isinstance(self.checksum, _Sha256):
            return self.checksum.result()
        return self.checksum

    def as_json(self) -> dict[str, Any]:
        return {"source": self.name, "table": self.table, "rows": self.rows, "sha256": self.sha256}


def _iter_chunks(source_type: SourceType, source: SourceConfig, config: Config) -> Iterator[pd.DataFrame]:
    if source_type.chunks is not None:
        yield from source_type.chunks(source, config)
    else:
        yield source_type.read(source, config)


def load_source(config: Config, source: SourceConfig, source_type: SourceType) -> tuple[pd.DataFrame, LoadedSource]:
    """Read, normalise and convert (currency) one source."""
    from roistory import fx

    path = config.resolve(source.path) if source.path else None
    file = str(path) if path else source.name
    if path is not None and not path.exists():
        raise DataError("file not found", file=file)
    if path is not None:
        require_regular_file(path, file=file)  # a FIFO would block the read forever
    normaliser = Normaliser(source, file=file, timezone=config.report.timezone)
    sha: _Sha256 | None = None
    frames = []
    try:
        for chunk in _iter_chunks(source_type, source, config):
            if sha is None and path is not None and path.is_file():
                # started once the reader (multi-threaded) is done with the first block, so the
                # checksum runs on the core the single-threaded parsing leaves free
                sha = _Sha256(path)
            frames.append(normaliser(chunk))
        frame, findings = normaliser.finish(frames)
        frame, fx_findings = fx.convert_frame(frame, source.table, config, file=file, line=normaliser.line, source_name=source.name)
    except DataError as exc:
        raise without_outside_values(normaliser.remap(exc), path, config.base_dir) from None
    frames.clear()
    findings.extend(fx_findings)
    frame = frame.reset_index(drop=True)
    loaded = LoadedSource(
        source.name,
        source.table,
        source.type,
        path,
        len(frame),
        sha,
        tuple(findings),
        normaliser.state.rows_read,
    )
    return frame, loaded


def load_sources(
    config: Config, source_types: dict[str, SourceType]
) -> tuple[dict[str, pd.DataFrame], list[LoadedSource]]:
    """Read every configured source into the canonical tables (sources of one table are stacked).

    The rows of a table are its sources' rows in config order, so ``inputs`` (the second
    value) tells which rows came from which source: :mod:`roistory.history` relies on it.
    Money columns are in the report currency (:mod:`roistory.fx`).
    """
    parts: dict[str, list[pd.DataFrame]] = {}
    loaded = []
    for source in config.sources:
        frame, record = load_source(config, source, source_types[source.type])
        parts.setdefault(source.table, []).append(frame)
        loaded.append(record)
    tables = {name: _stack(frames) for name, frames in parts.items()}
    return tables, loaded


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    non_empty = [f for f in frames if len(f)] or frames[:1]
    stacked = pd.concat(non_empty, ignore_index=True)
    # a column only some sources have: keep its dtype (text stays text)
    for frame in frames:
        for column in frame.columns:
            if column in stacked and stacked[column].dtype == object and frame[column].dtype == "str":
                stacked[column] = stacked[column].astype("str")
    for column in {c for f in frames for c in f.columns} - set(stacked.columns):
        stacked[column] = pd.Series(index=stacked.index, dtype=next(f[column].dtype for f in frames if column in f))
    return stacked


def source_findings(inputs: Iterable[LoadedSource]) -> list[Finding]:
    """Everything loading changed, source by source (for the data-quality section)."""
    return [finding for source in inputs for finding in source.findings]


def rows_outside_period(tables: dict[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp) -> Finding | None:
    """Rows dated outside [start, end): kept (comparisons, trends, history), counted."""
    counts = {}
    for name, frame in tables.items():
        column = PERIOD_COLUMN.get(name)
        if column not in frame:
            continue
        values = frame[column]
        outside = int((values.notna() & ((values < start) | (values >= end))).sum())
        if outside:
            counts[name] = outside
    if not counts:
        return None
    total = sum(counts.values())
    detail = ", ".join(f"{n} {t}" for t, n in counts.items())
    return Finding(
        "info",
        "rows_outside_period",
        total,
        f"{total} rows fall outside the report period ({detail}); they are kept for comparisons and trends",
    )
