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


# ---------------------------------------------------------------- edges (issue 14, mutation testing)


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("-spend + revenue", {"spend": 30.0, "revenue": 100.0}, 70.0),
        ("+spend - 2", {"spend": 30.0}, 28.0),
        ("revenue - -spend", {"spend": 30.0, "revenue": 100.0}, 130.0),
        ("2 * spend + 0.5 * revenue", {"spend": 30.0, "revenue": 100.0}, 110.0),
        ("(revenue + spend) / 4", {"spend": 30.0, "revenue": 100.0}, 32.5),
    ],
)
def test_each_operator_and_constant_computes_its_own_arithmetic(text, values, expected):
    assert parse_formula(text).evaluate(values) == pytest.approx(expected)


def test_series_division_by_zero_is_not_a_number_either_sign():
    a = pd.Series({"x": 1.0, "y": -1.0, "z": 3.0})
    b = pd.Series({"x": 0.0, "y": 0.0, "z": 2.0})
    result = parse_formula("a / b").evaluate({"a": a, "b": b})
    assert result.isna().tolist() == [True, True, False] and result["z"] == 1.5


def test_a_number_over_a_series_and_a_series_over_zero_stay_per_segment():
    spend = pd.Series({"x": 4.0, "y": 0.0})
    per = parse_formula("100 / spend").evaluate({"spend": spend})
    assert per["x"] == 25.0 and math.isnan(per["y"])
    halved = parse_formula("spend / 0").evaluate({"spend": spend})
    assert isinstance(halved, pd.Series) and halved.isna().all()


@pytest.mark.parametrize(
    ("text", "node", "position"), [("1 + spend.real", "Attribute", 4), ("-a + b.c", "Attribute", 5)]
)
def test_a_forbidden_node_after_a_number_or_a_sign_is_still_found(text, node, position):
    """Every node is checked: one accepted (a constant, a unary sign) does not end the check."""
    with pytest.raises(FormulaError, match=rf"at position {position + 1}: {node} is not allowed") as error:
        parse_formula(text)
    assert error.value.position == position


def test_a_function_call_is_named_as_such():
    with pytest.raises(FormulaError, match="at position 1: a function call is not allowed"):
        parse_formula("max(spend, 1)")


def test_a_syntax_error_names_its_position():
    """Position is Python's offset (1-based) made 0-based, shown 1-based; 0 when the parser gives none."""
    with pytest.raises(FormulaError) as error:
        parse_formula("a b")
    assert (error.value.position, str(error.value)) == (2, "formula 'a b' at position 3: syntax error")
    with pytest.raises(FormulaError) as error:
        parse_formula("spend / ")
    assert (error.value.position, str(error.value)) == (0, "formula 'spend / ' at position 1: syntax error")


def test_an_error_without_a_position_says_none():
    assert str(FormulaError("refers to itself", formula="x / 2")) == "formula 'x / 2': refers to itself"


def test_owner_only_refuses_its_own_name():
    assert parse_formula("a / b", owner="c").names == {"a", "b"}


@pytest.mark.parametrize(
    ("number", "accepted"),
    [("1e15", True), ("-1e15", True), ("1000000000000001", False), ("1e999", False), ("0", True)],
)
def test_numbers_in_a_formula_are_bounded(number, accepted):
    text = f"spend * {number}"
    if accepted:
        assert parse_formula(text).evaluate({"spend": 1.0}) == float(number)
    else:
        with pytest.raises(
            FormulaError, match=rf"at position 9: the number {number} is out of range \(at most 1e\+15\)"
        ):
            parse_formula(text)


def test_formula_length_is_bounded_at_2000_characters():
    at_limit = "revenue / " + "s" * 1990  # 2000 characters: one very long metric id
    assert len(at_limit) == 2000 and parse_formula(at_limit).names == {"revenue", "s" * 1990}
    over = at_limit + " "
    with pytest.raises(FormulaError) as error:
        parse_formula(over)
    assert str(error.value) == f"formula '{over[:40]}…': longer than 2000 characters"


def test_deeply_nested_operators_are_refused_before_evaluation():
    """1990 minus signs fit in 2000 characters, but evaluating them would exhaust the stack."""
    with pytest.raises(FormulaError) as error:
        parse_formula("-" * 1990 + "spend")
    assert str(error.value) == "formula '" + "-" * 40 + "…': operators nested more than 100 levels deep"
    assert parse_formula("-" * 99 + "spend").evaluate({"spend": 2.0}) == -2.0


def test_a_parsed_formula_cannot_be_changed():
    """Parsed formulas are cached and shared by every metric engine."""
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_formula("a + b").text = "a - b"  # type: ignore[misc]
