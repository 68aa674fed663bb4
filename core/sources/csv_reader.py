"""Reading CSV files as the tools export them, whole or streamed in blocks (see :mod:`roistory.sources.readers`)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from roistory.errors import DataError
from roistory.i18n import N_, Nn_
from roistory.quality import Finding, Joined, Phrase
from roistory.sources.contract import (
    CORE_OPTIONS,
    DUPLICATE_HEADERS_ATTR,
    FINDINGS_ATTR,
    LINE_OF_ATTR,
    TABLE_COLUMNS,
    check_options,
)
from roistory.sources.locales import decimal_separator
from roistory.sources.sniff import sniff

if TYPE_CHECKING:
    from roistory.config import Config, SourceConfig

_PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_SURE_DECIMAL = re.compile(r"\.(\d{1,2}|\d{4,})$|^-?0\.")
CHUNK_MB_RANGE = (0.01, 4096)  # 0 would never advance (a hang); above 4 GB defeats streaming


def chunk_bytes(options: dict[str, Any], file: str) -> int:
    """``options.chunk_mb`` in bytes, checked: a number from 0.01 to 4096."""
    value = options.get("chunk_mb", 64)
    low, high = CHUNK_MB_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise DataError(f"options.chunk_mb must be a number from {low} to {high} (megabytes), got {value!r}", file=file)
    return int(value * (1 << 20))


CSV_OPTIONS = {"delimiter", "encoding", "skiprows", "thousands", "chunk_mb", "newlines_in_values"} | CORE_OPTIONS
STREAM_ABOVE_BYTES = 256 << 20  # files larger than this are read block by block
# below this a file is one or two of pyarrow's 1 MB blocks: its thread pool only adds start-up
THREADED_READ_ABOVE_BYTES = 4 << 20


def unique_headers(names: list[str]) -> list[str]:
    """The headers made unique: a repeated ``cost`` becomes ``cost.1`` (see repeated_headers)."""
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


def repeated_headers(names: list[str]) -> dict[str, str]:
    """{unique name of a repeat: the header it repeats} for headers written more than once."""
    cleaned = [name.strip() or "column" for name in names]
    return {unique: name for unique, name in zip(unique_headers(names), cleaned, strict=True) if unique != name}


class _SharedLineOf:
    """A reader's ``line_of``, shared by every copy of its frames: pandas deep-copies ``attrs``
    on each operation, and a bound method would copy the whole reader every time."""

    __slots__ = ("reader",)

    def __init__(self, reader) -> None:
        self.reader = reader

    def __call__(self, row: int) -> int:
        return self.reader.line_of(row)

    def __deepcopy__(self, memo) -> _SharedLineOf:
        return self


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
        """``text_columns(name)``: must this column stay text (an id, a label, a number)? Other
        columns get pyarrow's type inference (a clean ISO date column costs no parsing);
        without it every column is read as text."""
        self.text_columns = text_columns
        self.path = path
        self.file = str(path)
        self.options = options
        self.chunk_bytes = chunk_bytes(options, self.file)
        self.sniffed = sniff(path, options, header_hint=header_hint)
        self.columns = unique_headers(self.sniffed.header)
        self.first_line = self.sniffed.skip_lines + 2  # line number of the first data row
        self._line_map: dict[int, int] | None = None
        self._whole_numbers_failed = False
        self._integer_columns: set[str] = set()  # typed by pyarrow on the sample's word: must come back int64

    # pyarrow options --------------------------------------------------------
    def _arrow_options(
        self, skipped: _Skipped, block_size: int | None = None, *, all_text: bool = False, streaming: bool = False
    ):
        sniffed = self.sniffed
        encoding = "utf8" if sniffed.encoding in ("utf-8", "utf-8-sig") else sniffed.encoding
        read = pacsv.ReadOptions(
            encoding=encoding,
            skip_rows=sniffed.skip_lines + 1,
            column_names=self.columns,
            block_size=block_size or (1 << 20),
            # the threaded streaming reader reads ahead without bound: one block at a time instead
            use_threads=not streaming and self.path.stat().st_size > THREADED_READ_ABOVE_BYTES,
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
        whole = self._whole_number_columns() if keep_text is not None else set()
        convert = pacsv.ConvertOptions(
            column_types={
                name: pa.string()
                for name in self.columns
                if keep_text is None or (keep_text(name) and name not in whole)
            },
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )
        return read, parse, convert

    def _whole_number_columns(self) -> set[str]:
        """Number columns pyarrow may type because their sampled values read one way only:
        whole numbers without separators, or plain decimals with a '.' that is surely a decimal
        point ("12.5", "0.125", "123.4567": the column's own evidence, which the locale rules of
        roistory.sources.numbers would follow too). A later value that is neither (a "1,234",
        a "1.234,56") makes :meth:`read` read them as text again."""
        numbers = getattr(self.text_columns, "numbers", None)
        if numbers is None or self._whole_numbers_failed:
            return set()
        decimals_ok = not getattr(self.text_columns, "comma_decimal", False)
        lines = self.sniffed.sample_text.splitlines()[self.sniffed.skip_lines + 1 : self.sniffed.skip_lines + 200]
        rows = list(csv.reader(lines[:-1] if len(lines) > 1 else lines, delimiter=self.sniffed.delimiter))
        whole = set()
        for position, name in enumerate(self.columns):
            values = [row[position].strip() for row in rows if position < len(row) and row[position].strip()]
            if not numbers(name) or not values or not all(v.isascii() and len(v) < 16 for v in values):
                continue
            if all(v.isdigit() for v in values):
                whole.add(name)
                self._integer_columns.add(name)
            elif (
                decimals_ok
                and all(_PLAIN_DECIMAL.match(v) for v in values)
                and any(_SURE_DECIMAL.search(v) for v in values)
            ):
                whole.add(name)
        return whole

    def _error(self, exc: Exception) -> DataError:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "invalid UTF8" in message or "UTF-8" in message:
            return DataError(
                "is not valid UTF-8 text (set options.encoding, e.g. cp1252, or is it binary?)", file=self.file
            )
        if isinstance(exc, UnicodeDecodeError):
            return DataError(f"cannot be decoded as {self.sniffed.encoding} (set options.encoding)", file=self.file)
        return DataError(f"malformed CSV: {message}", file=self.file)

    def title_lines(self) -> list[str]:
        """The lines above the header (a report name, a date range), unquoted."""
        lines = self.sniffed.sample_text.lstrip("\ufeff").splitlines()[: self.sniffed.skip_lines]
        return [line.strip().strip(self.sniffed.delimiter).strip().strip('"').strip() for line in lines]

    def _frame(self, table: pa.Table, start: int) -> pd.DataFrame:
        frame = arrow_to_frame(table, start)
        frame.attrs[LINE_OF_ATTR] = _SharedLineOf(self)
        if repeats := repeated_headers(self.sniffed.header):
            frame.attrs[DUPLICATE_HEADERS_ATTR] = repeats
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
        quoted = [f"'{t[:50]}'" for t in [t for t in shown if t][:2]]
        examples = Joined(quoted, N_("; ")) if quoted else Phrase(N_("blank lines"))
        return [
            Finding.of(
                "info",
                "lines_skipped",
                len(skipped.rows),
                Nn_(
                    "{file}: {count} line that is not a table row was skipped (report notes or footers such as "
                    "{examples})",
                    "{file}: {count} lines that are not table rows were skipped (report notes or footers such as "
                    "{examples})",
                ),
                file=self.path.name,
                examples=examples,
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
            if "conversion error" in str(exc) and not self._whole_numbers_failed:
                self._whole_numbers_failed = True  # a number column was not whole numbers after all
                return self.read()
            if self.sniffed.encoding == "utf-8" and not self.options.get("encoding") and "UTF8" in str(exc):
                # valid UTF-8 at the start only: a Windows export
                self.sniffed.encoding = "cp1252"
                self.sniffed.notes.append(N_("not valid UTF-8 throughout: read as Windows-1252"))
                return self.read()
            raise self._error(exc) from None
        if not self._whole_numbers_failed and any(
            not pa.types.is_integer(table.schema.field(name).type)
            for name in self._integer_columns
            if name in table.column_names
        ):
            # a later value was not a whole number ("1.053"): pyarrow took it as a decimal, so the
            # column is read again as text for the locale rules
            self._whole_numbers_failed = True
            return self.read()
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
                table = pacsv.read_csv(
                    pa.BufferReader(block), read_options=read, parse_options=parse, convert_options=convert
                )
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
        # TRANSLATORS: a file name and what reading it had to assume
        return [
            Finding.of("info", "encoding", 0, N_("{file}: {note}"), file=self.path.name, note=Phrase(note))
            for note in self.sniffed.notes
        ]

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

    def target(header: str) -> str:
        name = source.columns.get(header, renames.get(header, header))
        return source.columns.get(name, name)

    def is_text(header: str) -> bool:
        # numbers stay text too: pyarrow would read "1.053" as 1.053 before the locale rules
        # (roistory.sources.numbers) see the file; dates get its type inference, and so do
        # number columns whose sampled values are all whole numbers (CsvFile.read)
        name = target(header)
        return name not in spec or spec[name][0] not in ("date", "timestamp")

    is_text.numbers = lambda header: spec.get(target(header), ("str",))[0] in ("number", "signed", "flag")  # type: ignore[attr-defined]
    locale = decimal_separator(source.locale) if source.locale else None
    is_text.comma_decimal = str(source.options.get("decimal", locale or ".")) == ","  # type: ignore[attr-defined]
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


def arrow_to_frame(table: pa.Table, start: int) -> pd.DataFrame:
    """An Arrow table as a DataFrame indexed by row number from ``start``."""
    # dates as timestamps (to_pandas turns date32 into Python objects)
    for i, column in enumerate(table.schema):
        if pa.types.is_date(column.type):
            try:
                table = table.set_column(i, column.name, table.column(i).cast(pa.timestamp("ns")))
            except pa.ArrowInvalid:  # 9999-12-31 and the like: checked by roistory.sources.dates
                table = table.set_column(i, column.name, table.column(i).cast(pa.timestamp("us")))
    frame = table.to_pandas()
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame
