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

import codecs
import csv
import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from roistory.errors import DataError
from roistory.extras import require_extra
from roistory.quality import Finding
from roistory.safety import require_regular_file
from roistory.sources import CORE_OPTIONS, FINDINGS_ATTR, LINE_OF_ATTR, OPTIONS_ATTR, TABLE_COLUMNS

if TYPE_CHECKING:
    from roistory.config import Config, SourceConfig

CSV_OPTIONS = {"delimiter", "encoding", "skiprows", "thousands", "chunk_mb", "newlines_in_values"} | CORE_OPTIONS
EXCEL_OPTIONS = {"sheet", "skiprows"} | CORE_OPTIONS
PARQUET_OPTIONS = {"chunk_rows"} | CORE_OPTIONS

SAMPLE_BYTES = 1 << 18
STREAM_ABOVE_BYTES = 256 << 20  # files larger than this are read block by block
DELIMITERS = (",", ";", "\t", "|")

_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\x1f\x8b": "gzip-compressed data",
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook? use type: excel)",
    b"%PDF": "a PDF document",
    b"PAR1": "a Parquet file (use type: parquet)",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office file (save it as .xlsx or CSV)",
    b"BZh": "bzip2-compressed data",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"SQLite format 3": "an SQLite database (use type: sql)",
}


def check_options(source: SourceConfig, allowed: set[str], kind: str, file: str) -> dict[str, Any]:
    unknown = sorted(set(source.options) - allowed)
    if unknown:
        raise DataError(f"unknown {kind} option '{unknown[0]}'; use {', '.join(sorted(allowed))}", file=file)
    return dict(source.options)


CHUNK_MB_RANGE = (0.01, 4096)  # 0 would never advance (a hang); above 4 GB defeats streaming


def chunk_bytes(options: dict[str, Any], file: str) -> int:
    """``options.chunk_mb`` in bytes, checked: a number from 0.01 to 4096."""
    value = options.get("chunk_mb", 64)
    low, high = CHUNK_MB_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise DataError(f"options.chunk_mb must be a number from {low} to {high} (megabytes), got {value!r}", file=file)
    return int(value * (1 << 20))


# --------------------------------------------------------------------------
# Sniffing: encoding, delimiter, title lines
# --------------------------------------------------------------------------


@dataclass
class Sniffed:
    encoding: str  # a Python codec name
    delimiter: str
    skip_lines: int  # lines above the header
    header: list[str]
    sample_text: str
    notes: list[str] = field(default_factory=list)


def detect_encoding(head: bytes, file: str) -> str:
    """The codec of a text file from its first bytes; DataError for a binary file."""
    if not head:
        raise DataError("file is empty", file=file)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise DataError(f"is not a CSV text file: it is {what}", file=file)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = head[:4096]
    if b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be"
        raise DataError("is not a CSV text file: it holds binary data", file=file)
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if controls > 0.01 * len(sample):
        raise DataError("is not a CSV text file: it holds binary data", file=file)
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut at the end of the sample
            return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    counts = []
    for row in csv.reader(lines, delimiter=delimiter):
        counts.append(len(row) if any(cell.strip() for cell in row) else 0)
    return counts


def sniff(path: Path, options: dict[str, Any], *, header_hint: Callable[[list[str]], bool] | None = None) -> Sniffed:
    """Encoding, delimiter and title lines of a delimited text file."""
    file = str(path)
    require_regular_file(path, file=file)
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    encoding = options.get("encoding") or detect_encoding(head, file)
    if options.get("encoding"):
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(f"unknown encoding '{encoding}' in options.encoding", file=file) from None
    text = head.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines()
    if len(head) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # possibly cut
    lines = lines[:200]
    if not any(line.strip() for line in lines):
        raise DataError("file is empty", file=file)
    delimiter = options.get("delimiter")
    if delimiter in ("tab", "\\t"):
        delimiter = "\t"
    if not delimiter:
        delimiter = _detect_delimiter(lines)
    counts = _field_counts(lines, delimiter)
    if "skiprows" in options:
        skip = int(options["skiprows"])
    else:
        skip = _title_lines(lines, counts, delimiter, header_hint)
    if skip >= len(lines):
        raise DataError("has no header line", file=file)
    header = next(csv.reader([lines[skip]], delimiter=delimiter))
    return Sniffed(encoding, delimiter, skip, header, text)


def _detect_delimiter(lines: list[str]) -> str:
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        counts = [c for c in _field_counts(lines, delimiter) if c]
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        if modal < 2:
            continue
        score = counts.count(modal) / len(counts) + min(modal, 50) / 1000
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _title_lines(lines: list[str], counts: list[int], delimiter: str, header_hint: Callable[[list[str]], bool] | None) -> int:
    """Lines above the header: report titles and date ranges exports put first."""
    if header_hint is not None:
        for i, line in enumerate(lines[:50]):
            if counts[i] and header_hint([c.strip() for c in next(csv.reader([line], delimiter=delimiter))]):
                return i
    filled = [c for c in counts if c]
    if not filled:
        return 0
    modal = max(set(filled), key=filled.count)
    if counts[0] == modal:
        return 0
    for i, count in enumerate(counts):
        # the header: the first line as wide as the table, followed by a line as wide
        if count == modal and (i + 1 >= len(counts) or counts[i + 1] in (modal, 0)):
            return i
    return 0


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = name.strip() or "column"
        if name in seen:
            seen[name] += 1
            out.append(f"{name}.{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out


@dataclass
class _Skipped:
    rows: list[tuple[int | None, int, str]] = field(default_factory=list)  # (line, fields, text)
    expected: int = 0

    def __call__(self, row: Any) -> str:
        self.rows.append((row.number, row.actual_columns, row.text))
        self.expected = row.expected_columns
        return "skip"


class CsvFile:
    """One delimited text file: sniffed once, read whole or in blocks."""

    def __init__(
        self,
        path: Path,
        options: dict[str, Any],
        *,
        header_hint: Callable[[list[str]], bool] | None = None,
        text_columns: Callable[[str], bool] | None = None,
    ):
        """``text_columns(name)``: must this column stay text (an id, a label)? Other columns
        get pyarrow's type inference (a clean number or ISO date column costs no parsing);
        without it every column is read as text."""
        self.text_columns = text_columns
        self.path = path
        self.file = str(path)
        self.options = options
        self.chunk_bytes = chunk_bytes(options, self.file)
        self.sniffed = sniff(path, options, header_hint=header_hint)
        self.columns = _unique(self.sniffed.header)
        self.first_line = self.sniffed.skip_lines + 2  # line number of the first data row
        self._line_map: dict[int, int] | None = None

    # pyarrow options --------------------------------------------------------
    def _arrow_options(self, skipped: _Skipped, block_size: int | None = None, *, all_text: bool = False, streaming: bool = False):
        sniffed = self.sniffed
        encoding = "utf8" if sniffed.encoding in ("utf-8", "utf-8-sig") else sniffed.encoding
        read = pacsv.ReadOptions(
            encoding=encoding,
            skip_rows=sniffed.skip_lines + 1,
            column_names=self.columns,
            block_size=block_size or (1 << 20),
            # the threaded streaming reader reads ahead without bound: one block at a time instead
            use_threads=not streaming,
        )
        quoted_newlines = self.options.get("newlines_in_values")
        if quoted_newlines is None:
            quoted_newlines = _has_quoted_newline(sniffed.sample_text)
        parse = pacsv.ParseOptions(
            delimiter=sniffed.delimiter,
            newlines_in_values=bool(quoted_newlines),
            invalid_row_handler=skipped,
        )
        keep_text = None if all_text else self.text_columns
        convert = pacsv.ConvertOptions(
            column_types={name: pa.string() for name in self.columns if keep_text is None or keep_text(name)},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )
        return read, parse, convert

    def _error(self, exc: Exception) -> DataError:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "invalid UTF8" in message or "UTF-8" in message:
            return DataError("is not valid UTF-8 text (set options.encoding, e.g. cp1252, or is it binary?)", file=self.file)
        if isinstance(exc, UnicodeDecodeError):
            return DataError(f"cannot be decoded as {self.sniffed.encoding} (set options.encoding)", file=self.file)
        return DataError(f"malformed CSV: {message}", file=self.file)

    def _frame(self, table: pa.Table, start: int) -> pd.DataFrame:
        frame = _arrow_to_frame(table, start)
        frame.attrs[LINE_OF_ATTR] = self.line_of
        return frame

    def _skipped_findings(self, skipped: _Skipped) -> list[Finding]:
        if not skipped.rows:
            return []
        wide = [r for r in skipped.rows if r[1] > 1]
        if wide:
            number, fields, text = wide[0]
            line = number or self._find_line(text)
            raise DataError(
                f"has {fields} fields where the header has {skipped.expected} "
                f"('{text[:60]}'); is a delimiter inside an unquoted value?",
                file=self.file,
                row=line,
            )
        shown = [t.strip().strip('"').strip() for _, _, t in skipped.rows]
        examples = "; ".join(f"'{t[:50]}'" for t in [t for t in shown if t][:2]) or "blank lines"
        return [
            Finding(
                "info",
                "lines_skipped",
                len(skipped.rows),
                f"{self.path.name}: {len(skipped.rows)} lines that are not table rows were skipped "
                f"(report notes or footers such as {examples})",
            )
        ]

    def read(self) -> pd.DataFrame:
        skipped = _Skipped()
        read, parse, convert = self._arrow_options(skipped)
        # first without the handler for odd lines (a Python callback slows pyarrow down): most
        # files have none; a file with a footer is read again with it
        plain = pacsv.ParseOptions(delimiter=parse.delimiter, newlines_in_values=parse.newlines_in_values)
        try:
            try:
                table = pacsv.read_csv(self.path, read_options=read, parse_options=plain, convert_options=convert)
            except pa.ArrowInvalid as exc:
                if "columns" not in str(exc):
                    raise
                table = pacsv.read_csv(self.path, read_options=read, parse_options=parse, convert_options=convert)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if self.sniffed.encoding == "utf-8" and not self.options.get("encoding") and "UTF8" in str(exc):
                # valid UTF-8 at the start only: a Windows export
                self.sniffed.encoding = "cp1252"
                self.sniffed.notes.append("not valid UTF-8 throughout: read as Windows-1252")
                return self.read()
            raise self._error(exc) from None
        frame = self._frame(table, self.first_line)
        frame.attrs[FINDINGS_ATTR] = self._skipped_findings(skipped) + self._notes()
        return frame

    def chunks(self, chunk_bytes: int | None = None) -> Iterator[pd.DataFrame]:
        """The rows in blocks of about ``chunk_bytes`` of text: memory stays bounded whatever
        the file's size. Each block is cut at a record boundary and parsed on its own (in
        parallel threads); every column is text, so all blocks agree on types."""
        size = self.path.stat().st_size
        chunk_bytes = chunk_bytes or self.chunk_bytes
        if size <= max(chunk_bytes, STREAM_ABOVE_BYTES):
            yield self.read()
            return
        skipped = _Skipped()
        _, parse, convert = self._arrow_options(skipped, all_text=True)
        read = pacsv.ReadOptions(column_names=self.columns, encoding="utf8", block_size=1 << 24)
        start = self.first_line
        first = True
        for block in self._blocks(max(1, chunk_bytes), quoted_newlines=parse.newlines_in_values):
            try:
                table = pacsv.read_csv(pa.BufferReader(block), read_options=read, parse_options=parse, convert_options=convert)
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise self._error(exc) from None
            del block
            frame = self._frame(table, start)
            del table
            start += len(frame)
            if first:
                frame.attrs[FINDINGS_ATTR] = self._notes()
                first = False
            yield frame
        if skipped.rows:
            tail = pd.DataFrame({c: pd.Series(dtype="str") for c in self.columns})
            tail.attrs[FINDINGS_ATTR] = self._skipped_findings(skipped)
            yield tail

    def _blocks(self, size: int, *, quoted_newlines: bool) -> Iterator[bytes]:
        """The data lines (after the header) as UTF-8 blocks ending at a record boundary."""
        encoding = self.sniffed.encoding
        utf8 = encoding in ("utf-8", "utf-8-sig")
        handle = self.path.open("rb") if utf8 else self.path.open("r", encoding=encoding, errors="strict", newline="")
        with handle:
            for _ in range(self.sniffed.skip_lines + 1):
                handle.readline()
            carry = b""
            inside = False  # within a quoted value at the end of the carried text
            while True:
                try:
                    piece = handle.read(size)
                except UnicodeDecodeError:
                    raise DataError(f"cannot be decoded as {encoding} (set options.encoding)", file=self.file) from None
                if not utf8:
                    piece = piece.encode("utf-8")
                if not piece:
                    if carry.strip():
                        yield carry
                    return
                text = carry + piece
                cut = text.rfind(b"\n")
                if quoted_newlines:
                    # a newline inside quotes is not a boundary: walk back to one outside them
                    while cut >= 0 and (text.count(b'"', 0, cut) % 2) != (1 if inside else 0):
                        cut = text.rfind(b"\n", 0, cut)
                if cut < 0:
                    carry = text
                    continue
                block, carry = text[: cut + 1], text[cut + 1 :]
                if quoted_newlines:
                    inside = bool((block.count(b'"') + (1 if inside else 0)) % 2)
                yield block

    def _notes(self) -> list[Finding]:
        return [Finding("info", "encoding", 0, f"{self.path.name}: {note}") for note in self.sniffed.notes]

    # exact line numbers (only computed to word an error) ----------------------
    def line_of(self, row: int) -> int:
        """The line of the file holding data row ``row`` (numbered as if no line were blank)."""
        ordinal = row - self.first_line
        if ordinal < 0:
            return row
        if self._line_map is None:
            self._line_map = {}
        if ordinal in self._line_map:
            return self._line_map[ordinal]
        width = len(self.columns)
        with self.path.open("r", encoding=self.sniffed.encoding, errors="replace", newline="") as handle:
            for _ in range(self.sniffed.skip_lines + 1):
                handle.readline()
            line = self.sniffed.skip_lines + 2
            count = 0
            buffer = ""
            start_line = line
            for physical in handle:
                buffer += physical
                if buffer.count('"') % 2:  # a quoted value goes on over the next line
                    line += 1
                    continue
                fields = next(csv.reader([buffer], delimiter=self.sniffed.delimiter), [])
                if buffer.strip() and len(fields) == width:
                    if count == ordinal:
                        self._line_map[ordinal] = start_line
                        return start_line
                    count += 1
                line += 1
                start_line = line
                buffer = ""
        return row

    def _find_line(self, text: str) -> int | None:
        with self.path.open("r", encoding=self.sniffed.encoding, errors="replace", newline="") as handle:
            for number, line in enumerate(handle, 1):
                if line.rstrip("\r\n") == text.rstrip("\r\n"):
                    return number
        return None


def _has_quoted_newline(text: str) -> bool:
    if '"' not in text:
        return False
    inside = False
    for ch in text:
        if ch == '"':
            inside = not inside
        elif ch == "\n" and inside:
            return True
    return False


def text_columns_of(source: SourceConfig, renames: dict[str, str] | None = None) -> Callable[[str], bool]:
    """Which headers of a file become text columns of the source's table (ids and labels keep
    their leading zeros); ``renames`` is a plugin's own header map, applied before the config's."""
    spec = TABLE_COLUMNS[source.table]
    renames = renames or {}

    def is_text(header: str) -> bool:
        target = source.columns.get(header, renames.get(header, header))
        target = source.columns.get(target, target)
        return target not in spec or spec[target][0] == "str"

    return is_text


def csv_file(
    source: SourceConfig,
    config: Config,
    *,
    allowed: set[str] = CSV_OPTIONS,
    kind: str = "csv",
    header_hint=None,
    renames: dict[str, str] | None = None,
) -> CsvFile:
    path = config.resolve(source.path or "")
    options = check_options(source, allowed, kind, str(path))
    if path.is_dir():
        raise DataError("is a folder, not a file", file=str(path))
    return CsvFile(path, options, header_hint=header_hint, text_columns=text_columns_of(source, renames))


def read_csv(source: SourceConfig, config: Config) -> pd.DataFrame:
    """Every cell as text (the core parses and validates); index = the file's line number."""
    return csv_file(source, config).read()


def csv_chunks(source: SourceConfig, config: Config) -> Iterator[pd.DataFrame]:
    return csv_file(source, config).chunks()


# --------------------------------------------------------------------------
# Parquet
# --------------------------------------------------------------------------


def _wanted_columns(source: SourceConfig, names: list[str]) -> list[str]:
    """The file's columns the source needs (those renamed to, or named as, canonical columns)."""
    spec = TABLE_COLUMNS[source.table]
    wanted = [n for n in names if source.columns.get(n, n) in spec]
    return wanted or names


def _parquet(source: SourceConfig, config: Config):
    import pyarrow.parquet as pq

    path = config.resolve(source.path or "")
    check_options(source, PARQUET_OPTIONS, "parquet", str(path))
    require_regular_file(path)
    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise DataError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    return path, handle


def _arrow_to_frame(table: pa.Table, start: int) -> pd.DataFrame:
    # dates as timestamps (to_pandas turns date32 into Python objects)
    for i, column in enumerate(table.schema):
        if pa.types.is_date(column.type):
            table = table.set_column(i, column.name, table.column(i).cast(pa.timestamp("ns")))
    frame = table.to_pandas()
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


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
    import pyarrow.parquet as pq

    path, handle = _parquet(source, config)
    columns = _wanted_columns(source, handle.schema_arrow.names)
    try:
        table = pq.read_table(path, columns=columns, schema=_large_strings(handle.schema_arrow, columns))
    except Exception as exc:
        raise DataError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    return _arrow_to_frame(table, 1)


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
            frame = _arrow_to_frame(pa.Table.from_batches([batch]), start)
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
        what = "an old .xls workbook (save it as .xlsx)" if head.startswith(b"\xd0\xcf\x11\xe0") else "not an .xlsx workbook"
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
    header = _unique(["" if v is None else str(v) for v in rows[header_at]])
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
    return frame


def _excel_column(values: pd.Series) -> pd.Series:
    """Cells of one type keep it (numbers, dates); a mixed column becomes text."""
    present = values.dropna()
    if present.empty:
        return values.astype("str")
    kinds = {type(v) for v in present}
    import datetime as dt

    if kinds <= {int, float}:
        return pd.to_numeric(values, errors="coerce")
    if kinds <= {dt.datetime, dt.date}:
        return pd.to_datetime(values, errors="coerce")
    return values.map(lambda v: None if v is None else (v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else str(v))).astype("str")


__all__ = ["CsvFile", "read_csv", "read_excel", "read_parquet", "sniff", "detect_encoding"]


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
    implies (e.g. ``date_order: mdy``).
    """

    name: str
    aliases: dict[str, tuple[str, ...]]
    required: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)

    def match(self, headers: list[str]) -> dict[str, str]:
        """header -> canonical column, for the headers this format knows."""
        normalised = {_norm(h): h for h in headers}
        found: dict[str, str] = {}
        for target, names in self.aliases.items():
            for name in names:
                key = _norm(name)
                if key.endswith("(*)"):
                    prefix = key[:-3].rstrip()
                    hit = next((h for n, h in normalised.items() if (n == prefix or n.startswith(prefix + " (")) and h not in found), None)
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
        frame = read_excel(source.model_copy(update={"options": {k: v for k, v in options.items() if k in EXCEL_OPTIONS}}), config)
    else:
        options.pop("sheet", None)
        renames: dict[str, str] = {}
        # the header line: the first with two of the export's known column names
        reader = CsvFile(path, options, header_hint=export.looks_like_header, text_columns=None)
        renames = export.match(reader.columns)
        reader.text_columns = text_columns_of(source, renames)
        frame = reader.read()
    headers = [str(c).strip() for c in frame.columns]
    frame.columns = headers
    mapping = {h: t for h, t in export.match(headers).items() if h not in source.columns and t not in source.columns.values()}
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
    defaults = dict(frame.attrs.get(OPTIONS_ATTR) or {})
    defaults.update(export.defaults)
    frame.attrs[OPTIONS_ATTR] = defaults
    return frame, mapping


def add_findings(frame: pd.DataFrame, *findings: Finding) -> pd.DataFrame:
    frame.attrs[FINDINGS_ATTR] = [*frame.attrs.get(FINDINGS_ATTR, []), *findings]
    return frame


def set_default(frame: pd.DataFrame, source: SourceConfig, column: str, value: Any) -> None:
    """A column the export lacks (e.g. the channel), unless the report sets or maps it."""
    if column not in frame.columns and column not in source.values and column not in source.columns.values():
        frame[column] = value
