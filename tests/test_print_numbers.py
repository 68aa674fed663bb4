"""Small numbers shown honestly, zero changes neutral, personal data masked, tables in bands."""

from __future__ import annotations

import pytest

from roistory.api import column_bands, text_width
from roistory.formatting import Formatter
from roistory.quality import Finding, mask_personal_data


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.14, "0.14"), (2.46, "2.5"), (9.94, "9.9"), (3.0, "3"), (12.6, "13"), (0.0, "0"), (1234.0, "1,234")],
)
def test_a_fractional_count_below_ten_keeps_a_decimal(value, expected):
    assert Formatter("en").count(value) == expected


def test_a_change_that_prints_as_zero_has_no_sign():
    fmt = Formatter("en")
    assert fmt.points(0.1234, 0.1232) == "0.0"  # +0.02 pts rounds to zero
    assert fmt.points(0.15, 0.12) == "+3.0"
    assert fmt.points(0.12, 0.15) == "-3.0"
    assert fmt.change(100.0001, 100.0) == "0.0%"
    assert fmt.change(110.0, 100.0) == "+10.0%"


def test_one_month_style_per_locale():
    from datetime import date

    assert Formatter("en").month(date(2026, 10, 1)) == "Oct 2026"
    assert Formatter("zh_Hant").month(date(2026, 10, 1)) == "2026年10月"


def test_personal_data_is_masked_in_findings():
    finding = Finding("warning", "duplicate_leads", 2, "e.g. peter.smith@example.com (2 leads), call +44 20 7946 0958")
    assert "peter.smith" not in finding.message and "7946" not in finding.message
    assert "p***@example.com" in finding.message
    # dates, periods and counts are not phone numbers
    text = "rows 2026-10-01..2026-10-31, 12,345 rows, lead L-000123"
    assert mask_personal_data(text) == text


def test_wide_columns_split_into_equal_bands_that_fit():
    labels = ["Marketing spend"]
    columns = [["Oct", "$1,234,567"]] * 13
    bands = column_bands(labels, columns, font_size=7, padding=6, width=505)
    assert [i for band in bands for i in band] == list(range(13))  # every column, once, in order
    sizes = {len(b) for b in bands}
    assert max(sizes) - min(sizes) <= 1 and len(bands) > 1
    for band in bands:  # each band fits the width it was given
        used = text_width(labels[0], 7) + 6 + len(band) * (text_width("$1,234,567", 7) + 6)
        assert used <= 505
    assert len(column_bands(labels, [["1"]] * 13, font_size=7, padding=6, width=505)) == 1
