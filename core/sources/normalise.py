"""The normaliser: one source's raw rows renamed, completed, parsed and checked against its
canonical table, one chunk at a time with the same decisions for every chunk."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from roistory.errors import DataError
from roistory.i18n import N_, Nn_
from roistory.quality import Finding, Joined, Phrase
from roistory.sources._text import (
    as_arrow,
    first_true,
    frame_of,
    is_text,
    to_str_series,
    trim_text,
)
from roistory.sources.columns import constant_column, repeated_header_findings, select_columns
from roistory.sources.contract import (
    CORE_OPTIONS,
    DUPLICATE_HEADERS_ATTR,
    DUPLICATES_DEFAULT,
    FINDINGS_ATTR,
    HEADERS_ATTR,
    LINE_OF_ATTR,
    LOCALE_ATTR,
    OPTIONS_ATTR,
    TABLE_COLUMNS,
    closest_hint,
    data_error,
)
from roistory.sources.dates import date_order_from, parse_date_column
from roistory.sources.locales import TOTALS_LABEL, decimal_separator
from roistory.sources.numbers import parse_numbers
from roistory.sources.reconcile import reconcile_totals
from roistory.sources.rows import duplicated_rows, repeated_hashes, row_hashes, totals_mask
from roistory.sources.spread import spread_days
from roistory.sources.state import SourceState

if TYPE_CHECKING:
    from roistory.config import SourceConfig


_EMPTY_DTYPES = {
    "str": "str",
    "date": "datetime64[ns]",
    "timestamp": "datetime64[ns]",
    "number": "float64",
    "signed": "float64",
    "flag": "float64",
}


def _held(series: pd.Series) -> str:
    """What a column a parser could not cast holds, in words (a Parquet file can hold anything)."""
    present = series.dropna()
    value = present.iloc[0] if len(present) else None
    if isinstance(value, bytes):
        return "bytes that are not UTF-8 text"
    if isinstance(value, list | tuple | np.ndarray):
        return "lists"
    if isinstance(value, dict):
        return "records (structs)"
    return f"{type(value).__name__} values"


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
        self.state = SourceState()
        if source.locale:
            separator = decimal_separator(source.locale)
            if separator is None:
                raise data_error(
                    f"locale '{source.locale}' is not a language or locale code (e.g. nl, de_CH, pt_BR)", file=file
                )
            self.state.decimal = self.state.forced_decimal = separator
        if "decimal" in self.options:
            self.state.decimal = self.state.forced_decimal = str(self.options["decimal"])
        self.spread: np.ndarray | None = None  # per output row: part of a multi-day row
        self._date_order: str | None = None  # proven by the first chunk's date columns ('' = not)
        # the first chunk's columns to compare rows on: hashed only if a second chunk comes
        self._pending: tuple[list[Any], pd.DataFrame] | None = None

    def _column(self, name, series, kind_required, out, hash_parts, copy_text, file, state, options) -> None:
        """One column parsed by its kind (text, number, date) into ``out`` and ``hash_parts``."""
        kind, required = kind_required
        if kind == "str":
            array = as_arrow(series)
            if not is_text(array):
                array = (
                    pc.cast(array, pa.string())
                    if not pa.types.is_null(array.type)
                    else pa.chunked_array([pa.nulls(len(series), pa.string())])
                )
            trimmed = trim_text(array)
            if trimmed is array and copy_text:
                trimmed = pa.chunked_array([pc.take(c, pa.array(np.arange(len(c)))) for c in array.chunks], array.type)
            out[name] = series if trimmed is array and series.dtype == "str" else to_str_series(trimmed, series.index)
            hash_parts.append(trimmed)
            if required and trimmed.null_count:
                missing = out[name].isna().to_numpy()
                raise data_error("value is missing", file=file, row=series.index[first_true(missing)], column=name)
        elif kind in ("number", "signed", "flag"):
            values = parse_numbers(series, name, kind, required, file, state)
            self._check_numbers(values, series.index, name, kind, required, series)
            out[name] = pd.Series(values, index=series.index, dtype="float64")
            hash_parts.append(values)
        else:
            out[name] = parse_date_column(series, name, kind, required, file, self.timezone, state, options)
            hash_parts.append(out[name].to_numpy("datetime64[ns]").view(np.int64))

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
        if raw.attrs.get(LOCALE_ATTR) and state.language_decimal is None:
            state.language_decimal = decimal_separator(str(raw.attrs[LOCALE_ATTR]))
        attrs = dict(raw.attrs)
        state.rows_read += len(raw)
        if any(not isinstance(c, str) or c != c.strip() for c in raw.columns):
            raw = raw.rename(columns=lambda c: str(c).strip())
        if state.chunks == 0 and attrs.get(DUPLICATE_HEADERS_ATTR):
            state.reader_findings.extend(
                repeated_header_findings(raw, attrs[DUPLICATE_HEADERS_ATTR], self.source, spec, file)
            )
        columns, header_of = select_columns(raw, self.source, spec, file)
        # totals and subtotal rows: the label sits in the first column or in a text or date column
        if len(raw) and len(raw.columns) and self._may_have_totals(columns):
            check = list(
                dict.fromkeys(
                    [
                        str(raw.columns[0]),
                        *(header_of[c] for c in columns if spec[c][0] in ("str", "date", "timestamp")),
                    ]
                )
            )
            totals = totals_mask(raw, check)
            if totals.any():
                rows = np.flatnonzero(totals)
                state.totals_count += len(rows)
                numbers = [c for c in columns if spec[c][0] in ("number", "signed")]
                for i in rows[: max(0, 50 - len(state.total_rows))]:
                    cells = [raw.iloc[i][c] for c in check]
                    label = next(
                        (str(v) for v in cells if isinstance(v, str) and re.match(TOTALS_LABEL, v)), ""
                    ).strip()
                    if len(state.totals) < 3:
                        state.totals.append((raw.index[i], label))
                    # the platform's own totals, compared with the data rows' sum in finish()
                    state.total_rows.append((raw.index[i], label, {c: columns[c].iloc[i] for c in numbers}))
                raw = raw.loc[~totals]
                columns = {name: series.loc[~totals] for name, series in columns.items()}
        out: dict[str, pd.Series] = {}
        hash_parts: list[Any] = []
        # a text column read from a CSV may share its buffer with every other column of the
        # block: copy the ones kept when others are dropped, so dropped columns are freed
        copy_text = len(header_of) < len(raw.columns)
        # a number column with values that read two ways looks at the others (numbers.file_decimal)
        state.number_columns = {n: s for n, s in columns.items() if spec[n][0] in ("number", "signed", "flag")}
        options = self._with_date_order(columns)
        for name, series in columns.items():
            try:
                self._column(name, series, spec[name], out, hash_parts, copy_text, file, state, options)
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):  # lists, structs, bad UTF-8
                kind = {"str": "text", "flag": "number", "signed": "number"}.get(spec[name][0], spec[name][0])
                message = f"cannot be read as {kind}: it holds {_held(series)}"
                raise data_error(message, file=file, column=name) from None
        state.number_columns = {}
        index = raw.index
        if self.source.channel_map:
            out["channel"] = self._mapped_channel(raw, attrs, out.get("channel"))
        if (
            state.currency_codes
            and "currency" in spec
            and "currency" not in out
            and "currency" not in self.source.values
        ):
            # the amounts carry their currency ('EUR 1.200,00'): keep it for the conversion
            codes = next(iter(state.currency_codes.values()))
            out["currency"] = to_str_series(codes, index)
        state.currency_codes.clear()
        for name, value in self.source.values.items():
            out[name] = constant_column(value, spec[name][0], index, name, file, self.timezone)
        result = frame_of({name: out[name] for name in spec if name in out}, index)
        if self.duplicates != "keep" and len(result):
            # identical rows: the parsed columns, and every column of the export not read
            used = set(header_of.values())
            hash_parts.extend(as_arrow(raw[c]) for c in raw.columns if c not in used)
            if state.chunks == 0:
                self._pending = (hash_parts, raw)
            else:
                if self._pending is not None:
                    state.hashes.append(row_hashes(self._pending[0]))
                    self._pending = None
                state.hashes.append(row_hashes(hash_parts))
            state.chunks += 1
        return result

    def _with_date_order(self, columns: dict[str, pd.Series]) -> dict:
        """The options, with the day/month order another date column of the file proves when
        the report sets none (Meta's "Reporting ends" 31/01/2025 settles 01/01/2025)."""
        dates = [s for n, s in columns.items() if self.spec[n][0] in ("date", "timestamp")]
        if len(dates) < 2 or "date_order" in self.options or "date_format" in self.options:
            return self.options
        if self._date_order is None:
            self._date_order = date_order_from(dates) or ""
        return {**self.options, "date_order": self._date_order} if self._date_order else self.options

    def _mapped_channel(self, raw: pd.DataFrame, attrs: dict, current: pd.Series | None) -> pd.Series:
        """The channel from the source's ``channel_map`` ({column: {value: channel}}), over the
        channel the reader set; a row whose value the map lacks keeps that channel."""
        original = {str(header).casefold(): column for column, header in (attrs.get(HEADERS_ATTR) or {}).items()}
        headers = [str(c) for c in raw.columns]
        renamed = attrs.get(HEADERS_ATTR) or {}
        shown = [str(renamed.get(h, h)) for h in headers]  # the export's own names
        for column, mapping in self.source.channel_map.items():
            key = str(column).strip()
            name = next((h for h in headers if h.casefold() == key.casefold()), None) or original.get(key.casefold())
            if name is None or name not in raw.columns:
                raise data_error(
                    f"channel_map names column '{column}', which the file does not have{closest_hint(key, shown)}",
                    file=self.file,
                    column=key,
                )
            values = raw[name].astype("str").str.strip()
            lookup = {str(k).strip().casefold(): str(v) for k, v in mapping.items()}
            mapped = values.str.casefold().map(lookup)
            current = mapped if current is None else mapped.where(mapped.notna(), current)
            unmapped = current.isna().to_numpy()
            if unmapped.any():
                i = first_true(unmapped)
                raise data_error(
                    f"no channel for '{values.iloc[i]}': add it to channel_map.{column}",
                    file=self.file,
                    row=raw.index[i],
                    column="channel",
                )
        assert current is not None
        return current.astype("str")

    def _may_have_totals(self, columns: dict[str, pd.Series]) -> bool:
        """A totals row has no date, or a label where the date goes: a typed date column
        without gaps (Parquet, SQL, a clean CSV) rules them out."""
        for name, (kind, required) in self.spec.items():
            if required and kind in ("date", "timestamp") and name in columns:
                column = columns[name]
                if pd.api.types.is_datetime64_any_dtype(column.dtype) and not column.hasnans:
                    return False
        return True

    def _check_numbers(
        self, values: np.ndarray, index: pd.Index, name: str, kind: str, required: bool, raw: pd.Series
    ) -> None:
        file = self.file
        missing = np.isnan(values)
        if required and missing.any():
            i = first_true(missing)
            value = raw.iloc[i]
            shown = (
                ""
                if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA
                else f" ('{value}')"
            )
            raise data_error(f"value is missing{shown}", file=file, row=index[i], column=name)
        if kind == "number":
            negative = values < 0
            if negative.any():
                i = first_true(negative)
                raise data_error(
                    f"must not be negative, got {_shown(raw.iloc[i], values[i])}", file=file, row=index[i], column=name
                )
        elif kind == "flag":
            bad = ~missing & (values != 0) & (values != 1)
            if bad.any():
                i = first_true(bad)
                raise data_error(
                    f"must be 0 or 1, got {_shown(raw.iloc[i], values[i])}", file=file, row=index[i], column=name
                )
        infinite = np.isinf(values)
        if infinite.any():
            i = first_true(infinite)
            raise data_error(f"cannot read '{raw.iloc[i]}' as a number", file=file, row=index[i], column=name)

    def finish(self, frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, list[Finding]]:
        """Stack the chunks, drop duplicate rows, and word what was changed."""
        state = self.state
        if frames:
            frame = pd.concat(frames) if len(frames) > 1 else frames[0]
        else:
            frame = frame_of(
                {c: pd.Series(dtype=_EMPTY_DTYPES[k]) for c, (k, r) in self.spec.items() if r}, pd.RangeIndex(0)
            )
        findings = list(state.reader_findings)
        name = self.source.name
        duplicated = None
        if self._pending is not None and len(frame):
            duplicated = duplicated_rows(*self._pending)
        elif state.hashes and len(frame):
            duplicated = repeated_hashes(np.concatenate(state.hashes))
        self._pending = None
        if duplicated is not None and duplicated.any():
            count = int(duplicated.sum())
            rows = [self.line(r) for r in frame.index[duplicated][:3]]
            if self.duplicates == "error":
                raise data_error(
                    f"{count} rows repeat an earlier row exactly (e.g. row {rows[0]}); set options.duplicates: drop or "
                    "keep",
                    file=self.file,
                    row=rows[0],
                )
            frame = frame.loc[~duplicated]
            findings.append(
                Finding.of(
                    "warning",
                    "duplicate_rows",
                    count,
                    Nn_(
                        "source '{source}': {count} row repeated an earlier row exactly and was dropped (row {rows}); "
                        "set options.duplicates: keep to keep them",
                        "source '{source}': {count} rows repeated an earlier row exactly and were dropped (rows "
                        "{rows}); "
                        "set options.duplicates: keep to keep them",
                    ),
                    source=name,
                    # lines of the file, shown as the file numbers them
                    rows=Joined([str(r) for r in rows] + (["…"] if count > 3 else [])),
                )
            )
        findings.extend(reconcile_totals(frame, self.table, state, self._parse_total, source_name=name, line=self.line))
        frame, spread_findings, self.spread = spread_days(
            frame, self.table, file=self.file, source_name=name, line=self.line
        )
        findings.extend(spread_findings)
        for column, (row, value) in state.ambiguous.items():
            findings.append(
                Finding.of(
                    "warning",
                    "ambiguous_numbers",
                    1,
                    N_(
                        "source '{source}': '{column}' holds values such as '{value}' (row {row}) that read as a "
                        "thousands group or as a decimal part, and nothing in the file tells which: read with '.' as "
                        "the decimal separator; set options.decimal (',' or '.') or the source's locale to settle it"
                    ),
                    source=name,
                    column=column,
                    value=str(value),  # the cell as the file writes it
                    row=str(self.line(row)),
                )
            )
        if state.totals_count:
            # TRANSLATORS: a line of the file and the label of the total row on it
            examples = [
                Phrase(N_("row {row} '{label}'"), row=str(self.line(r)), label=str(label)) for r, label in state.totals
            ]
            findings.append(
                Finding.of(
                    "info",
                    "totals_rows_dropped",
                    state.totals_count,
                    Nn_(
                        "source '{source}': {count} total/subtotal row was not read as data ({examples})",
                        "source '{source}': {count} total/subtotal rows were not read as data ({examples})",
                    ),
                    source=name,
                    examples=Joined(examples),
                )
            )
        for column, count in state.placeholders.items():
            findings.append(
                Finding.of(
                    "info",
                    "placeholder_values",
                    count,
                    Nn_(
                        "source '{source}': {count} cell of '{column}' held '{value}' or a similar placeholder and "
                        "was read as missing",
                        "source '{source}': {count} cells of '{column}' held '{value}' or a similar placeholder and "
                        "were read as missing",
                    ),
                    source=name,
                    column=column,
                    value=str(state.placeholder_examples[column]),
                )
            )
        for column, count in state.open_ended.items():
            findings.append(
                Finding.of(
                    "info",
                    "open_ended_dates",
                    count,
                    Nn_(
                        "source '{source}': {count} date of '{column}' in year 9999 (an open end such as "
                        "9999-12-31) was read as no date",
                        "source '{source}': {count} dates of '{column}' in year 9999 (an open end such as "
                        "9999-12-31) were read as no date",
                    ),
                    source=name,
                    column=column,
                )
            )
        return frame, findings

    def _parse_total(self, raw: pd.Series, column: str) -> np.ndarray:
        """A total row's numbers, read with the decisions made for the data rows."""
        try:
            return parse_numbers(raw, column, "number", False, self.file, self.state.number_decisions())
        except DataError:
            return np.full(len(raw), np.nan)

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
