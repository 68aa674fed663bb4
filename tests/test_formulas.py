import math

import pandas as pd
import pytest

from roistory.metrics import FormulaError, parse_formula


def test_arithmetic_with_precedence_and_unicode_operators():
    formula = parse_formula("(revenue × margin − spend) ÷ spend")
    assert formula.names == {"revenue", "margin", "spend"}
    assert formula.evaluate({"revenue": 300.0, "margin": 0.5, "spend": 100.0}) == pytest.approx(0.5)


def test_division_by_zero_is_not_a_number_not_infinity():
    formula = parse_formula("a / b")
    assert math.isnan(formula.evaluate({"a": 1.0, "b": 0.0}))
    series = formula.evaluate({"a": pd.Series({"x": 1.0, "y": 2.0}), "b": pd.Series({"x": 0.0, "y": 4.0})})
    assert math.isnan(series["x"]) and series["y"] == 0.5


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("__import__('os').system('x')", "function call"),
        ("spend.real", "Attribute"),
        ("spend ** 2", "syntax"),  # only + - * / are arithmetic here
        ("spend / ", "syntax error"),
        ("[spend]", "List"),
    ],
)
def test_anything_but_arithmetic_is_rejected(text, fragment):
    with pytest.raises(FormulaError) as error:
        parse_formula(text)
    assert text in str(error.value)


def test_power_operator_is_rejected():
    with pytest.raises(FormulaError, match="BinOp|not allowed"):
        parse_formula("spend ** 2")


def test_self_reference_is_rejected():
    with pytest.raises(FormulaError, match="refers to itself"):
        parse_formula("x / spend", owner="x")
