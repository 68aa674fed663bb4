"""Canonical tables and source loading.

A source type (registered by a plugin) reads a file or system into a raw
DataFrame; this module renames and completes its columns as the report config
says, then parses and validates them against the canonical table, so every
plugin gets the same checks and the same error messages.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pandera.pandas as pa

from roistory.errors import DataError

if TYPE_CHECKING:
    from roistory.config import Config, SourceConfig


@dataclass(frozen=True)
class SourceType:
    """A kind of source a report's ``sources[].type`` can name.

    ``read(source, config)`` returns the raw rows; the DataFrame's index is the
    row number quoted in error messages (for a CSV, the line number).
    """

    name: str
    read: Callable[[SourceConfig, Config], pd.DataFrame]
    description: str = ""


# Column kinds: "str", "date" (a day), "timestamp", "number" (>= 0), "signed" (any number), "flag" (0/1)
TABLE_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    # table: {column: (kind, required)}
    "spend": {
        "date": ("date", True),
        "channel": ("str", True),
        "cost": ("number", True),
        "campaign": ("str", False),
        "media_type": ("str", False),
        "audience": ("str", False),
        "market": ("str", False),
        "currency": ("str", False),
        "impressions": ("number", False),
        "clicks": ("number", False),
        "platform_conversions": ("number", False),
        "impression_share": ("number", False),
    },
    "touchpoints": {
        "person_id": ("str", True),
        "timestamp": ("timestamp", True),
        "channel": ("str", True),
        "campaign": ("str", False),
        "interaction": ("str", False),
        "media_type": ("str", False),
        "audience": ("str", False),
        "market": ("str", False),
        "conversion": ("flag", False),
        "revenue": ("number", False),
    },
    "conversions": {
        "person_id": ("str", True),
        "timestamp": ("timestamp", True),
        "revenue": ("number", False),
        "conversion_type": ("str", False),
        "deal_id": ("str", False),
    },
    "leads": {
        "lead_id": ("str", True),
        "created_at": ("date", True),
        "person_id": ("str", False),
        "email": ("str", False),
        "company": ("str", False),
        "source_channel": ("str", False),
        "source_campaign": ("str", False),
        "mql_at": ("date", False),
        "sql_at": ("date", False),
        "opportunity_at": ("date", False),
        "won_at": ("date", False),
        "lost_at": ("date", False),
        "amount": ("number", False),
        "market": ("str", False),
    },
    "customers": {
        "customer_id": ("str", True),
        "start_date": ("date", True),
        "end_date": ("date", False),
        "mrr": ("number", False),
        "acquisition_channel": ("str", False),
        "market": ("str", False),
    },
    "email": {
        "date": ("date", True),
        "campaign": ("str", True),
        "sent": ("number", True),
        **{
            c: ("number", False)
            for c in (
                "delivered",
                "opens",
                "clicks",
                "replies",
                "unsubscribes",
                "bounces",
                "conversions",
            )
        },
    },
    "web": {
        "date": ("date", True),
        "channel": ("str", True),
        "sessions": ("number", True),
        **{c: ("number", False) for c in ("users", "new_users", "conversions", "pageviews")},
    },
    "social": {
        "date": ("date", True),
        "platform": ("str", False),
        **{
            c: ("number", False)
            for c in (
                "mentions",
                "shares",
                "comments",
                "followers",
                "reach",
                "branded_searches",
            )
        },
    },
}

_DTYPES = {"str": str, "date": "datetime64[ns]", "timestamp": "datetime64[ns]"}


def table_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of a canonical table (dates already parsed by :func:`_parse_dates`)."""
    columns = {}
    for name, (kind, required) in TABLE_COLUMNS[table].items():
        if kind in ("number", "signed", "flag"):
            checks = {"number": [pa.Check.ge(0)], "flag": [pa.Check.isin([0, 1])]}.get(kind, [])
            columns[name] = pa.Column(float, checks=checks, nullable=not required, coerce=True, required=required)
        else:
            columns[name] = pa.Column(_DTYPES[kind], nullable=not required, coerce=True, required=required)
    return pa.DataFrameSchema(columns, strict=False, name=table)


def _closest(name: str, candidates: list[str]) -> str:
    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    if not match:
        lowered = {c.lower(): c for c in candidates}
        match = [lowered[name.lower()]] if name.lower() in lowered else []
    return f" (did you mean '{match[0]}'?)" if match else ""


def _parse_dates(frame: pd.DataFrame, table: str, file: str, timezone: str) -> pd.DataFrame:
    """Parse ISO dates/timestamps; naive timestamps are in the report's time zone."""
    for name, (kind, _) in TABLE_COLUMNS[table].items():
        if name not in frame or kind not in ("date", "timestamp"):
            continue
        raw = frame[name]
        if pd.api.types.is_datetime64_any_dtype(raw):
            parsed = raw
        else:
            text = raw.astype("string").str.strip().replace("", pd.NA)
            try:
                parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
            except (ValueError, TypeError) as exc:  # mixed naive and zoned timestamps
                raise DataError(
                    f"mixes timestamps with and without time zone ({exc})", file=file, column=name
                ) from None
            bad = parsed.isna() & text.notna()
            if bad.any():
                row = bad.idxmax()
                raise DataError(
                    f"cannot read '{text[row]}' as an ISO date (YYYY-MM-DD)"
                    if kind == "date"
                    else f"cannot read '{text[row]}' as an ISO 8601 timestamp",
                    file=file,
                    row=row,
                    column=name,
                )
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
        if kind == "date":
            parsed = parsed.dt.normalize()
        frame[name] = parsed.astype("datetime64[ns]")
    return frame


def _failure_message(check: str, value: Any) -> str:
    if check.startswith("coerce_dtype") or check.startswith("dtype"):
        return f"cannot read '{value}' as a number"
    if check == "not_nullable":
        return "value is missing"
    if check.startswith("greater_than_or_equal_to"):
        return f"must not be negative, got {value}"
    if check.startswith("isin"):
        return f"must be 0 or 1, got {value}"
    return f"fails check {check}: {value}"


def normalise_table(
    raw: pd.DataFrame, source: SourceConfig, *, file: str, timezone: str = "UTC"
) -> pd.DataFrame:
    """Rename, add constants, parse and validate rows read from one source."""
    table = source.table
    spec = TABLE_COLUMNS[table]
    frame = raw.rename(columns={str(c): str(c).strip() for c in raw.columns})
    frame = frame.rename(columns=source.columns)
    for column, value in source.values.items():
        if column not in spec:
            raise DataError(f"'values' sets '{column}', which table '{table}' does not have", file=file)
        frame[column] = value
    missing = [c for c, (_, required) in spec.items() if required and c not in frame.columns]
    if missing:
        column = missing[0]
        raise DataError(
            f"missing required column '{column}' for table '{table}'"
            f"{_closest(column, [str(c) for c in raw.columns])}",
            file=file,
            column=column,
        )
    frame = frame[[c for c in frame.columns if c in spec]].copy()
    for name, (kind, _) in spec.items():
        if name in frame and kind == "str":
            # identifiers and labels: trimmed text, blank means missing
            text = frame[name].astype("string").str.strip()
            frame[name] = text.mask(text == "")
    frame = _parse_dates(frame, table, file, timezone)
    try:
        frame = table_schema(table).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        with_rows = cases[cases["index"].notna()]
        first = (with_rows if len(with_rows) else cases).iloc[0]
        row = first["index"]
        raise DataError(
            _failure_message(str(first["check"]), first["failure_case"]),
            file=file,
            row=None if pd.isna(row) else int(row),
            column=str(first["column"]),
        ) from None
    return frame


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class LoadedSource:
    """One input as recorded in the JSON output and the manifest."""

    name: str
    table: str
    type: str
    path: Path | None
    rows: int
    sha256: str | None

    def as_json(self) -> dict[str, Any]:
        return {"source": self.name, "table": self.table, "rows": self.rows, "sha256": self.sha256}


def load_sources(
    config: Config, source_types: dict[str, SourceType]
) -> tuple[dict[str, pd.DataFrame], list[LoadedSource]]:
    """Read every configured source into the canonical tables (sources of one table are stacked)."""
    parts: dict[str, list[pd.DataFrame]] = {}
    loaded = []
    for source in config.sources:
        path = config.resolve(source.path) if source.path else None
        file = str(path) if path else source.name
        if path is not None and not path.exists():
            raise DataError("file not found", file=file)
        raw = source_types[source.type].read(source, config)
        frame = normalise_table(raw, source, file=file, timezone=config.report.timezone)
        parts.setdefault(source.table, []).append(frame.reset_index(drop=True))
        sha = file_sha256(path) if path is not None and path.is_file() else None
        loaded.append(LoadedSource(source.name, source.table, source.type, path, len(frame), sha))
    tables = {
        name: pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        for name, frames in parts.items()
    }
    return tables, loaded
