"""The canonical columns of a source's rows: renamed from its headers, completed from ``values``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from roistory.i18n import N_
from roistory.quality import Finding
from roistory.sources._text import with_index
from roistory.sources.contract import closest_hint, data_error
from roistory.sources.dates import parse_date_column
from roistory.sources.state import SourceState

if TYPE_CHECKING:
    from roistory.config import SourceConfig


def repeated_header_findings(
    raw: pd.DataFrame, repeats: dict[str, str], source: SourceConfig, spec: dict, file: str
) -> list[Finding]:
    """A header written twice: an error when roistory reads that column (which of the two holds
    the numbers cannot be told), else a finding naming both columns (neither is read)."""
    headers = [str(c) for c in raw.columns]
    findings = []
    for unique, header in repeats.items():
        if unique not in headers or header not in headers:
            continue
        first, second = headers.index(header) + 1, headers.index(unique) + 1
        target = source.columns.get(header, header)
        if target in spec:
            raise data_error(
                f"columns {first} and {second} are both headed '{header}', so which one is '{target}' "
                "cannot be told; rename one of them in the file",
                file=file,
                column=header,
            )
        findings.append(
            Finding.of(
                "info",
                "repeated_header",
                1,
                N_("{file}: columns {first} and {second} are both headed '{header}' (neither is read)"),
                file=Path(file).name,
                first=first,
                second=second,
                header=header,
            )
        )
    return findings


def select_columns(
    raw: pd.DataFrame, source: SourceConfig, spec: dict, file: str
) -> tuple[dict[str, pd.Series], dict[str, str]]:
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
    if source.channel_map and "channel" not in spec:
        raise data_error(f"channel_map is set but table '{table}' has no channel column", file=file)
    given = set(source.values) | ({"channel"} if source.channel_map else set())
    missing = [c for c, (_, required) in spec.items() if required and c not in columns and c not in given]
    if missing:
        column = missing[0]
        renamed_from = [k for k, v in source.columns.items() if v == column]
        hint = closest_hint(renamed_from[0], headers) if renamed_from else ""
        hint = hint or closest_hint(column, headers)
        expected = f" (mapped from '{renamed_from[0]}', which the file does not have)" if renamed_from else ""
        raise data_error(
            f"missing required column '{column}' for table '{table}'{expected}{hint}", file=file, column=column
        )
    for column in source.values:
        columns.pop(column, None)  # a constant replaces the file's column
    return columns, header_of


def constant_column(value: Any, kind: str, index: pd.Index, name: str, file: str, timezone: str) -> pd.Series:
    """A ``values`` constant as a column of the table's type."""
    n = len(index)
    if kind == "str":
        text = None if value is None else str(value).strip() or None
        return with_index(pa.chunked_array([pa.repeat(pa.scalar(text, pa.large_string()), n)]).to_pandas(), index)
    if kind in ("number", "signed", "flag"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise data_error(
                f"'values' sets '{name}' to '{value}', which is not a number", file=file, column=name
            ) from None
        if kind == "number" and number < 0:
            raise data_error(f"'values' sets '{name}' to {value}: must not be negative", file=file, column=name)
        return pd.Series(np.full(n, number), index=index, dtype="float64")
    parsed = parse_date_column(
        pd.Series([str(value)], dtype=object), name, kind, True, file, timezone, SourceState(), {}
    )
    return pd.Series(np.full(n, parsed.iloc[0].to_datetime64()), index=index, dtype="datetime64[ns]")
