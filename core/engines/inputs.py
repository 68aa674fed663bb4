"""What a journey engine reads: touchpoints in memory, in files, or behind a query in the user's database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class FrameInput:
    """Touchpoints and conversion events (:func:`roistory.attribution.conversion_events`) in memory."""

    touchpoints: pd.DataFrame
    events: pd.DataFrame


@dataclass(frozen=True)
class FileInput:
    """Parquet/CSV files read by the engine itself; ``since``/``until`` keep events in [since, until)."""

    touchpoints: Path
    conversions: Path | None = None
    since: pd.Timestamp | None = None
    until: pd.Timestamp | None = None


@dataclass(frozen=True)
class SqlInput:
    """Queries in the user's database returning the canonical columns (pushdown: the rules run there)."""

    url: str
    touchpoints: str  # a query, or a table name
    conversions: str | None = None


def date_range_where(source: FileInput, quote: str) -> str:
    """WHERE clause keeping [since, until) of a file input, the timestamp column quoted by the dialect's ``quote``.

    Pushed into the file scan, so Parquet row groups outside the range are skipped.
    """
    column = f"{quote}timestamp{quote}"
    clauses = []
    if source.since is not None:
        clauses.append(f"{column} >= TIMESTAMP '{pd.Timestamp(source.since).tz_localize(None)}'")
    if source.until is not None:
        clauses.append(f"{column} < TIMESTAMP '{pd.Timestamp(source.until).tz_localize(None)}'")
    return ("WHERE " + " AND ".join(clauses)) if clauses else ""
