"""Numbers as exports write them: currency symbols and codes, ``1.234,56`` and ``1,234.56``,
percent signs, ``(5.00)`` negatives, placeholders such as ``--``.

A clean column costs one cast; only a column that needs it pays for cleaning.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from roistory.sources._text import PLACEHOLDERS, as_arrow, first_true, is_text, trim_text
from roistory.sources.contract import data_error
from roistory.sources.state import SourceState

_CURRENCY_PREFIX = (
    r"^(?:[A-Z]{3}\s*|US\$|CA\$|A\$|AU\$|NZ\$|HK\$|S\$|R\$|Mex\$|[$€£¥₹₩₽₺₫₱฿]|kr\.?\s|zł\s|CHF\s|Rp\.?\s?)"
)
_CURRENCY_SUFFIX = r"(?:\s*[A-Z]{3}|\s*[$€£¥₹₩₽₺₫₱฿]|\s?kr\.?|\s?zł|\s?Kč|\s?Ft)$"
_NUMBER_DOT = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][-+]?\d+)?$")
_NUMBER_COMMA = re.compile(r"^-?(\d{1,3}(\.\d{3})+|\d+)?(,\d+)?$")


# A value with one separator followed by exactly three digits ("1.053", "1,053") reads two
# ways: a thousands group (1053) or a decimal part (1.053). Only other values decide it.
_TWO_WAYS = r"^[-+]?[1-9]\d{0,2}[.,]\d{3}$"  # ("0.125" is a decimal: no group starts with 0)


def _any_two_ways(array: pa.ChunkedArray) -> bool:
    """Does a value read two ways ("1.053")? Cheap kernels first (a dot with exactly three
    characters after it, one to three before), the pattern only on those candidates."""
    dot = pc.find_substring(array, ".")
    after = pc.subtract(pc.binary_length(array), dot)
    candidate = pc.and_(pc.and_(pc.greater_equal(dot, 1), pc.less_equal(dot, 4)), pc.equal(after, 4))
    candidate = pc.fill_null(candidate, False)
    if not pc.any(candidate).as_py():
        return False
    return bool(pc.any(pc.match_substring_regex(pc.filter(array, candidate), _TWO_WAYS)).as_py())


def _number_votes(text: pa.ChunkedArray) -> tuple[int, int]:
    """(votes for '.' as the decimal separator, votes for ',') from the values that decide it:
    both separators in one value, a separator repeated (only grouping repeats), or a single
    separator followed by anything but exactly three digits, or after a lone 0 (a decimal part)."""

    def count(pattern: str) -> int:
        return pc.sum(pc.match_substring_regex(text, pattern)).as_py() or 0

    dot = (
        count(r"\d,\d{3}\.\d")
        + count(r"\d,\d{3},\d{3}")
        + count(r"^[^,]*\d?\.(\d{1,2}|\d{4,})\D*$")
        + count(r"^\D*0\.\d+\D*$")
    )
    comma = (
        count(r"\d\.\d{3},\d")
        + count(r"\d\.\d{3}\.\d{3}")
        + count(r"^[^.]*\d?,(\d{1,2}|\d{4,})\D*$")
        + count(r"^\D*0,\d+\D*$")
    )
    return dot, comma


def file_decimal(state: SourceState, name: str) -> str | None:
    """The decimal separator the file's other number columns show (None: no evidence, or
    they disagree), computed once per source."""
    if state.file_decimal is None:
        dot = comma = 0
        for other, series in state.number_columns.items():
            if other == name or pd.api.types.is_numeric_dtype(series.dtype):
                continue
            array = as_arrow(series)
            if is_text(array):
                votes = _number_votes(array)
                dot, comma = dot + votes[0], comma + votes[1]
        state.file_decimal = "." if dot and not comma else "," if comma and not dot else ""
    return state.file_decimal or None


def parse_numbers(series: pd.Series, name: str, kind: str, required: bool, file: str, state: SourceState) -> np.ndarray:
    """A number column as float64 (NaN = missing); raises naming the first bad row."""
    index = series.index
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    array = as_arrow(series)
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
        return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_boolean(array.type):
        return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
    if not is_text(array):
        array = pc.cast(array, pa.string())
    # fast path: every cell a plain number, and none that reads two ways ("1.053") unless
    # the separator is already known to be '.'
    decimal = state.forced_decimal or state.column(name).decimal
    if decimal != ",":
        try:
            values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = None
        # 'nan' and 'inf' cast too: only accept when NaN means an empty cell
        if values is not None and int(np.isnan(values).sum()) == array.null_count and not np.isinf(values).any():
            if decimal == "." or not _any_two_ways(array):
                return values
    return _parse_number_text(array, index, name, required, file, state)


_MONEY = {"cost", "revenue", "amount", "mrr"}
_SYMBOLS = {
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₫": "VND",
    "₱": "PHP",
    "฿": "THB",
}


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
    array: pa.ChunkedArray, index: pd.Index, name: str, required: bool, file: str, state: SourceState
) -> np.ndarray:
    text = trim_text(array)
    lowered = pc.utf8_lower(text)
    placeholder = pc.fill_null(pc.is_in(lowered, pa.array(PLACEHOLDERS)), False)
    n_placeholders = pc.sum(placeholder).as_py() or 0
    if n_placeholders:
        where = placeholder.to_numpy(zero_copy_only=False)
        row, value = index[first_true(where)], text[first_true(where)].as_py()
        if required:
            raise data_error(
                f"'{value}' is not a number (a required value cannot be a placeholder)", file=file, row=row, column=name
            )
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
    decimal = _decimal_of(clean, index, name, file, state)
    pattern = _NUMBER_DOT if decimal == "." else _NUMBER_COMMA
    well_formed = pc.match_substring_regex(clean, pattern.pattern)
    bad = pc.and_(pc.is_valid(clean), pc.invert(pc.fill_null(well_formed, False)))
    bad = pc.or_(bad, pc.fill_null(pc.equal(clean, "-"), False))
    bad_mask = pc.fill_null(bad, False).to_numpy(zero_copy_only=False)
    if bad_mask.any():
        i = first_true(bad_mask)
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


def _decimal_of(clean: pa.ChunkedArray, index: pd.Index, name: str, file: str, state: SourceState) -> str:
    """Which separator is the decimal point, in this order: options.decimal or the source's
    locale; this column's own values; the file's other number columns; the file's language.
    Values that read two ways with no evidence at all are read with '.' and reported."""
    decimal = state.forced_decimal or state.column(name).decimal
    if decimal is not None:
        return decimal
    dot, comma = _number_votes(clean)
    if dot and comma:
        # each style's first value, to name in the error
        first_comma = pc.match_substring_regex(clean, r"\d\.\d{3},\d|\d\.\d{3}\.\d{3}|^[^.]*\d?,(\d{1,2}|\d{4,})\D*$")
        where = pc.fill_null(first_comma, False).to_numpy(zero_copy_only=False)
        raise data_error(
            f"mixes number styles: '{clean[first_true(where)].as_py()}' uses ',' as the decimal separator "
            "where other rows use '.' (set options.decimal)",
            file=file,
            row=index[first_true(where)],
            column=name,
        )
    decimal = "." if dot else "," if comma else state.decimal or file_decimal(state, name) or state.language_decimal
    if decimal is None:
        two_ways = pc.fill_null(pc.match_substring_regex(clean, _TWO_WAYS), False).to_numpy(zero_copy_only=False)
        if two_ways.any() and name not in state.ambiguous:
            i = first_true(two_ways)
            state.ambiguous[name] = (index[i], clean[i].as_py())
        return "."
    state.column(name).decimal = decimal
    state.decimal = state.decimal or decimal
    return decimal
