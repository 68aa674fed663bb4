"""Report periods: parsing ``2026-10``, ``2026-Q3``, ``2026-H2``, ``2026`` or ``start..end``,
and the comparison periods (previous, year_ago)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Period:
    """An inclusive date range. ``months`` is set for calendar periods (month, quarter, ...)."""

    start: date
    end: date
    label: str
    months: int | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def shifted_months(self, months: int) -> Period:
        """The calendar period ``months`` earlier (negative) or later, of the same length."""
        assert self.months is not None
        start = _add_months(self.start, months)
        end = _add_months(self.start, months + self.months) - timedelta(days=1)
        return Period(start, end, _calendar_label(start, self.months), self.months)

    def previous(self) -> Period:
        if self.months:
            return self.shifted_months(-self.months)
        end = self.start - timedelta(days=1)
        start = end - timedelta(days=self.days - 1)
        return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")

    def year_ago(self) -> Period:
        if self.months:
            return self.shifted_months(-12)
        start, end = _minus_year(self.start), _minus_year(self.end)
        return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _minus_year(day: date) -> date:
    return _add_months(day, -12)


def _calendar_label(start: date, months: int) -> str:
    if months == 1:
        return f"{start.year}-{start.month:02d}"
    if months == 3:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if months == 6:
        return f"{start.year}-H{(start.month - 1) // 6 + 1}"
    if months == 12 and start.month == 1:
        return f"{start.year}"
    end = _add_months(start, months) - timedelta(days=1)
    return f"{start.isoformat()}..{end.isoformat()}"


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_HALF = re.compile(r"^(\d{4})-[Hh]([12])$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_period(text: str) -> Period:
    """Parse a period expression; raises ValueError with the accepted forms."""
    text = str(text).strip()
    try:
        if m := _MONTH.match(text):
            return _calendar(int(m[1]), int(m[2]), 1)
        if m := _QUARTER.match(text):
            return _calendar(int(m[1]), (int(m[2]) - 1) * 3 + 1, 3)
        if m := _HALF.match(text):
            return _calendar(int(m[1]), (int(m[2]) - 1) * 6 + 1, 6)
        if m := _YEAR.match(text):
            return _calendar(int(m[1]), 1, 12)
        if ".." in text:
            first, last = (part.strip() for part in text.split("..", 1))
            start, end = date.fromisoformat(first), date.fromisoformat(last)
            if end < start:
                raise ValueError(f"period '{text}' ends before it starts")
            return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")
    except ValueError as exc:
        if "ends before" in str(exc):
            raise
    raise ValueError(f"'{text}' is not a period; use YYYY-MM, YYYY-Qn, YYYY-Hn, YYYY or YYYY-MM-DD..YYYY-MM-DD")


def _calendar(year: int, month: int, months: int) -> Period:
    start = date(year, month, 1)  # raises ValueError for month 13
    return Period(start, _add_months(start, months) - timedelta(days=1), _calendar_label(start, months), months)


# The days a table can hold: pandas' nanosecond timestamps run from 1677-09-21 00:12 to
# 2262-04-11 23:47, so these are the first and last whole days.
FIRST_DAY, LAST_DAY = date(1677, 9, 22), date(2262, 4, 11)


def check_supported(period: Period, comparisons: list[str] | tuple[str, ...] = ()) -> None:
    """ValueError unless the period, each comparison period and the 13 trend months all lie
    within FIRST_DAY..LAST_DAY (dates beyond cannot be held by a table)."""
    where = f"{FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}"
    if period.start < FIRST_DAY or period.end > LAST_DAY:
        raise ValueError(f"period '{period.label}' is outside the supported dates {where}")
    try:
        windows = {name: period.previous() if name == "previous" else period.year_ago() for name in comparisons}
        windows["trend"] = months_ending(period)[0]
    except (OverflowError, ValueError):  # a comparison before year 1
        windows = {"comparison": Period(date.min, date.min, "")}
    for name, window in windows.items():
        if window.start < FIRST_DAY:
            raise ValueError(
                f"period '{period.label}' is too early: its {name} period would start before {FIRST_DAY.isoformat()}"
            )


def months_ending(period: Period, count: int = 13) -> list[Period]:
    """The ``count`` calendar months ending with the one that holds the period's last day."""
    last = parse_period(f"{period.end.year}-{period.end.month:02d}")
    return [last.shifted_months(-k) for k in range(count - 1, -1, -1)]
