"""What the normaliser decides on a source's first chunk and keeps for the next ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
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
    forced_decimal: str | None = None  # options.decimal
    totals: list[tuple[int, str]] = field(default_factory=list)
    totals_count: int = 0
    placeholders: dict[str, int] = field(default_factory=dict)
    placeholder_examples: dict[str, str] = field(default_factory=dict)
    currency_codes: dict[str, pa.ChunkedArray] = field(default_factory=dict)  # money column -> code per row
    percent_columns: set[str] = field(default_factory=set)
    hashes: list[np.ndarray] = field(default_factory=list)
    chunks: int = 0
    rows_read: int = 0
    line_of: Callable[[int], int] | None = None
    reader_findings: list[Finding] = field(default_factory=list)

    def column(self, name: str) -> ColumnState:
        return self.columns.setdefault(name, ColumnState())

