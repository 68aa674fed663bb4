from datetime import date

import pytest

from roistory.periods import parse_period


@pytest.mark.parametrize(
    "text, start, end, previous, year_ago",
    [
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31), ("2026-09-01", "2026-09-30"), ("2025-10-01", "2025-10-31")),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31), ("2026-02-01", "2026-02-28"), ("2025-03-01", "2025-03-31")),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), ("2025-10-01", "2025-12-31"), ("2025-01-01", "2025-03-31")),
        ("2026-H2", date(2026, 7, 1), date(2026, 12, 31), ("2026-01-01", "2026-06-30"), ("2025-07-01", "2025-12-31")),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), ("2025-01-01", "2025-12-31"), ("2025-01-01", "2025-12-31")),
        (
            "2026-10-05..2026-10-18",
            date(2026, 10, 5),
            date(2026, 10, 18),
            ("2026-09-21", "2026-10-04"),
            ("2025-10-05", "2025-10-18"),
        ),
    ],
)
def test_periods_and_comparisons(text, start, end, previous, year_ago):
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)
    assert (period.previous().start.isoformat(), period.previous().end.isoformat()) == previous
    assert (period.year_ago().start.isoformat(), period.year_ago().end.isoformat()) == year_ago


def test_january_previous_is_december():
    assert parse_period("2026-01").previous().label == "2025-12"


@pytest.mark.parametrize("text", ["2026-13", "26-10", "October", "2026-Q5", "2026-10-31..2026-10-01", ""])
def test_bad_periods_name_the_forms(text):
    with pytest.raises(ValueError):
        parse_period(text)
