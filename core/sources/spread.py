"""Rows that cover several days (a weekly or monthly export, a date range in the title lines),
spread evenly over their days.

A row dated ``date`` with an ``end_date`` after it stands for every day from ``date`` to
``end_date`` (both included). It becomes one row per day, each with an equal share of the
row's amounts and counts (``cost``, ``impressions``, ``clicks`` ...); ratios such as
``impression_share`` are copied, not divided. So a week from 30 March to 5 April puts 2/7 of
its spend in March and 5/7 in April. An even spread is an assumption (the platform knows the
real daily split): the finding says how many rows it applied to, and load reports the share
that fell outside the report period.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from roistory.i18n import N_, Nn_
from roistory.quality import Finding
from roistory.sources.contract import NOT_ADDITIVE, PERIOD_COLUMN, TABLE_COLUMNS, data_error

_DAY = np.timedelta64(1, "D")


def spread_days(
    frame: pd.DataFrame, table: str, *, file: str, source_name: str, line: Any
) -> tuple[pd.DataFrame, list[Finding], np.ndarray | None]:
    """The frame with each multi-day row replaced by its days; ``end_date`` is dropped.

    Returns the frame, the finding, and per output row whether it came from a spread row."""
    if "end_date" not in frame.columns or PERIOD_COLUMN.get(table) != "date":
        return frame, [], None  # (a customer's end_date is when it left, not a range)
    start = frame["date"].to_numpy("datetime64[D]")
    end = frame["end_date"].to_numpy("datetime64[D]")
    ends = np.where(np.isnat(end), start, end)
    backwards = ends < start
    if backwards.any():
        i = int(np.flatnonzero(backwards)[0])
        raise data_error(
            f"ends on {ends[i]} before it starts ({start[i]})",
            file=file,
            row=line(frame.index[i]),
            column="end_date",
        )
    days = ((ends - start) // _DAY).astype(np.int64) + 1
    frame = frame.drop(columns="end_date")
    wide = days > 1
    if not wide.any():
        return frame, [], None
    repeat = np.repeat(np.arange(len(frame)), days)
    spread = frame.iloc[repeat].copy()
    offsets = np.arange(len(repeat)) - np.repeat(np.cumsum(days) - days, days)
    spread["date"] = (np.repeat(start, days) + offsets * _DAY).astype("datetime64[ns]")
    share = 1.0 / np.repeat(days, days)
    for column, (kind, _) in TABLE_COLUMNS[table].items():
        if kind == "number" and column in spread.columns and column not in NOT_ADDITIVE:
            spread[column] = spread[column].to_numpy(float) * share
    first = int(np.flatnonzero(wide)[0])
    count = int(wide.sum())
    finding = Finding.of(
        "info",
        "multi_day_rows",
        count,
        Nn_(
            "source '{source}': {count} row covers several days (e.g. row {row}: {start} to {end}) and was spread "
            "evenly over {days} days; export with a daily breakdown for the platform's own daily split",
            "source '{source}': {count} rows cover several days (e.g. row {row}: {start} to {end}) and were spread "
            "evenly over {days} days; export with a daily breakdown for the platform's own daily split",
        ),
        source=source_name,
        row=str(line(frame.index[first])),  # a line of the file: shown as the file numbers it
        start=str(start[first]),
        end=str(ends[first]),
        days=int(days[wide].sum()),
    )
    return spread, [finding], np.repeat(wide, days)


def outside_share(
    frame: pd.DataFrame, spread: np.ndarray | None, start: Any, end: Any, *, source_name: str
) -> list[Finding]:
    """How much of the spread rows' cost fell outside the report period [start, end]."""
    if spread is None or "cost" not in frame.columns or not spread.any():
        return []
    dates = frame["date"].to_numpy("datetime64[D]")[spread]
    cost = frame["cost"].to_numpy(float)[spread]
    outside = (dates < np.datetime64(start, "D")) | (dates > np.datetime64(end, "D"))
    total = float(np.nansum(cost))
    if not outside.any() or total <= 0:
        return []
    share = float(np.nansum(cost[outside])) / total
    return [
        Finding.of(
            "info",
            "multi_day_outside_period",
            int(outside.sum()),
            N_(
                "source '{source}': {share:.1%} of the spread rows' cost falls on days outside the report period "
                "({count} of their {days} days)"
            ),
            source=source_name,
            share=share,
            days=len(dates),
        )
    ]
