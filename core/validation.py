"""Checks on report.yaml values that its schema (roistory.config) cannot express alone:
the settings of each source's ``options``, goal targets and ids, files that must exist.

Each check yields ``(key path, message)``; :func:`roistory.config.config_from_dict` turns the
first into a one-line ConfigError naming the file that set the key. Checks that need the
plugin registry (unknown metric, source type ...) live in roistory.pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from roistory.periods import check_supported, parse_period

if TYPE_CHECKING:
    from roistory.config import Config

Problem = tuple[tuple[Any, ...], str]

DECIMAL_MARKS = (".", ",")
# a thousands separator: one character that cannot be part of a number itself
THOUSANDS_MARKS = (",", ".", " ", "'", "\u00a0", "\u202f", "_")
DATE_ORDERS = ("dmy", "mdy")
SKIPROWS_RANGE = (0, 1000)
# a date the round trip of a date_format must give back (day above 12: day/month not mixed up)
_PROBE = datetime(2026, 10, 15, 13, 45, 30)


def config_problems(config: Config) -> Iterator[Problem]:
    """Every value problem of a schema-valid config, in the order of the file."""
    try:
        check_supported(parse_period(config.report.period), config.report.compare)
    except ValueError as exc:
        yield ("report", "period"), str(exc)
    for i, source in enumerate(config.sources):
        for name, message in option_problems(source.options):
            yield ("sources", i, "options", name), message
    yield from goal_problems(config)
    yield from file_problems(config)


def option_problems(options: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The reader options every source type shares, checked before any file is opened."""
    if "delimiter" in options:
        value = options["delimiter"]
        if not (isinstance(value, str) and len(value) == 1 and value not in "\r\n\"'"):
            yield "delimiter", f"must be one character such as ',', ';', '|' or a tab, got {value!r}"
    if "decimal" in options and options["decimal"] not in DECIMAL_MARKS:
        yield "decimal", f"must be '.' or ',', got {options['decimal']!r}"
    if "thousands" in options:
        value = options["thousands"]
        if value not in THOUSANDS_MARKS:
            yield "thousands", f"must be one of {', '.join(repr(m) for m in THOUSANDS_MARKS)}, got {value!r}"
        elif value == options.get("decimal", "."):
            yield "thousands", f"must differ from the decimal mark {value!r}"
    if "date_format" in options and (message := date_format_problem(options["date_format"])):
        yield "date_format", message
    if "date_order" in options and options["date_order"] not in DATE_ORDERS:
        yield "date_order", f"must be dmy or mdy, got {options['date_order']!r}"
    if "skiprows" in options:
        value, (low, high) = options["skiprows"], SKIPROWS_RANGE
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            yield "skiprows", f"must be a whole number from {low} to {high}, got {value!r}"


def date_format_problem(fmt: Any) -> str | None:
    """Why ``fmt`` cannot read dates (None when it can): it must name the year, month and day
    with strptime directives and read back the date it writes."""
    if not isinstance(fmt, str) or not fmt.strip():
        return f"must be a strptime format such as '%d/%m/%Y', got {fmt!r}"
    has = {
        part: any(f"%{d}" in fmt for d in directives)
        for part, directives in (("year", "Yy"), ("month", "mbB"), ("day", "d"))
    }
    if not all(has.values()):
        missing = ", ".join(part for part, present in has.items() if not present)
        return f"'{fmt}' does not give the {missing} (use e.g. %Y, %m, %d)"
    try:
        back = datetime.strptime(_PROBE.strftime(fmt), fmt)
    except ValueError as exc:
        return f"'{fmt}' is not a date format ({exc})"
    if back.date() != _PROBE.date():
        return f"'{fmt}' does not read back the dates it writes"
    return None


def goal_problems(config: Config) -> Iterator[Problem]:
    """Goal ids name goals in the report and the JSON: each once. Numbers must be finite; a
    numeric target positive (a negative one cannot be met by any count, amount or rate)."""
    seen: dict[str, int] = {}
    for i, goal in enumerate(config.goals):
        if goal.id in seen:
            yield ("goals", i, "id"), f"goal id '{goal.id}' is used twice (also goals[{seen[goal.id]}])"
        seen.setdefault(goal.id, i)
        if goal.baseline is not None and not math.isfinite(goal.baseline):
            yield ("goals", i, "baseline"), f"must be a finite number, got {goal.baseline}"
        if isinstance(goal.target, float | int) and not (math.isfinite(goal.target) and goal.target > 0):
            yield ("goals", i, "target"), f"goal '{goal.id}': the target must be a positive number, got {goal.target:g}"


def file_problems(config: Config) -> Iterator[Problem]:
    """Files the config names that are read only late (fx rates): checked up front, so a run
    does not fail after the data is loaded."""
    if config.fx.path and not config.resolve(config.fx.path).is_file():
        yield ("fx", "path"), f"file not found: {config.fx.path}"
