"""Reading files as the tools export them: CSV, Excel and Parquet readers and export formats.

The built-in ``csv``, ``excel`` and ``parquet`` source types (plugins/file_sources.py)
and every connector read through these helpers.

CSV files are read as they come out of the tools: the encoding (UTF-8 with or
without BOM, UTF-16 as LinkedIn and Google Ads' "Excel CSV" write it,
Windows-1252/Latin-1), the delimiter (``,`` ``;`` tab ``|``) and title lines
above the header are detected; single-field lines that do not fit the table
(report footers) are skipped and counted; every cell is read as text and the
core parses it. Big files are streamed in blocks, so memory stays bounded.

The index of every frame is the row number quoted in error messages: a CSV's
line number (the header being the line after any title lines), an Excel
sheet's row number, a Parquet file's row (1-based).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from roistory.errors import DataError
from roistory.extras import require_extra
from roistory.quality import Finding
from roistory.safety import require_regular_file
from roistory.sources.contract import (
    CORE_OPTIONS,
    FINDINGS_ATTR,
    HEADERS_ATTR,
    LOCALE_ATTR,
    OPTIONS_ATTR,
    TABLE_COLUMNS,
    TITLE_ATTR,
    check_options,
)
from roistory.sources.csv_reader import (
    CSV_OPTIONS,
    STREAM_ABOVE_BYTES,
    CsvFile,
    arrow_to_frame,
    text_columns_of,
    unique_headers,
)
from roistory.sources.locales import decimal_separator

if TYPE_CHECKING:
    from roistory.config import Config, SourceConfig

EXCEL_OPTIONS = {"sheet", "skiprows"} | CORE_OPTIONS
PARQUET_OPTIONS = {"chunk_rows"} | CORE_OPTIONS


# --------------------------------------------------------------------------
# Parquet
# --------------------------------------------------------------------------


def _wanted_columns(source: SourceConfig, names: list[str]) -> list[str]:
    """The file's columns the source needs (those renamed to, or named as, canonical columns)."""
    spec = TABLE_COLUMNS[source.table]
    wanted = [n for n in names if source.columns.get(n, n) in spec]
    return wanted or names


def _parquet(source: SourceConfig, config: Config):
    import pyarrow.parquet as pq  # loaded only when a Parquet source is read

    path = config.resolve(source.path or "")
    check_options(source, PARQUET_OPTIONS, "parquet", str(path))
    require_regular_file(path)
    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise DataError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    return path, handle


def _large_strings(schema: pa.Schema, columns: list[str]) -> pa.Schema:
    """The schema to read: text as large_string, which pandas' ``str`` columns use as they are
    (read as ``string`` it would be copied into large_string by ``to_pandas``)."""
    fields = []
    for name in columns:
        field_ = schema.field(name)
        if pa.types.is_string(field_.type):
            field_ = field_.with_type(pa.large_string())
        fields.append(field_)
    return pa.schema(fields)


def read_parquet(source: SourceConfig, config: Config) -> pd.DataFrame:
    import pyarrow.parquet as pq  # loaded only when a Parquet source is read

    path, handle = _parquet(source, config)
    columns = _wanted_columns(source, handle.schema_arrow.names)
    try:
        table = pq.read_table(path, columns=columns, schema=_large_strings(handle.schema_arrow, columns))
    except Exception as exc:
        raise DataError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    return arrow_to_frame(table, 1)


def parquet_chunks(source: SourceConfig, config: Config) -> Iterator[pd.DataFrame]:
    path, handle = _parquet(source, config)
    rows = int(source.options.get("chunk_rows", 0)) or None
    if rows is None and path.stat().st_size <= STREAM_ABOVE_BYTES:
        yield read_parquet(source, config)
        return
    columns = _wanted_columns(source, handle.schema_arrow.names)
    start = 1
    try:
        for batch in handle.iter_batches(batch_size=rows or 1_000_000, columns=columns):
            frame = arrow_to_frame(pa.Table.from_batches([batch]), start)
            start += len(frame)
            yield frame
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"cannot read as Parquet: {exc}", file=str(path)) from None


# --------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------


def read_excel(source: SourceConfig, config: Config) -> pd.DataFrame:
    """One sheet of an .xlsx workbook (``options.sheet``: a name, default the first sheet).

    Title rows above the header are skipped as for CSV; the index is the sheet's row number.
    """
    path = config.resolve(source.path or "")
    file = str(path)
    options = check_options(source, EXCEL_OPTIONS, "excel", file)
    openpyxl = require_extra("openpyxl", "excel", needed_for="reading .xlsx files")
    require_regular_file(path, file=file)
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head.startswith(b"PK\x03\x04"):
        what = (
            "an old .xls workbook (save it as .xlsx)"
            if head.startswith(b"\xd0\xcf\x11\xe0")
            else "not an .xlsx workbook"
        )
        raise DataError(f"cannot read as Excel: {what}", file=file)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise DataError(f"cannot read as Excel: {exc}", file=file) from None
    try:
        sheet_name = options.get("sheet")
        if sheet_name is None:
            sheet = book.worksheets[0]
        elif str(sheet_name) in book.sheetnames:
            sheet = book[str(sheet_name)]
        else:
            raise DataError(f"has no sheet '{sheet_name}' (sheets: {', '.join(book.sheetnames)})", file=file)
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    widths = [sum(v is not None and str(v).strip() != "" for v in r) for r in rows]
    if not any(widths):
        raise DataError(f"sheet '{sheet.title}' is empty", file=file)
    if "skiprows" in options:
        header_at = int(options["skiprows"])
    else:
        modal = max(set(w for w in widths if w), key=[w for w in widths if w].count)
        header_at = next(i for i, w in enumerate(widths) if w >= modal)
    header = unique_headers(["" if v is None else str(v) for v in rows[header_at]])
    body = rows[header_at + 1 :]
    keep = [i for i, r in enumerate(body) if any(v is not None and str(v).strip() != "" for v in r)]
    data = {name: [body[i][j] if j < len(body[i]) else None for i in keep] for j, name in enumerate(header)}
    frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in data.items()})
    frame.index = pd.Index([header_at + 2 + i for i in keep])
    for name in frame.columns:
        frame[name] = _excel_column(frame[name])
    skipped = len(body) - len(keep)
    if skipped:
        frame.attrs[FINDINGS_ATTR] = []  # blank rows are not data; nothing to count
    frame.attrs[TITLE_ATTR] = [" ".join(str(v) for v in row if v is not None).strip() for row in rows[:header_at]]
    return frame


def _excel_column(values: pd.Series) -> pd.Series:
    """Cells of one type keep it (numbers, dates); a mixed column becomes text."""
    present = values.dropna()
    if present.empty:
        return values.astype("str")
    kinds = {type(v) for v in present}
    if kinds <= {int, float}:
        return pd.to_numeric(values, errors="coerce")
    if kinds <= {dt.datetime, dt.date}:
        return pd.to_datetime(values, errors="coerce")
    return values.map(
        lambda v: None if v is None else (v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else str(v))
    ).astype("str")


# --------------------------------------------------------------------------
# Exports of known tools (used by the platform plugins)
# --------------------------------------------------------------------------


def _norm(header: str) -> str:
    return " ".join(str(header).replace("\u00a0", " ").split()).casefold()


@dataclass(frozen=True)
class ExportFormat:
    """The documented columns of a tool's export and the canonical column each becomes.

    ``aliases`` maps a canonical column to the headers the tool uses for it (first found
    wins; matched case-insensitively; a header ending in ``(*)`` matches any bracketed
    suffix, as in Meta's "Amount spent (USD)"). ``required`` names the canonical columns
    without which the file is not this export. ``defaults`` are core options the format
    implies (e.g. ``date_order: mdy``); ``language_defaults`` change them for a file in one
    UI language (``None`` drops one).
    """

    name: str
    aliases: dict[str, tuple[str, ...]]
    required: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    # language -> {canonical column: headers in that UI language}, to tell the file's language
    languages: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    language_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def in_languages(cls, name: str, languages: dict[str, dict[str, tuple[str, ...]]], **kwargs: Any) -> ExportFormat:
        """A format whose headers come in several UI languages (the first language's first)."""
        aliases: dict[str, tuple[str, ...]] = {}
        for columns in languages.values():
            for column, headers in columns.items():
                aliases[column] = tuple(dict.fromkeys([*aliases.get(column, ()), *headers]))
        return cls(name, aliases, languages=languages, **kwargs)

    def language(self, headers: list[str]) -> str | None:
        """The UI language the headers are in, when they tell it: each header votes for the
        languages using it if those languages write numbers alike (nl and de both write
        1.234,56; es_419 and it do not)."""
        votes: dict[str, int] = {}
        for header in {_norm(h) for h in headers}:
            using = [
                lang
                for lang, columns in self.languages.items()
                if any(_norm(n) == header for names in columns.values() for n in names)
            ]
            if using and len({decimal_separator(lang) for lang in using}) == 1:
                votes[using[0]] = votes.get(using[0], 0) + 1
        return max(votes, key=votes.__getitem__) if votes else None

    def match(self, headers: list[str]) -> dict[str, str]:
        """header -> canonical column, for the headers this format knows."""
        normalised = {_norm(h): h for h in headers}
        found: dict[str, str] = {}
        for target, names in self.aliases.items():
            for name in names:
                key = _norm(name)
                if key.endswith("(*)"):
                    prefix = key[:-3].rstrip()
                    hit = next(
                        (
                            h
                            for n, h in normalised.items()
                            if (n == prefix or n.startswith(prefix + " (")) and h not in found
                        ),
                        None,
                    )
                else:
                    hit = normalised.get(key)
                    hit = hit if hit not in found else None
                if hit is not None:
                    found[hit] = target
                    break
        return found

    def looks_like_header(self, cells: list[str]) -> bool:
        known = {_norm(n).removesuffix("(*)").rstrip() for names in self.aliases.values() for n in names}
        hits = sum(1 for c in cells if _norm(c) in known or any(_norm(c).startswith(k) for k in known if len(k) > 6))
        return hits >= 2


EXPORT_OPTIONS = CSV_OPTIONS | {"sheet"}


def read_export(
    source: SourceConfig,
    config: Config,
    export: ExportFormat,
    *,
    allowed: set[str] = EXPORT_OPTIONS,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read a tool's export (CSV/TSV in any encoding, or .xlsx) and rename its known headers.

    Headers the report maps itself (``columns:``) are left to that map. Returns the frame
    (every other column kept, for the duplicate check) and the header -> column map used.
    """
    path = config.resolve(source.path or "")
    file = str(path)
    options = check_options(source, allowed, export.name, file)
    if path.is_dir():
        raise DataError("is a folder, not a file", file=file)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = read_excel(
            source.model_copy(update={"options": {k: v for k, v in options.items() if k in EXCEL_OPTIONS}}), config
        )
    else:
        options.pop("sheet", None)
        renames: dict[str, str] = {}
        # the header line: the first with two of the export's known column names
        reader = CsvFile(path, options, header_hint=export.looks_like_header, text_columns=None)
        renames = export.match(reader.columns)
        reader.text_columns = text_columns_of(source, renames)
        frame = reader.read()
        frame.attrs[TITLE_ATTR] = reader.title_lines()
    headers = [str(c).strip() for c in frame.columns]
    frame.columns = headers
    mapping = {
        h: t for h, t in export.match(headers).items() if h not in source.columns and t not in source.columns.values()
    }
    targets = set(mapping.values()) | set(source.columns.values()) | set(source.values)
    missing = [c for c in export.required if c not in targets]
    if missing:
        expected = export.aliases[missing[0]][0].replace("(*)", "(…)")
        hint = ""
        close = difflib.get_close_matches(expected, headers, n=1, cutoff=0.5)
        if close:
            hint = f" (did you mean '{close[0]}'? map it with columns: {{'{close[0]}': {missing[0]}}})"
        raise DataError(
            f"is not a {export.name} export as expected: no '{expected}' column{hint}",
            file=file,
            column=expected,
        )
    frame = frame.rename(columns=mapping)
    frame.attrs[HEADERS_ATTR] = {column: header for header, column in mapping.items()}
    language = export.language(headers)
    if language:
        frame.attrs[LOCALE_ATTR] = language
    defaults = dict(frame.attrs.get(OPTIONS_ATTR) or {})
    defaults.update(export.defaults)
    for option, value in export.language_defaults.get(language or "", {}).items():
        if value is None:
            defaults.pop(option, None)
        else:
            defaults[option] = value
    frame.attrs[OPTIONS_ATTR] = defaults
    return frame, mapping


def add_findings(frame: pd.DataFrame, *findings: Finding) -> pd.DataFrame:
    frame.attrs[FINDINGS_ATTR] = [*frame.attrs.get(FINDINGS_ATTR, []), *findings]
    return frame


def set_default(frame: pd.DataFrame, source: SourceConfig, column: str, value: Any) -> None:
    """A column the export lacks (e.g. the channel), unless the report sets or maps it."""
    if column not in frame.columns and column not in source.values and column not in source.columns.values():
        frame[column] = value
