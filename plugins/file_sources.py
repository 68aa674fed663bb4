"""Source types ``csv`` and ``parquet``: files already shaped like (or renamed to) a canonical table."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from roistory import hookimpl
from roistory.errors import DataError
from roistory.sources import SourceType

if TYPE_CHECKING:
    from roistory.config import Config, SourceConfig

CSV_OPTIONS = {"delimiter", "encoding", "decimal", "thousands", "skiprows"}


def read_csv(source: SourceConfig, config: Config) -> pd.DataFrame:
    """Every cell as text (the core parses and validates); index = the file's line number."""
    path = config.resolve(source.path or "")
    unknown = set(source.options) - CSV_OPTIONS
    if unknown:
        raise DataError(f"unknown csv option '{sorted(unknown)[0]}'; use {', '.join(sorted(CSV_OPTIONS))}", file=str(path))
    options = source.options
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            sep=options.get("delimiter", ","),
            encoding=options.get("encoding", "utf-8-sig"),
            skiprows=options.get("skiprows", 0),
        )
    except pd.errors.EmptyDataError:
        raise DataError("file is empty", file=str(path)) from None
    except UnicodeDecodeError:
        raise DataError("is not a UTF-8 text file (set options.encoding, or is it binary?)", file=str(path)) from None
    except pd.errors.ParserError as exc:
        raise DataError(f"malformed CSV: {str(exc).strip().splitlines()[-1]}", file=str(path)) from None
    header_line = 1 + int(options.get("skiprows", 0))
    frame.index = pd.RangeIndex(header_line + 1, header_line + 1 + len(frame))
    if "decimal" in options or "thousands" in options:
        frame = _european_numbers(frame, options.get("decimal", "."), options.get("thousands", ""))
    return frame


def _european_numbers(frame: pd.DataFrame, decimal: str, thousands: str) -> pd.DataFrame:
    """Rewrite '1.234,56' style numbers in numeric-looking columns to '1234.56'."""
    group = re.escape(thousands) if thousands else ""
    pattern = rf"^-?[\d{group}]+({re.escape(decimal)}\d+)?$"
    for column in frame.columns:
        text = frame[column].dropna()
        if len(text) and text.str.match(pattern).all():
            cleaned = frame[column]
            if thousands:
                cleaned = cleaned.str.replace(thousands, "", regex=False)
            frame[column] = cleaned.str.replace(decimal, ".", regex=False)
    return frame


def read_parquet(source: SourceConfig, config: Config) -> pd.DataFrame:
    path = config.resolve(source.path or "")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise DataError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


@hookimpl
def register_data_sources(register):
    register(SourceType("csv", read_csv, "Comma-separated text file (options: delimiter, encoding, decimal, thousands, skiprows)."))
    register(SourceType("parquet", read_parquet, "Apache Parquet file."))
