"""Metric formulas: arithmetic over metric ids, parsed with ``ast`` and evaluated by walking the tree (no eval).

A kernel module (standard library only), so the item types can check a formula
when a plugin registers a metric without importing pandas.
"""

from __future__ import annotations

import ast
import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any


class FormulaError(ValueError):
    def __init__(self, message: str, *, formula: str, position: int | None = None):
        where = f" at position {position + 1}" if position is not None else ""
        super().__init__(f"formula '{formula}'{where}: {message}")
        self.position = position


MAX_FORMULA_CHARS = 2000
MAX_FORMULA_NUMBER = 1e15  # a constant in a formula (a factor, a fee): beyond, a typo or an overflow
# operators nested in one another (``-----a``, ``a+b+c+…`` nests one level per term): evaluation
# recurses once per level, so 2000 characters alone could still exhaust Python's stack
MAX_FORMULA_DEPTH = 100

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr
    names: frozenset[str]

    def evaluate(self, values: dict[str, Any]) -> Any:
        """The value for ``values`` (numbers, or pandas Series indexed by segment); x/0 is NaN."""
        return _evaluate(self.tree, values)


def parse_formula(text: str, *, owner: str | None = None) -> Formula:
    """Parse arithmetic over names and numbers: + - * / and parentheses (× ÷ − accepted)."""
    formula = _parse_formula(text)
    if owner and owner in formula.names:
        raise FormulaError(f"metric '{owner}' refers to itself", formula=text)
    return formula


@functools.lru_cache(maxsize=4096)
def _parse_formula(text: str) -> Formula:
    if len(text) > MAX_FORMULA_CHARS:  # its evaluation recurses once per operator
        raise FormulaError(f"longer than {MAX_FORMULA_CHARS} characters", formula=text[:40] + "…")
    normalised = text.replace("×", "*").replace("÷", "/").replace("−", "-")
    try:
        tree = ast.parse(normalised.strip(), mode="eval").body
    except SyntaxError as exc:
        raise FormulaError("syntax error", formula=text, position=(exc.offset or 1) - 1) from None
    except (RecursionError, MemoryError):  # ((((...)))) nested beyond the parser's stack
        raise FormulaError("nested too deeply", formula=text[:40] + "…") from None
    if _depth(tree) > MAX_FORMULA_DEPTH:
        raise FormulaError(f"operators nested more than {MAX_FORMULA_DEPTH} levels deep", formula=text[:40] + "…")
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool)
        ):
            if not math.isfinite(float(node.value)) or abs(node.value) > MAX_FORMULA_NUMBER:  # 1e999 is inf
                raise FormulaError(
                    f"the number {normalised[node.col_offset : node.end_col_offset]} is out of range "
                    f"(at most {MAX_FORMULA_NUMBER:g})",
                    formula=text,
                    position=node.col_offset,
                )
            continue
        elif isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            continue
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            continue
        elif isinstance(node, ast.operator | ast.unaryop | ast.expr_context):
            continue
        else:
            kind = "a function call" if isinstance(node, ast.Call) else type(node).__name__
            raise FormulaError(
                f"{kind} is not allowed; use metric ids, numbers, + - * / and parentheses",
                formula=text,
                position=getattr(node, "col_offset", None),
            )
    return Formula(text, tree, frozenset(names))


def _depth(tree: ast.AST) -> int:
    """How deeply the tree's expressions nest (counted without recursing, whatever the depth)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))
    return deepest


def _divide(a: Any, b: Any) -> Any:
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return float("nan") if b == 0 or math.isnan(b) else float(a / b)
    # pandas Series: division by zero gives ±inf without a warning; a ratio over nothing is NaN
    return (a / b).replace([math.inf, -math.inf], math.nan)


def _evaluate(node: ast.expr, values: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    assert isinstance(node, ast.BinOp)
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    if isinstance(node.op, ast.Div):
        return _divide(left, right)
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    return left * right
