"""Dates and timestamps in one format per column: ISO 8601, else detected from the column's
values (``10/15/2026``, ``15.10.2026``, ``Oct 15, 2026``, ``20261015``, ...); a column mixing
formats, or whose day/month order cannot be told, is an error naming the row.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from roistory.sources._text import (
    PLACEHOLDERS,
    as_arrow,
    first_true,
    is_text,
    to_str_series,
    trim_text,
    with_index,
)
from roistory.sources.contract import data_error
from roistory.sources.locales import month_numbers
from roistory.sources.state import SourceState

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
        fmt.replace("%Y", "YYYY")
        .replace("%y", "YY")
        .replace("%m", "MM")
        .replace("%d", "DD")
        .replace("%H", "hh")
        .replace("%I", "hh")
        .replace("%M", "mm")
        .replace("%S", "ss")
        .replace("%p", "AM/PM")
        .replace("%b", "Mon")
        .replace("%B", "Month")
        .replace("%a", "Day")
        .replace("%A", "Day")
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


_ZONE = r"(?:Z|[+-]\d{2}:?\d{2})$"


def _zoned_instants(series: pd.Series, fmt: str, file: str, name: str, index: pd.Index) -> pd.Series:
    """Timestamps with different UTC offsets are instants: read them in UTC. A column where some
    have an offset and others none cannot be: name the first row that differs from the first."""
    text = series.astype("string").str.strip()
    zoned = text.str.contains(_ZONE, regex=True).fillna(False).to_numpy()
    present = text.notna().to_numpy()
    if (zoned | ~present).all():
        return pd.to_datetime(series, format=fmt, errors="coerce", utc=True)
    first = int(np.flatnonzero(present)[0])
    other = int(np.flatnonzero(present & (zoned != zoned[first]))[0])
    has = "has a time zone" if zoned[other] else "has no time zone"
    raise data_error(
        f"'{text.iloc[other]}' {has}, unlike '{text.iloc[first]}' (row {index[first]}): give every "
        "timestamp of the column a time zone, or none",
        file=file,
        row=index[other],
        column=name,
    )


def parse_date_column(
    raw: pd.Series, name: str, kind: str, required: bool, file: str, timezone: str, state: SourceState, options: dict
) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw.dtype) and str(raw.dtype).startswith("datetime64[ns"):
        parsed = raw  # nanoseconds: within pandas' range by construction
    else:
        array = as_arrow(raw)
        if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
            zone = array.type.tz if pa.types.is_timestamp(array.type) else None
            wide = pc.cast(array, pa.timestamp("us", zone))
            parsed = with_index(_supported(wide, raw.index, name, required, file, state).to_pandas(), raw.index)
        else:
            if not is_text(array):
                array = pc.cast(array, pa.string())
            parsed = _parse_date_text(array, raw.index, name, kind, required, file, state, options)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]")
    if kind == "date":
        ticks = parsed.to_numpy().view(np.int64)
        if (ticks % _DAY_NS != 0).any():  # NaT is a multiple of a day too
            parsed = parsed.dt.normalize()
    if required and parsed.hasnans:
        row = parsed.index[first_true(parsed.isna().to_numpy())]
        raise data_error("value is missing", file=file, row=row, column=name)
    return parsed


_DAY_NS = 86_400 * 10**9

# The instants a table can hold (pandas' nanosecond timestamps), in microseconds since 1970.
_FIRST_US = int((datetime(1677, 9, 22) - datetime(1970, 1, 1)).total_seconds()) * 10**6
_LAST_US = int((datetime(2262, 4, 11, 23, 47, 16) - datetime(1970, 1, 1)).total_seconds()) * 10**6
SUPPORTED_DATES = "1677-09-22..2262-04-11"
# Open-ended sentinels: CRM exports write "no end" as a date in year 9999 (9999-12-31,
# 9999-12-31 23:59:59, 31/12/9999). Where a date may be missing it is read as missing
# (counted in the data-quality findings); where one is required it is out of range.
OPEN_ENDED_YEAR = 9999
_OPEN_ENDED_US = int((datetime(OPEN_ENDED_YEAR, 1, 1) - datetime(1970, 1, 1)).total_seconds()) * 10**6


def _supported(
    wide: pa.ChunkedArray | pa.Array,
    index: pd.Index,
    name: str,
    required: bool,
    file: str,
    state: SourceState,
    written: pd.Series | pa.ChunkedArray | None = None,
) -> pa.ChunkedArray | pa.Array:
    """``wide`` (microsecond timestamps) as nanosecond timestamps, with open-ended sentinels
    as missing; any other date outside SUPPORTED_DATES is an error naming its row."""
    ticks = pc.cast(wide, pa.int64())
    open_ended = pc.fill_null(pc.greater_equal(ticks, _OPEN_ENDED_US), False)
    outside = pc.fill_null(pc.or_(pc.less(ticks, _FIRST_US), pc.greater(ticks, _LAST_US)), False)
    if not required:
        outside = pc.and_(outside, pc.invert(open_ended))
    if pc.any(outside).as_py():
        i = first_true(
            outside.to_numpy(zero_copy_only=False)
            if isinstance(outside, pa.Array)
            else np.concatenate([c.to_numpy(zero_copy_only=False) for c in outside.chunks])
        )
        if written is not None:  # as the file writes it, so it can be found there
            value = str(written.iloc[i] if isinstance(written, pd.Series) else written[i].as_py()).strip()
        else:
            try:
                moment = wide[i].as_py()
                value = str(moment.date() if moment.time() == datetime.min.time() else moment)
            except (OverflowError, ValueError):  # before the year 1 or after 9999: Python has no such datetime
                value = f"year {1970 + ticks[i].as_py() // 31_556_952_000_000}"  # µs in a Gregorian year
        raise data_error(_outside_message(value), file=file, row=index[i], column=name)
    count = pc.sum(open_ended).as_py() or 0
    if count:
        state.open_ended[name] = state.open_ended.get(name, 0) + count
        wide = pc.if_else(open_ended, pa.scalar(None, wide.type), wide)
    return pc.cast(wide, pa.timestamp("ns", wide.type.tz))


def _outside_message(value: str) -> str:
    hint = f" (a date in {OPEN_ENDED_YEAR} means 'no end' only where a date may be missing)"
    return f"the date '{value}' is outside the supported dates {SUPPORTED_DATES}" + (
        hint if str(OPEN_ENDED_YEAR) in value else ""
    )


def _parse_date_text(
    array: pa.ChunkedArray,
    index: pd.Index,
    name: str,
    kind: str,
    required: bool,
    file: str,
    state: SourceState,
    options: dict,
) -> pd.Series:
    text = trim_text(array)
    placeholder = pc.fill_null(pc.is_in(pc.utf8_lower(text), pa.array(PLACEHOLDERS)), False)
    if pc.any(placeholder).as_py():
        text = pc.if_else(placeholder, pa.scalar(None, text.type), text)
    column = state.column(name)
    # fast path: plain ISO dates and timestamps without a zone
    if column.date_format in (None, "ISO8601"):
        try:
            cast = pc.cast(text, pa.timestamp("us"))  # wider than pandas' range: checked next
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            cast = None
        if cast is not None:
            if column.date_format is None and len(cast) and cast.null_count < len(cast):
                column.date_format = "ISO8601"
            return with_index(_supported(cast, index, name, required, file, state, text).to_pandas(), index)
    series = to_str_series(text, index)
    valid = series.notna().to_numpy()
    if not valid.any():
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    fmt = options.get("date_format") or column.date_format
    if fmt is None:
        first = first_true(valid)
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
    except (ValueError, TypeError):  # several UTC offsets, or timestamps with and without one
        parsed = _zoned_instants(series, fmt, file, name, index)
    bad = (parsed.isna() & series.notna()).to_numpy()
    for i in np.flatnonzero(bad):  # a real date pandas cannot hold: open-ended or out of range
        value = str(series.iloc[i])
        year = _year_of(value, fmt)
        if year is None:
            break  # not a date at all: the error below says why
        if year != OPEN_ENDED_YEAR or required:
            raise data_error(_outside_message(value), file=file, row=index[i], column=name)
        state.open_ended[name] = state.open_ended.get(name, 0) + 1
        bad[i] = False
    if bad.any():
        i = first_true(bad)
        value = str(series.iloc[i])
        other = _detect_format(
            value,
            series[valid],
            options.get("date_order") or ("dmy" if "%d/%m" in fmt else "mdy" if "%m/%d" in fmt else None),
        )
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
    # pandas may hold dates beyond its nanosecond range in microseconds (year 1000, 9999)
    zone = getattr(parsed.dt, "tz", None)
    wide = pa.array(parsed.dt.as_unit("us"), type=pa.timestamp("us", str(zone) if zone else None))
    return with_index(_supported(wide, index, name, required, file, state, series).to_pandas(), index)


def _year_of(value: str, fmt: str) -> int | None:
    """The year of ``value`` read with ``fmt`` by Python (years 1 to 9999), None if it is no date."""
    try:
        if fmt == "ISO8601":
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).year
        return datetime.strptime(value.strip(), fmt).year
    except ValueError:
        return None


# --------------------------------------------------------------------------
# Date ranges in title lines ("July 8, 2025 - July 31, 2025", "9 mei 2020 - 7 juni 2020")
# --------------------------------------------------------------------------

_RANGE_SEPARATOR = re.compile(r"\s+[-–—]\s+|\s*[～~〜至]\s*")
_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def date_range_in(lines: list[str]) -> tuple[date, date] | None:
    """The first "start - end" date range written in words in one of ``lines`` (month names
    in the languages of :func:`roistory.sources.locales.month_numbers`, ISO dates, or
    2025年7月8日), or None (e.g. a line saying "All time")."""
    for line in lines:
        parts = _RANGE_SEPARATOR.split(line.strip().strip('"'))
        if len(parts) != 2:
            continue
        start, end = _written_date(parts[0]), _written_date(parts[1])
        if start is not None and end is not None and start <= end:
            return start, end
    return None


def _written_date(text: str) -> date | None:
    """One date written as a person reads it, or None when it is not one (or reads two ways)."""
    for pattern, order in ((_CJK_DATE, (0, 1, 2)), (_ISO_DATE, (0, 1, 2))):
        match = pattern.search(text)
        if match:
            year, month, day = (int(match.group(i + 1)) for i in order)
            return _date_or_none(year, month, day)
    months = month_numbers()
    year = month = day = None
    for token in re.findall(r"\d+|[^\W\d_]+\.?", text.casefold()):
        if token.isdigit():
            if len(token) == 4 and year is None:
                year = int(token)
            elif len(token) <= 2 and day is None:
                day = int(token)
            else:
                return None
        elif token in months or token.rstrip(".") in months:
            if month is not None:
                return None
            month = months.get(token, months.get(token.rstrip(".")))
        elif token.rstrip(".") not in ("de", "del", "di", "den"):  # "8 de julio de 2025"
            return None
    if year is None or month is None or day is None:
        return None
    return _date_or_none(year, month, day)


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def date_order_from(columns: list[pd.Series]) -> str | None:
    """Day/month order ('dmy' or 'mdy') that any of a file's date columns proves (a first
    number above 12, or a second), so a column whose own values could be either (01/01/2025)
    follows its sibling (31/01/2025); None when none proves it or they disagree."""
    orders = set()
    for column in columns:
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            continue
        parts = column.astype("str").str.extract(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b")
        first = pd.to_numeric(parts[0], errors="coerce")
        second = pd.to_numeric(parts[1], errors="coerce")
        if (first > 12).any():
            orders.add("dmy")
        if (second > 12).any():
            orders.add("mdy")
    return orders.pop() if len(orders) == 1 else None
