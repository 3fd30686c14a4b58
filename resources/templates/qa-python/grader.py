"""Grader for "Balancing chemical equations".

The response lists the stoichiometric coefficients in order (reactants, then products), e.g.
"2, 1, 2" for 2 H2 + O2 -> 2 H2O. It is correct when every element balances and the
coefficients are the smallest whole numbers that do (their greatest common divisor is 1).
The grader checks the chemistry itself instead of comparing with one stored string.

Deterministic and self-contained: no randomness, no clock, no files, no network.
"""

import math
import re

MAX_RESPONSE_CHARS = 200
MAX_COEFFICIENT = 1000

_TOKEN = re.compile(r"[A-Z][a-z]?|\d+|\(|\)|.")
_COEFFICIENTS = re.compile(r"^\d+(?:\s*[,;]?\s*\d+)*$")


def parse_formula(formula):
    """Atoms per element in a formula such as "Ca3(PO4)2" -> {"Ca": 3, "P": 2, "O": 8}."""
    stack = [{}]
    tokens = _TOKEN.findall(formula)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        count = 1
        if token != "(" and i < len(tokens) and tokens[i].isdigit():
            count = int(tokens[i])
            i += 1
        if token == "(":
            stack.append({})
        elif token == ")" and len(stack) > 1:
            group = stack.pop()
            for element, n in group.items():
                stack[-1][element] = stack[-1].get(element, 0) + n * count
        elif token[0].isupper():
            stack[-1][token] = stack[-1].get(token, 0) + count
        else:
            raise ValueError(f"unexpected {token!r} in formula {formula!r}")
    if len(stack) != 1:
        raise ValueError(f"unbalanced parentheses in {formula!r}")
    return stack[0]


def _result(reward, feedback, **metrics):
    return {"reward": reward, "metrics": metrics, "feedback": feedback}


def grade(task, response):
    species = list(task["reactants"]) + list(task["products"])
    text = response.strip()
    if len(text) > MAX_RESPONSE_CHARS or not _COEFFICIENTS.match(text):
        return _result(
            0.0, "Reply with whole-number coefficients only, e.g. 2, 1, 2.", parsed=False
        )
    coefficients = [int(c) for c in re.findall(r"\d+", text)]
    if len(coefficients) != len(species):
        return _result(
            0.0, f"Expected {len(species)} coefficients, got {len(coefficients)}.", parsed=True
        )
    if any(c < 1 or c > MAX_COEFFICIENT for c in coefficients):
        return _result(0.0, "Coefficients must be whole numbers from 1 upward.", parsed=True)

    balance = {}
    n_reactants = len(task["reactants"])
    for index, (formula, coefficient) in enumerate(zip(species, coefficients, strict=True)):
        side = 1 if index < n_reactants else -1
        for element, atoms in parse_formula(formula).items():
            balance[element] = balance.get(element, 0) + side * coefficient * atoms
    unbalanced = sorted(element for element, net in balance.items() if net != 0)
    lowest = math.gcd(*coefficients) == 1
    if unbalanced:
        return _result(0.0, f"Not balanced: {', '.join(unbalanced)}.", parsed=True, balanced=False)
    if not lowest:
        return _result(
            0.0,
            "Balanced, but not in the smallest whole numbers.",
            parsed=True,
            balanced=True,
            lowest=False,
        )
    return _result(
        1.0, "Balanced with the smallest whole numbers.", parsed=True, balanced=True, lowest=True
    )
