"""Measured incrementality: lift tests, holdouts and marketing-mix-model contributions.

Attribution models divide the conversions that happened; an experiment or an MMM
measures what a channel *caused*. A report's ``incrementality:`` list names files
of such results; a reader (registered with the ``register_incrementality_readers``
hook) turns each into the canonical table below, which this module checks, so
every reader gets the same errors (file, row, column).

Canonical columns (:data:`INCREMENTALITY_COLUMNS`), one row per measured channel:

- ``name``: the test or model (default: the ``incrementality`` entry's name);
- ``channel``: the channel measured, as the report's data names it;
- ``method``: how it was measured (``geo_holdout``, ``conversion_lift``, ``mmm`` ...);
- ``kind``: ``experiment`` or ``mmm`` (default: ``mmm`` when ``method`` is ``mmm``, else ``experiment``);
- ``period_start``, ``period_end``: the dates the measurement covers;
- ``incremental_revenue`` and/or ``incremental_conversions``: what the channel caused;
- ``ci_low``, ``ci_high``: the interval of the first of those two that is given;
- ``share``: the channel's share of all revenue (or conversions) over the window, when the
  tool states it (an MMM's contribution share); otherwise it is computed here as the
  incremental revenue / the report data's revenue over the same dates.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from roistory.errors import ConfigError, DataError, unknown_name
from roistory.items import IncrementalityReader  # noqa: F401 (re-exported)
from roistory.periods import Period

if TYPE_CHECKING:
    from roistory.config import Config
    from roistory.context import ReportContext

KINDS = ("experiment", "mmm")
REQUIRED = ("channel", "method", "period_start", "period_end")
NUMBERS = ("incremental_revenue", "incremental_conversions", "ci_low", "ci_high", "share")
INCREMENTALITY_COLUMNS = ("name", "channel", "method", "kind", "period_start", "period_end", *NUMBERS)


def _bad(message: str, file: str, row: Any = None, column: str | None = None) -> DataError:
    return DataError(message, file=file, row=None if row is None else int(row), column=column)


def _numbers(frame: pd.DataFrame, column: str, file: str) -> pd.Series:
    raw = frame[column]
    text = raw.astype("string").str.strip().replace({"": pd.NA})
    values = pd.to_numeric(text, errors="coerce")
    wrong = (values.isna() & text.notna()).astype(bool)
    if wrong.any():
        row = wrong.idxmax()
        raise _bad(f"'{raw.loc[row]}' is not a number", file, row, column)
    return values.astype(float)


def _dates(frame: pd.DataFrame, column: str, file: str) -> pd.Series:
    raw = frame[column]
    text = raw.astype("string").str.strip()
    missing = (text.isna() | (text == "")).fillna(True).astype(bool)
    if missing.any():
        raise _bad("a date is required", file, missing.idxmax(), column)
    values = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if values.isna().any():
        row = values.isna().idxmax()
        raise _bad(f"'{raw.loc[row]}' is not an ISO date (YYYY-MM-DD)", file, row, column)
    return values.dt.normalize()


def check_results(frame: pd.DataFrame, *, file: str, name: str) -> pd.DataFrame:
    """A reader's frame parsed and checked: the canonical table, or DataError naming file, row, column."""
    missing = [c for c in REQUIRED if c not in frame]
    if missing:
        raise _bad(f"required column '{missing[0]}' is missing (columns: {', '.join(map(str, frame.columns))})", file)
    if "incremental_revenue" not in frame and "incremental_conversions" not in frame:
        raise _bad("needs an 'incremental_revenue' or 'incremental_conversions' column", file)
    out = pd.DataFrame(index=frame.index)
    for column in ("channel", "method"):
        text = frame[column].astype("string").str.strip()
        empty = (text.isna() | (text == "")).fillna(True).astype(bool)
        if empty.any():
            raise _bad("a value is required", file, empty.idxmax(), column)
        out[column] = text.astype(object)
    out["name"] = (
        frame["name"].astype("string").str.strip().fillna(name).replace({"": name}) if "name" in frame else name
    )
    out["name"] = out["name"].astype(object)
    default_kind = out["method"].str.lower().map(lambda m: "mmm" if m == "mmm" else "experiment")
    if "kind" in frame:
        kind = frame["kind"].astype("string").str.strip().str.lower().fillna("")
        bad = ~kind.isin(["", *KINDS])
        if bad.any():
            raise _bad(
                f"'{frame['kind'].loc[bad.idxmax()]}' is not one of {', '.join(KINDS)}", file, bad.idxmax(), "kind"
            )
        out["kind"] = kind.where(kind != "", default_kind).astype(object)
    else:
        out["kind"] = default_kind
    out["period_start"] = _dates(frame, "period_start", file)
    out["period_end"] = _dates(frame, "period_end", file)
    backwards = out["period_end"] < out["period_start"]
    if backwards.any():
        raise _bad("period_end is before period_start", file, backwards.idxmax(), "period_end")
    for column in NUMBERS:
        out[column] = _numbers(frame, column, file) if column in frame else float("nan")
    measured = out["incremental_revenue"].notna() | out["incremental_conversions"].notna()
    if not measured.all():
        column = "incremental_revenue" if "incremental_revenue" in frame else "incremental_conversions"
        raise _bad("a measured value is required", file, (~measured).idxmax(), column)
    inverted = out["ci_low"] > out["ci_high"]
    if inverted.any():
        raise _bad("ci_low is above ci_high", file, inverted.idxmax(), "ci_low")
    outside = (out["share"] < -1) | (out["share"] > 1)
    if outside.any():
        raise _bad("share is a fraction from -1 to 1 (0.25 = 25%)", file, outside.idxmax(), "share")
    return out[list(INCREMENTALITY_COLUMNS)]


def load_incrementality(config: Config, readers: dict[str, IncrementalityReader]) -> pd.DataFrame:
    """Every ``incrementality:`` entry read and checked, as one canonical table (``source`` names the entry)."""
    frames = []
    for i, item in enumerate(config.incrementality):
        if item.type not in readers:
            raise unknown_name("incrementality type", item.type, list(readers), f"incrementality[{i}].type")
        path = config.resolve(item.path)
        if not path.is_file():
            raise ConfigError(
                f"file not found: {path}", file=str(config.path or "report.yaml"), key=f"incrementality[{i}].path"
            )
        frame = readers[item.type].read(item, config)
        checked = check_results(frame, file=str(path), name=item.name)
        frames.append(checked.assign(source=item.name))
    if not frames:
        return pd.DataFrame(columns=[*INCREMENTALITY_COLUMNS, "source"])
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------
# What the report shows: the measurement that applies, as a share of revenue
# --------------------------------------------------------------------------


def _window_total(report: ReportContext, start: date, end: date, metric_id: str) -> float | None:
    value = report.engine_for(Period(start, end, f"{start}..{end}")).value(metric_id)
    return float(value) if isinstance(value, float) and not math.isnan(value) and value > 0 else None


def with_shares(report: ReportContext) -> pd.DataFrame:
    """The report's measurements, each with ``share`` filled in where the data allows:
    the tool's own share, else incremental revenue (or conversions) / the report data's
    revenue (conversions) over the measurement's dates (``share_basis`` says which)."""
    frame = report.incrementality.copy()
    basis = []
    for index, row in frame.iterrows():
        if not math.isnan(row["share"]):
            basis.append("stated")
            continue
        start, end = row["period_start"].date(), row["period_end"].date()
        for column, metric_id in (("incremental_revenue", "revenue"), ("incremental_conversions", "conversions")):
            if not math.isnan(row[column]) and (total := _window_total(report, start, end, metric_id)):
                frame.loc[index, "share"] = row[column] / total
                basis.append(metric_id)
                break
        else:
            basis.append("none")
    frame["share_basis"] = basis
    return frame


def applicable_results(report: ReportContext) -> pd.DataFrame:
    """One row per (result, channel): its latest measurement that started by the end of the report period."""
    frame = with_shares(report)
    frame = frame[frame["period_start"] <= pd.Timestamp(report.period.end)]
    if frame.empty:
        return frame
    latest = frame.sort_values("period_end", kind="stable").groupby(["name", "channel"], sort=False).tail(1)
    return latest.sort_index()


def incremental_shares(report: ReportContext) -> dict[str, float]:
    """{channel: measured incremental share of revenue} for the channels a test or MMM measured.

    Where a channel has several, an experiment outranks an MMM (it measures causation
    directly) and, within a kind, the latest measurement wins. Recommendations use it to
    let measured lift outrank model credit.
    """
    frame = applicable_results(report)
    frame = frame[frame["share"].notna()]
    if frame.empty:
        return {}
    rank = frame.assign(_experiment=frame["kind"] == "experiment")
    best = rank.sort_values(["_experiment", "period_end"], kind="stable").groupby("channel").tail(1)
    return {str(row.channel): float(row.share) for row in best.itertuples()}


def incrementality_records(report: ReportContext) -> list[dict[str, Any]]:
    """The JSON ``incrementality`` list: every measurement, with its share when known."""

    def number(value: float) -> float | None:
        return None if math.isnan(value) else float(value)

    records = []
    for row in with_shares(report).itertuples():
        records.append(
            {
                "name": row.name,
                "source": row.source,
                "kind": row.kind,
                "method": row.method,
                "channel": row.channel,
                "period": {"start": row.period_start.date().isoformat(), "end": row.period_end.date().isoformat()},
                "incremental_revenue": number(row.incremental_revenue),
                "incremental_conversions": number(row.incremental_conversions),
                "ci_low": number(row.ci_low),
                "ci_high": number(row.ci_high),
                "share": number(row.share),
                "share_basis": row.share_basis,
            }
        )
    return records
