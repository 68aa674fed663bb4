"""The template sandbox's bounds, in process and at their edges.

The theme-attack suite (tests/test_theme_attacks.py) checks the same bounds end to end in
a child ``roistory run``; these tests call the sandbox directly, so scripts/mutation can
run them against each mutant of core/sandbox.py (docs/testing.md).
"""

from __future__ import annotations

import pytest
from jinja2.sandbox import SecurityError

from roistory.sandbox import BoundedSandbox

# ---------------------------------------------------------------- the sandbox's bounds


def render(template: str, **values) -> str:
    return BoundedSandbox(autoescape=True).from_string(template).render(**values)


@pytest.mark.parametrize(
    ("expression", "result"),
    [
        ("2 ** 4096 > 0", "True"),  # exactly 4096 bits: allowed
        ("(-2) ** 4096 > 0", "True"),
        ("1 ** 1000000000", "1"),  # |base| 1 never grows
        ("2 ** -5000", "0.0"),  # a negative exponent makes a small float
        ("true ** 100000", "1"),
        ("3 * 4 + 5 % 3", "14"),  # plain arithmetic is untouched
    ],
)
def test_powers_up_to_the_bound_are_computed(expression, result):
    assert render("{{ " + expression + " }}") == result


@pytest.mark.parametrize(
    "expression", ["2 ** 4097", "(-2) ** 4097", "9 ** (9 ** 9)", "n ** 5000", "(2 ** 4096 * 2) ** 1"]
)
def test_powers_beyond_the_bound_are_refused(expression):
    with pytest.raises(SecurityError, match=r"'\*\*' would make a number of more than 4096 bits"):
        render("{{ " + expression + " }}", n=3)


@pytest.mark.parametrize(
    ("expression", "length"),
    [
        ("'x' * 10000000", 10_000_000),  # exactly the limit
        ("10000000 * 'x'", 10_000_000),
        ("'ab' * 5000000", 10_000_000),
        ("'x' * -5", 0),
        ("'x' * true", 1),
        ("(s * 6000000) + (s * 4000000)", 10_000_000),
        ("([1] * 5000000) + ([2] * 5000000)", 10_000_000),
    ],
)
def test_repetition_and_concatenation_up_to_the_bound(expression, length):
    assert render("{{ (" + expression + ")|length }}", s="x") == str(length)


def test_a_long_value_repeated_zero_times_is_empty():
    """The size checked is the result's: a long data value times 0 (or less) is nothing."""
    assert render("{{ (s * 0)|length }}|{{ (s * -1)|length }}", s="x" * 10_000_001) == "0|0"


def test_a_float_power_overflows_on_its_own():
    """The bit bound is for integers; a float power too big for a float is Python's
    OverflowError, which the renderer reports as a template error."""
    with pytest.raises(OverflowError):
        render("{{ 2.0 ** 5000 }}")


@pytest.mark.parametrize(
    ("expression", "operator", "size"),
    [
        ("'x' * 10000001", "*", "10,000,001"),
        ("10000001 * 'x'", "*", "10,000,001"),
        ("[1, 2] * 5000001", "*", "10,000,002"),
        ("(s * 6000000) + (s * 4000001)", "+", "10,000,001"),
        ("(s * 6000000) + 'y'", None, None),  # the control: 6,000,001 is fine
    ],
)
def test_repetition_and_concatenation_beyond_the_bound_are_refused(expression, operator, size):
    if operator is None:
        assert render("{{ (" + expression + ")|length }}", s="x") == "6000001"
        return
    message = rf"'\{operator}' would make {size} characters or items; the limit is 10,000,000"
    with pytest.raises(SecurityError, match=message):
        render("{{ " + expression + " }}", s="x")


@pytest.mark.parametrize(
    ("template", "result"),
    [
        ("{{ '%05d' % 3 }}", "00003"),
        ("{{ '%.2f' % 3.14159 }}", "3.14"),
        ("{{ '%5d'|format(3) }}", "    3"),
        ("{{ '{:>5}'.format(1) }}", "    1"),
        ("{{ 'ab'|center(6) }}", "  ab  "),
        ("{{ 'a\nb'|indent(2) }}", "a\n  b"),
        ("{{ 'ab'|center(100000)|length }}", "100000"),
        # without a width, each filter keeps Jinja's own default
        ("{{ 'ab'|center|length }}", "80"),
        ("{{ 'a\nb'|indent }}", "a\n    b"),
        ("{{ 'a\nb'|indent(width=3) }}", "a\n   b"),
    ],
)
def test_formats_and_widths_within_the_bound(template, result):
    assert render(template) == result


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ '%0999999d' % 1 }}", "a format field wider than 100,000 characters is not allowed"),
        ("{{ '%.999999f' % 1 }}", "a format field wider than 100,000 characters is not allowed"),
        ("{{ '%*d' % (5, 1) }}", "a format field wider than 100,000 characters is not allowed"),
        ("{{ '%0999999d'|format(1) }}", "a format field wider than 100,000 characters is not allowed"),
        ("{{ '{:>999999}'.format(1) }}", "a format field wider than 100,000 characters, or with a computed width"),
        ("{{ '{:>{}}'.format(1, 5) }}", "a format field wider than 100,000 characters, or with a computed width"),
        ("{{ 'x'|center(100001) }}", "'center' wider than 100,000 characters is not allowed"),
        ("{{ 'x'|indent(100001) }}", "'indent' wider than 100,000 characters is not allowed"),
        ("{{ 'x'|center(width=100001) }}", "'center' wider than 100,000 characters is not allowed"),
    ],
)
def test_formats_and_widths_beyond_the_bound_are_refused(template, message):
    with pytest.raises(SecurityError, match=message.replace("(", r"\(")):
        render(template)


def test_lipsum_is_gone_and_other_globals_stay():
    env = BoundedSandbox()
    assert "lipsum" not in env.globals and "range" in env.globals
