"""Order lookup tools (per episode: each conversation starts from this file as written)."""

import ast
import operator

ORDERS = [
    {"id": 1, "region": "north", "month": "2026-03", "amount": 120.50},
    {"id": 2, "region": "north", "month": "2026-03", "amount": 79.50},
    {"id": 3, "region": "south", "month": "2026-03", "amount": 45.25},
    {"id": 4, "region": "south", "month": "2026-04", "amount": 72.75},
    {"id": 5, "region": "west", "month": "2026-04", "amount": 250.00},
    {"id": 6, "region": "west", "month": "2026-04", "amount": 125.00},
]
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
}

calls = []  # the successful calls of this episode, for the grader


def query_orders(region: str, month: str = "") -> list[dict]:
    """The orders of one region, optionally of one month.

    Args:
        region: "north", "south" or "west"
        month: YYYY-MM, or empty for every month
    """
    region = region.strip().lower()
    if region not in {o["region"] for o in ORDERS}:
        raise ValueError(f"unknown region {region!r}")
    calls.append(("query_orders", region))
    return [o for o in ORDERS if o["region"] == region and (not month or o["month"] == month)]


def calculate(expression: str) -> float:
    """Arithmetic on numbers: + - * / and parentheses.

    Args:
        expression: e.g. "120.5 + 79.5"
    """
    calls.append(("calculate", expression))
    return round(CALCULATOR(expression), 6)


def _safe(expression):
    def value(node):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](value(node.operand))
        raise ValueError("only numbers, + - * / and parentheses")

    return value(ast.parse(expression, mode="eval").body)


CALCULATOR = _safe
