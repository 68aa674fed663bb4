"""Comparison periods at the edges (issue 14): custom periods across 29 February and month
ends for every comparison (previous, year-ago), calendar periods, bounds and lengths.

Imports roistory.periods only, so scripts/mutation can run it hundreds of times against
mutants of core/periods.py (docs/testing.md).
"""

from __future__ import annotations

import calendar
import dataclasses
from datetime import date, timedelta

import pytest

from roistory.periods import (
    FIRST_DAY,
    LAST_DAY,
    Period,
    check_supported,
    months_ending,
    parse_period,
)

# ---------------------------------------------------------------- comparison periods at month ends and 29 February


def one_year_earlier(day: date) -> date:
    """The same day a calendar year earlier; 29 February becomes 28 February."""
    last = calendar.monthrange(day.year - 1, day.month)[1]
    return date(day.year - 1, day.month, min(day.day, last))


CUSTOM = [
    # text, previous (start, end), year_ago (start, end) -- worked out by hand
    ("2024-02-29..2024-03-31", ("2024-01-28", "2024-02-28"), ("2023-02-28", "2023-03-31")),
    ("2024-02-01..2024-02-29", ("2024-01-03", "2024-01-31"), ("2023-02-01", "2023-02-28")),
    ("2024-03-01..2024-03-31", ("2024-01-30", "2024-02-29"), ("2023-03-01", "2023-03-31")),
    ("2025-03-01..2025-03-31", ("2025-01-29", "2025-02-28"), ("2024-03-01", "2024-03-31")),
    ("2025-02-28..2025-03-01", ("2025-02-26", "2025-02-27"), ("2024-02-28", "2024-03-01")),
    ("2024-02-29..2024-02-29", ("2024-02-28", "2024-02-28"), ("2023-02-28", "2023-02-28")),
    ("2024-01-31..2024-02-29", ("2024-01-01", "2024-01-30"), ("2023-01-31", "2023-02-28")),
    ("2023-12-31..2024-01-30", ("2023-11-30", "2023-12-30"), ("2022-12-31", "2023-01-30")),
    ("2024-04-30..2024-05-31", ("2024-03-29", "2024-04-29"), ("2023-04-30", "2023-05-31")),
]


@pytest.mark.parametrize(("text", "previous", "year_ago"), CUSTOM, ids=[c[0] for c in CUSTOM])
def test_custom_period_comparisons(text, previous, year_ago):
    period = parse_period(text)
    got_previous, got_year_ago = period.previous(), period.year_ago()
    assert (got_previous.start.isoformat(), got_previous.end.isoformat()) == previous
    assert (got_year_ago.start.isoformat(), got_year_ago.end.isoformat()) == year_ago
    # the rules behind the table: previous is as long and ends the day before; year-ago is
    # each end moved one calendar year back
    assert got_previous.days == period.days and got_previous.end == period.start - timedelta(days=1)
    assert (got_year_ago.start, got_year_ago.end) == (one_year_earlier(period.start), one_year_earlier(period.end))
    assert got_previous.label == f"{previous[0]}..{previous[1]}" and got_year_ago.months is None


CALENDAR = [
    # text, previous (label, start, end), year_ago (label, start, end)
    ("2024-03", ("2024-02", "2024-02-01", "2024-02-29"), ("2023-03", "2023-03-01", "2023-03-31")),
    ("2024-02", ("2024-01", "2024-01-01", "2024-01-31"), ("2023-02", "2023-02-01", "2023-02-28")),
    ("2025-02", ("2025-01", "2025-01-01", "2025-01-31"), ("2024-02", "2024-02-01", "2024-02-29")),
    ("2024-01", ("2023-12", "2023-12-01", "2023-12-31"), ("2023-01", "2023-01-01", "2023-01-31")),
    ("2024-Q1", ("2023-Q4", "2023-10-01", "2023-12-31"), ("2023-Q1", "2023-01-01", "2023-03-31")),
    ("2024-Q2", ("2024-Q1", "2024-01-01", "2024-03-31"), ("2023-Q2", "2023-04-01", "2023-06-30")),
    ("2024-H1", ("2023-H2", "2023-07-01", "2023-12-31"), ("2023-H1", "2023-01-01", "2023-06-30")),
    ("2024", ("2023", "2023-01-01", "2023-12-31"), ("2023", "2023-01-01", "2023-12-31")),
]


@pytest.mark.parametrize(("text", "previous", "year_ago"), CALENDAR, ids=[c[0] for c in CALENDAR])
def test_calendar_period_comparisons(text, previous, year_ago):
    period = parse_period(text)
    for got, (label, start, end) in ((period.previous(), previous), (period.year_ago(), year_ago)):
        assert (got.label, got.start.isoformat(), got.end.isoformat()) == (label, start, end)
        assert got.months == period.months


@pytest.mark.parametrize(
    ("text", "start", "end", "days"),
    [
        ("2024-02", "2024-02-01", "2024-02-29", 29),
        ("2023-02", "2023-02-01", "2023-02-28", 28),
        ("2100-02", "2100-02-01", "2100-02-28", 28),  # not a leap year (divisible by 100)
        ("2000-02", "2000-02-01", "2000-02-29", 29),  # a leap year (divisible by 400)
        ("2024-04", "2024-04-01", "2024-04-30", 30),
        ("2024-Q3", "2024-07-01", "2024-09-30", 92),
        ("2024-H2", "2024-07-01", "2024-12-31", 184),
        ("2024", "2024-01-01", "2024-12-31", 366),
        ("2024-02-29..2024-02-29", "2024-02-29", "2024-02-29", 1),
    ],
)
def test_period_bounds_and_length(text, start, end, days):
    period = parse_period(text)
    assert (period.start.isoformat(), period.end.isoformat(), period.days) == (start, end, days)
    assert period.contains(date.fromisoformat(start)) and period.contains(date.fromisoformat(end))
    assert not period.contains(date.fromisoformat(start) - timedelta(days=1))
    assert not period.contains(date.fromisoformat(end) + timedelta(days=1))


@pytest.mark.parametrize(
    "text", ["2023-02-29..2023-03-01", "2024-02-30", "2024-00", "2024-Q0", "2024-H3", "24-10", "2024-10-01..2024-09-30"]
)
def test_impossible_periods_are_refused(text):
    with pytest.raises(ValueError):
        parse_period(text)


def test_months_ending_crosses_the_year_and_february():
    months = months_ending(parse_period("2024-03-10..2025-02-15"))
    assert [m.label for m in months][:2] == ["2024-02", "2024-03"] and months[-1].label == "2025-02"
    assert months[0].end == date(2024, 2, 29) and months[-1].end == date(2025, 2, 28)
    assert len(months) == 13


def test_a_period_is_a_value():
    """Periods key caches (one metric engine per period): equal periods hash alike, and none changes."""
    assert {parse_period("2026-10"): 1}[parse_period("2026-10")] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_period("2026-10").start = date(2026, 1, 1)  # type: ignore[misc]
    assert parse_period("2026-10-01..2026-10-31").months is None and parse_period("2026-10").months == 1


@pytest.mark.parametrize(
    ("text", "compare", "problem"),
    [
        ("1677-09-22..2262-04-11", (), None),
        ("1677-09-21..2000-01-01", (), "outside the supported dates 1677-09-22..2262-04-11"),
        ("2000-01-01..2262-04-12", (), "outside the supported dates 1677-09-22..2262-04-11"),
        ("1678-10", (), None),  # its 13 trend months start 1677-10-01
        ("1678-09", (), "its trend period"),
        ("1678-10", ("previous",), None),
        ("1678-10", ("year_ago",), None),
        ("1678-09", ("year_ago",), "its year_ago period"),
        ("1677-10", ("previous",), "its previous period"),
        # 252 days whose previous 252 days start exactly on FIRST_DAY (allowed), then one day longer
        ("1678-06-01..1679-02-07", ("previous",), None),
        ("1678-06-01..1679-02-08", ("previous",), "its previous period would start before 1677-09-22"),
        ("1700-01-01..2262-04-11", ("previous",), "previous"),
    ],
)
def test_supported_dates_cover_the_comparisons(text, compare, problem):
    """A period, its comparisons and its trend months must all lie within the dates a table holds."""
    assert (FIRST_DAY, LAST_DAY) == (date(1677, 9, 22), date(2262, 4, 11))
    if problem is None:
        check_supported(parse_period(text), compare)
    else:
        with pytest.raises(ValueError, match=problem):
            check_supported(parse_period(text), compare)


def test_a_period_serialises_its_bounds():
    assert parse_period("2024-02").as_json() == {"start": "2024-02-01", "end": "2024-02-29"}


def test_a_period_that_ends_before_it_starts_says_so():
    """The specific reason wins over the generic list of accepted forms."""
    with pytest.raises(ValueError, match="'2024-10-02..2024-10-01' ends before it starts"):
        parse_period("2024-10-02..2024-10-01")
    with pytest.raises(ValueError, match="is not a period; use YYYY-MM"):
        parse_period("2024-10-01..2024-13-01")


@pytest.mark.parametrize(
    ("start", "end", "months", "previous", "year_ago"),
    [
        # a fiscal year from April: twelve months, not a calendar year, so no "2025" label
        ("2025-04-01", "2026-03-31", 12, "2024-04-01..2025-03-31", "2024-04-01..2025-03-31"),
        # two months, a length no period expression has: labelled by its bounds
        ("2024-03-01", "2024-04-30", 2, "2024-01-01..2024-02-29", "2023-03-01..2023-04-30"),
    ],
)
def test_calendar_periods_of_other_lengths_are_labelled_by_their_bounds(start, end, months, previous, year_ago):
    """Period is public API (roistory.api): a plugin may build a calendar period of any length."""
    period = Period(date.fromisoformat(start), date.fromisoformat(end), "custom", months)
    assert period.previous().label == previous
    assert period.year_ago().label == year_ago
