"""Locale-aware formatting of numbers, money, percentages and dates (Babel)."""

from __future__ import annotations

import copy
import decimal
import functools
import math
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton
from babel.numbers import format_compact_currency, format_decimal, format_percent, parse_pattern
from babel.units import format_unit

if TYPE_CHECKING:
    from roistory.metrics import Metric
    from roistory.periods import Period

NOT_MEASURABLE = "n/m"
# CLDR minimumGroupingDigits = 2 (Babel does not apply it): 1234 but 12.345.
MIN_GROUPING_2 = {"es", "pl", "pt_PT", "bg", "hr", "lv", "lt", "sk", "sl"}


def _wide_decimals(method: Callable) -> Callable:
    """Babel rounds through ``decimal`` with 28 digits: a number of 10²⁸ or more (a cost in a
    data file can be) would fail to round. Enough digits for any float."""

    @functools.wraps(method)
    def formatted(*args, **kwargs):
        with decimal.localcontext(prec=400):
            return method(*args, **kwargs)

    return formatted


class Formatter:
    """Formats values for one report's locale and currency; NaN/None print as not measurable."""

    def __init__(self, locale: str = "en", currency: str = "USD"):
        self.locale = Locale.parse(locale)
        self.currency = currency
        # Whole currency units: board reports do not show cents, and IDR has none in practice.
        self._money_pattern = copy.copy(parse_pattern(self.locale.currency_formats["standard"]))
        self._money_pattern.frac_prec = (0, 0)
        self._min_grouping = 2 if {str(self.locale), self.locale.language} & MIN_GROUPING_2 else 1

    def __reduce__(self):
        # rebuilt from its settings: a chart's tick format crosses to the render worker (roistory.charts)
        return type(self), (str(self.locale), self.currency)

    def _group(self, value: float, digits: int = 0) -> bool:
        """Whether to print a thousands separator: not for 4-digit numbers in es, pl, ..."""
        return self._min_grouping == 1 or abs(round(value, digits)) >= 10_000

    @staticmethod
    def _missing(value: float | None) -> bool:
        return value is None or (isinstance(value, float) and math.isnan(value))

    @_wide_decimals
    def money(self, value: float | None) -> str:
        if self._missing(value):
            return NOT_MEASURABLE
        return self._money_pattern.apply(
            value, self.locale, currency=self.currency, currency_digits=False, group_separator=self._group(value)
        )

    @_wide_decimals
    def money_compact(self, value: float | None) -> str:
        if self._missing(value):
            return NOT_MEASURABLE
        if abs(value) < 10_000:
            return self.money(value)
        return format_compact_currency(value, self.currency, locale=self.locale, fraction_digits=1)

    @_wide_decimals
    def number(self, value: float | None, digits: int = 0) -> str:
        if self._missing(value):
            return NOT_MEASURABLE
        return format_decimal(
            round(value, digits),
            format=f"#,##0{'.' + '0' * digits if digits else ''}",
            locale=self.locale,
            group_separator=self._group(value, digits),
        )

    @_wide_decimals
    def percent(self, value: float | None, digits: int = 1) -> str:
        if self._missing(value):
            return NOT_MEASURABLE
        return format_percent(value, format=f"#,##0{'.' + '0' * digits if digits else ''}%", locale=self.locale)

    def multiple(self, value: float | None) -> str:
        if self._missing(value):
            return NOT_MEASURABLE
        return f"{self.number(value, 2)}×"

    def change(self, current: float | None, previous: float | None) -> str:
        """Relative change with a sign, e.g. +12.5%; empty when not comparable."""
        if self._missing(current) or self._missing(previous) or previous == 0:
            return ""
        ratio = (current - previous) / abs(previous)
        sign = "+" if round(ratio, 3) > 0 else ""  # a change that prints as 0.0% has no sign
        return sign + self.percent(0.0 if round(ratio, 3) == 0 else ratio)

    def points(self, current: float, previous: float, digits: int = 1) -> str:
        """A rate's change in percentage points, e.g. +2.5; no sign when it prints as zero."""
        delta = round((current - previous) * 100, digits)
        if delta == 0:
            return self.number(0.0, digits)
        return ("+" if delta > 0 else "") + self.number(delta, digits)

    def count(self, value: float | None) -> str:
        """Whole numbers as such; a fractional count (credited conversions) below 10 keeps a decimal,
        so 0.14 conversions never print as 0 beside a cost per conversion."""
        if self._missing(value):
            return NOT_MEASURABLE
        if value == round(value) or abs(value) >= 10:
            return self.number(value)
        return self.number(value, 2 if abs(value) < 1 else 1)

    def metric(self, metric: Metric, value: float | None) -> str:
        """A metric value the way a reader expects it (ROI as %, ROAS as ×, money whole)."""
        return self.as_display(metric.shown_as, value)

    def as_display(self, display: str, value: float | None) -> str:
        """A value shown as ``display`` (a metric's :attr:`~roistory.api.Metric.shown_as`: currency, percent, ...)."""
        if self._missing(value):
            return NOT_MEASURABLE
        if display == "currency":
            return self.money(value)
        if display == "percent":
            return self.percent(value)
        if display == "multiple":
            return self.multiple(value)
        if display == "count":
            return self.count(value)
        if display in ("days", "months"):
            return self.duration(value, display)
        return self.number(value, 2)

    @_wide_decimals
    def duration(self, value: float | None, unit: str) -> str:
        """34.5 days, 34,5 días, 3.6 個月: Babel's unit names in the report's language."""
        if self._missing(value):
            return NOT_MEASURABLE
        for length in ("long", "short"):
            text = format_unit(value, f"duration-{unit[:-1]}", length=length, locale=self.locale, format="#,##0.0")
            if "duration-" not in text:  # CLDR lacks some lengths for some locales
                return text
        return self.number(value, 1)

    def month(self, value: date) -> str:
        """Oct 2025, oct 2025, 2025年10月: the one month style of a report, in tables and charts."""
        return format_skeleton("yMMM", value, locale=self.locale)

    def date(self, value: date) -> str:
        return format_date(value, format="medium", locale=self.locale)

    def period(self, period: Period) -> str:
        """October 2026, 2026 Q3, ... in the report's language."""
        if period.months == 1:
            return format_skeleton("yMMMM", period.start, locale=self.locale)
        if period.months == 12 and period.start.month == 1:
            return str(period.start.year)
        if period.months == 3 and period.start.month in (1, 4, 7, 10):
            return format_skeleton("yQQQ", period.start, locale=self.locale)  # Q3 2026, T3 2026, 2026年第3季
        if period.months and period.months > 1:  # calendar halves and other whole months
            return format_interval(period.start, period.end, skeleton="yMMM", locale=self.locale)  # Jul – Dec 2026
        return f"{self.date(period.start)} – {self.date(period.end)}"
