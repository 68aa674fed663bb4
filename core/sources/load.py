"""Loading a source: read (by its source type), normalise, convert currencies; the record of
what was loaded (:class:`LoadedSource`) and what loading changed."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from roistory.errors import DataError
from roistory.i18n import N_, Nn_
from roistory.periods import parse_period
from roistory.quality import Finding, Joined, Phrase
from roistory.safety import require_existing_file, without_outside_values
from roistory.sources import fx
from roistory.sources.contract import PERIOD_COLUMN, SourceType
from roistory.sources.normalise import Normaliser
from roistory.sources.spread import outside_share

if TYPE_CHECKING:
    from roistory.config import Config, SourceConfig


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Sha256:
    """A file's SHA-256, computed in a thread while the file is parsed (hashlib releases the GIL)."""

    def __init__(self, path: Path):
        self._value: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._value = file_sha256(path)
        except BaseException as exc:  # pragma: no cover - reported by result()
            self._error = exc

    def result(self) -> str | None:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


@dataclass(frozen=True)
class LoadedSource:
    """One input as recorded in the JSON output and the manifest.

    ``findings`` holds what loading changed (rows dropped, cells read as
    missing, amounts converted): the data-quality section lists them.
    ``sha256`` is the file's checksum; it is computed in a background thread
    while the report is built and waited for when first read.
    """

    name: str
    table: str
    type: str
    path: Path | None
    rows: int
    checksum: str | _Sha256 | None
    findings: tuple[Finding, ...] = ()
    rows_read: int | None = None
    covered: tuple[date, date] | None = None  # first and last day of its rows

    @property
    def sha256(self) -> str | None:
        if isinstance(self.checksum, _Sha256):
            return self.checksum.result()
        return self.checksum

    def as_json(self) -> dict[str, Any]:
        return {"source": self.name, "table": self.table, "rows": self.rows, "sha256": self.sha256}


def _iter_chunks(source_type: SourceType, source: SourceConfig, config: Config) -> Iterator[pd.DataFrame]:
    if source_type.chunks is not None:
        yield from source_type.chunks(source, config)
    else:
        yield source_type.read(source, config)


def load_source(config: Config, source: SourceConfig, source_type: SourceType) -> tuple[pd.DataFrame, LoadedSource]:
    """Read, normalise and convert (currency) one source."""
    path = config.resolve(source.path) if source.path else None
    file = str(path) if path else source.name
    if path is not None:  # a FIFO would block the read forever
        require_existing_file(config.base_dir / source.path, file=file)
    normaliser = Normaliser(source, file=file, timezone=config.report.timezone)
    sha: _Sha256 | None = None
    frames = []
    try:
        for chunk in _iter_chunks(source_type, source, config):
            if sha is None and path is not None and path.is_file():
                # started once the reader (multi-threaded) is done with the first block, so the
                # checksum runs on the core the single-threaded parsing leaves free
                sha = _Sha256(path)
            frames.append(normaliser(chunk))
        frame, findings = normaliser.finish(frames)
        frame, fx_findings = fx.convert_frame(
            frame, source.table, config, file=file, line=normaliser.line, source_name=source.name
        )
    except DataError as exc:
        raise without_outside_values(normaliser.remap(exc), path, config.base_dir) from None
    frames.clear()
    findings.extend(fx_findings)
    period = parse_period(config.report.period)
    findings.extend(outside_share(frame, normaliser.spread, period.start, period.end, source_name=source.name))
    frame = frame.reset_index(drop=True)
    column = PERIOD_COLUMN.get(source.table)
    dates = frame[column].dropna() if column in frame.columns else pd.Series(dtype="datetime64[ns]")
    covered = (dates.min().date(), dates.max().date()) if len(dates) else None
    loaded = LoadedSource(
        source.name,
        source.table,
        source.type,
        path,
        len(frame),
        sha,
        tuple(findings),
        normaliser.state.rows_read,
        covered,
    )
    return frame, loaded


def load_sources(
    config: Config, source_types: dict[str, SourceType]
) -> tuple[dict[str, pd.DataFrame], list[LoadedSource]]:
    """Read every configured source into the canonical tables (sources of one table are stacked).

    The rows of a table are its sources' rows in config order, so ``inputs`` (the second
    value) tells which rows came from which source: :mod:`roistory.history` relies on it.
    Money columns are in the report currency (:mod:`roistory.sources.fx`).
    """
    parts: dict[str, list[pd.DataFrame]] = {}
    loaded = []
    for source in config.sources:
        frame, record = load_source(config, source, source_types[source.type])
        parts.setdefault(source.table, []).append(frame)
        loaded.append(record)
    tables = {name: _stack(frames) for name, frames in parts.items()}
    return tables, loaded


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    non_empty = [f for f in frames if len(f)] or frames[:1]
    stacked = pd.concat(non_empty, ignore_index=True)
    # a column only some sources have: keep its dtype (text stays text)
    for frame in frames:
        for column in frame.columns:
            if column in stacked and stacked[column].dtype == object and frame[column].dtype == "str":
                stacked[column] = stacked[column].astype("str")
    for column in {c for f in frames for c in f.columns} - set(stacked.columns):
        stacked[column] = pd.Series(index=stacked.index, dtype=next(f[column].dtype for f in frames if column in f))
    return stacked


def source_findings(inputs: Iterable[LoadedSource]) -> list[Finding]:
    """Everything loading changed, source by source (for the data-quality section)."""
    return [finding for source in inputs for finding in source.findings]


def rows_outside_period(tables: dict[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp) -> Finding | None:
    """Rows dated outside [start, end): kept (comparisons, trends, history), counted."""
    counts = {}
    for name, frame in tables.items():
        column = PERIOD_COLUMN.get(name)
        if column not in frame:
            continue
        values = frame[column]
        outside = int((values.notna() & ((values < start) | (values >= end))).sum())
        if outside:
            counts[name] = outside
    if not counts:
        return None
    total = sum(counts.values())
    # TRANSLATORS: a number of rows and the table they are in, e.g. "5,313 spend"
    detail = Joined([Phrase(N_("{count} {table}"), count=n, table=t) for t, n in counts.items()])
    return Finding.of(
        "info",
        "rows_outside_period",
        total,
        Nn_(
            "{count} row falls outside the report period ({detail}); it is kept for comparisons and trends",
            "{count} rows fall outside the report period ({detail}); they are kept for comparisons and trends",
        ),
        detail=detail,
    )
