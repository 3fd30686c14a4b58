"""The analyst's tools: a small, fixed table of orders and a calculator.

Every function here that does not start with _ is a tool the model can call; its typed
parameters and docstring become the tool's schema. Module variables are per episode: each
conversation starts from this file as written.
"""

import ast
import operator

ORDERS = [
    {"id": 1, "region": "north", "month": "2026-03", "amount": 120.50},
    {"id": 2, "region": "north", "month": "2026-03", "amount": 79.50},
    {"id": 3, "region": "north", "month": "2026-04", "amount": 310.00},
    {"id": 4, "region": "south", "month": "2026-03", "amount": 45.25},
    {"id": 5, "region": "south", "month": "2026-03", "amount": 54.75},
    {"id": 6, "region": "south", "month": "2026-04", "amount": 18.00},
    {"id": 7, "region": "east", "month": "2026-03", "amount": 999.99},
    {"id": 8, "region": "east", "month": "2026-04", "amount": 0.01},
    {"id": 9, "region": "west", "month": "2026-04", "amount": 250.00},
    {"id": 10, "region": "west", "month": "2026-04", "amount": 125.00},
]

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
}

# the calls made in this episode, for the grader's "used the data" criterion
calls = []


def list_regions() -> list[str]:
    """The sales regions that have orders."""
    calls.append(("list_regions", {}))
    return sorted({order["region"] for order in ORDERS})


def query_orders(region: str, month: str = "") -> list[dict]:
    """The orders of one region, optionally of one month.

    Args:
        region: a region name, e.g. "north" (see list_regions)
        month: a month as YYYY-MM; empty for every month
    """
    calls.append(("query_orders", {"region": region, "month": month}))
    region = region.strip().lower()
    if region not in {order["region"] for order in ORDERS}:
        raise ValueError(f"unknown region {region!r}; call list_regions")
    return [o for o in ORDERS if o["region"] == region and (not month or o["month"] == month)]


def calculate(expression: str) -> float:
    """Evaluate arithmetic: numbers, + - * / and parentheses only.

    Args:
        expression: e.g. "120.5 + 79.5"
    """
    calls.append(("calculate", {"expression": expression}))
    return round(_evaluate(ast.parse(expression, mode="eval").body), 6)


def _evaluate(node):
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.operand))
    raise ValueError("only numbers, + - * / and parentheses")
