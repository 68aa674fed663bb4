"""Sniffing a delimited text file: its encoding, delimiter and the title lines above the header."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roistory.errors import DataError
from roistory.safety import require_regular_file

SAMPLE_BYTES = 1 << 18
# Python's csv module (the sample, a bad line) refuses fields over 128 KiB; pyarrow, which reads
# the file, has no such limit: one limit for both, so a long field loads wherever it is.
csv.field_size_limit(2**31 - 1)
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


@dataclass
class Sniffed:
    encoding: str  # a Python codec name
    delimiter: str
    skip_lines: int  # lines above the header
    header: list[str]
    sample_text: str
    notes: list[str] = field(default_factory=list)  # msgids (N_) of what reading the file had to assume


def detect_encoding(head: bytes, file: str) -> str:
    """The codec of a text file from its first bytes; DataError for a binary file."""
    if not head:
        raise DataError("file is empty", file=file)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise DataError(f"is not a CSV text file: it is {what}", file=file)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):  # before UTF-16: FF FE 00 00
        return "utf-32"
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


def _field_counts(lines: list[str], delimiter: str, file: str) -> list[int]:
    counts = []
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        for row in reader:
            counts.append(len(row) if any(cell.strip() for cell in row) else 0)
    except csv.Error as exc:  # a NUL byte in a line
        raise DataError(f"cannot be read as CSV: {exc}", file=file, row=reader.line_num) from None
    return counts


def sniff(path: Path, options: dict[str, Any], *, header_hint: Callable[[list[str]], bool] | None = None) -> Sniffed:
    """Encoding, delimiter and title lines of a delimited text file."""
    file = str(path)
    require_regular_file(path, file=file)  # a FIFO would block the read forever
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
        delimiter = _detect_delimiter(lines, file)
    counts = _field_counts(lines, delimiter, file)
    if "skiprows" in options:
        skip = int(options["skiprows"])
    else:
        skip = _title_lines(lines, counts, delimiter, header_hint)
    if skip >= len(lines):
        raise DataError("has no header line", file=file)
    header = next(csv.reader([lines[skip]], delimiter=delimiter))
    return Sniffed(encoding, delimiter, skip, header, text)


def _detect_delimiter(lines: list[str], file: str) -> str:
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        counts = [c for c in _field_counts(lines, delimiter, file) if c]
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        if modal < 2:
            continue
        score = counts.count(modal) / len(counts) + min(modal, 50) / 1000
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _title_lines(
    lines: list[str], counts: list[int], delimiter: str, header_hint: Callable[[list[str]], bool] | None
) -> int:
    """Lines above the header: report titles and date ranges exports put first."""
    if header_hint is not None:
        for i, line in enumerate(lines[:50]):
            if counts[i] and header_hint([c.strip() for c in next(csv.reader([line], delimiter=delimiter))]):
                return i
    filled = [c for c in counts if c]
    if not filled:
        return 0
    # the table's width: the most common among lines of several fields (a line of one field is a
    # title or a note), the first line's on a tie (a trailing delimiter, footer lines)
    wide = [c for c in filled if c > 1] or filled
    modal = max(set(wide), key=lambda width: (wide.count(width), width == filled[0]))
    if counts[0] == modal:
        return 0
    for i, count in enumerate(counts):
        # the header: the first line as wide as the table, followed by a line as wide
        if count == modal and (i + 1 >= len(counts) or counts[i + 1] in (modal, 0)):
            return i
    return 0
