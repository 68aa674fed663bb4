"""What the normaliser decides on a source's first chunk and keeps for the next ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from roistory.quality import Finding


@dataclass
class ColumnState:
    """What the first chunk decided for a column, kept for the next chunks."""

    date_format: str | None = None
    date_example: tuple[int, str] | None = None  # (row, value) that set the format
    decimal: str | None = None


@dataclass
class SourceState:
    """Decisions and counts for one source across its chunks."""

    columns: dict[str, ColumnState] = field(default_factory=dict)
    decimal: str | None = None  # the source's number style once known
    forced_decimal: str | None = None  # options.decimal, or the source's locale
    language_decimal: str | None = None  # the convention of the file's language, when known
    file_decimal: str | None = None  # what the file's number columns show ("" = nothing)
    number_columns: dict[str, pd.Series] = field(default_factory=dict)  # this chunk's, for file_decimal
    ambiguous: dict[str, tuple[int, str]] = field(default_factory=dict)  # column -> (row, value) read two ways
    totals: list[tuple[int, str]] = field(default_factory=list)
    totals_count: int = 0
    total_rows: list[tuple[int, str, dict[str, object]]] = field(default_factory=list)  # (row, label, raw numbers)
    placeholders: dict[str, int] = field(default_factory=dict)
    placeholder_examples: dict[str, str] = field(default_factory=dict)
    open_ended: dict[str, int] = field(default_factory=dict)  # column -> dates in 9999 read as "no end"
    currency_codes: dict[str, pa.ChunkedArray] = field(default_factory=dict)  # money column -> code per row
    percent_columns: set[str] = field(default_factory=set)
    hashes: list[np.ndarray] = field(default_factory=list)
    chunks: int = 0
    rows_read: int = 0
    line_of: Callable[[int], int] | None = None
    reader_findings: list[Finding] = field(default_factory=list)

    def column(self, name: str) -> ColumnState:
        return self.columns.setdefault(name, ColumnState())

    def number_decisions(self) -> SourceState:
        """A fresh state with this one's number decisions (to read total rows alike)."""
        columns = {name: ColumnState(decimal=column.decimal) for name, column in self.columns.items()}
        return SourceState(
            columns=columns,
            decimal=self.decimal,
            forced_decimal=self.forced_decimal,
            language_decimal=self.language_decimal,
            file_decimal=self.file_decimal,
        )
