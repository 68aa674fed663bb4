"""The Jinja sandbox every template renders in, with bounds on what one expression may cost.

Jinja's immutable sandbox stops code injection (no ``__class__``, no mutation of the
report's data) and caps ``range()`` at 100,000 items, but an expression can still
exhaust the machine in a single step, out of reach of any time limit (a time limit
can only interrupt between steps):

- ``{{ 9 ** (9 ** 9) }}``: one integer power with hundreds of millions of digits;
- ``{{ 'x' * 10**10 }}``: a 10 GB string;
- ``{{ '%0999999999d' % 1 }}``, ``{{ '{:>999999999}'.format(1) }}``, ``{{ 'x'|center(10**9) }}``.

:class:`BoundedSandbox` intercepts those operators (Jinja's ``intercepted_binops``: they
are then never folded at compile time either) and checks their size first. Deep
recursion (a macro calling itself) ends in RecursionError, which the renderer reports
as a template error.
"""

from __future__ import annotations

import math
import re
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_SEQUENCE = 10_000_000  # characters or items one operation may produce
MAX_POWER_BITS = 4096  # an integer power larger than this is no number a report shows
MAX_WIDTH = 100_000  # a padding or field width in a format string or filter

# a %-format or str.format field whose width or precision has more digits than MAX_WIDTH
_WIDE_PERCENT = re.compile(r"%[-+ #0*]*(?:\d{6,}|\*)|%[-+ #0]*\d*\.\d{6,}")
_WIDE_FORMAT = re.compile(r"\{[^{}]*:[^{}]*\d{6,}[^{}]*\}")
_NESTED_FORMAT = re.compile(r"\{[^{}]*:[^{}]*\{")  # '{:>{}}': a width given as an argument


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, refusing an operation whose result would be too big to hold."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals.pop("lipsum", None)  # lipsum(10**9): a report has no use for filler text
        for name, filter_ in (("center", self.filters["center"]), ("indent", self.filters["indent"])):
            self.filters[name] = _width_checked(name, filter_)
        self.filters["format"] = _format_checked(self.filters["format"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_repeat(left, right)
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                _check_size(len(left) + len(right), "+")
        elif operator == "%" and isinstance(left, str):
            _check_percent_format(left)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None and (_WIDE_FORMAT.search(value.__self__) or _NESTED_FORMAT.search(value.__self__)):

            def refuse(*args: Any, **kwargs: Any) -> str:
                raise SecurityError(
                    f"a format field wider than {MAX_WIDTH:,} characters, or with a computed width, is not allowed"
                )

            return refuse
        return wrapped


def _check_size(size: int, operator: str) -> None:
    if size > MAX_SEQUENCE:
        raise SecurityError(f"'{operator}' would make {size:,} characters or items; the limit is {MAX_SEQUENCE:,}")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, bool) or isinstance(exponent, bool):
        return
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if exponent * math.log2(abs(base)) > MAX_POWER_BITS:
            raise SecurityError(f"'**' would make a number of more than {MAX_POWER_BITS} bits")


def _check_repeat(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple)) and isinstance(count, int) and not isinstance(count, bool):
            _check_size(len(sequence) * max(count, 0), "*")


def _check_percent_format(template: str) -> None:
    if _WIDE_PERCENT.search(template):
        raise SecurityError(f"a format field wider than {MAX_WIDTH:,} characters is not allowed")


def _width_checked(name: str, filter_: Any) -> Any:
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        # the filter's own default applies when no width is given (center: 80, indent: 4)
        width = args[0] if args else kwargs.get("width")
        if isinstance(width, int) and width > MAX_WIDTH:
            raise SecurityError(f"'{name}' wider than {MAX_WIDTH:,} characters is not allowed")
        return filter_(value, *args, **kwargs)

    return bounded


def _format_checked(filter_: Any) -> Any:
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            _check_percent_format(value)
        return filter_(value, *args, **kwargs)

    return bounded
