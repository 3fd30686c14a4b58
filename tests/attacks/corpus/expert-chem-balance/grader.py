import math
import re
import unicodedata

_PART = re.compile(r"([A-Z][a-z]?)(\d*)")


def atoms(formula):
    result = {}
    for element, number in _PART.findall(formula):
        result[element] = result.get(element, 0) + (int(number) if number else 1)
    return result


def grade(task, response):
    if not isinstance(response, str) or len(response) > 100:
        return 0.0
    text = unicodedata.normalize("NFKC", response).strip()
    if not re.fullmatch(r"\d{1,3}(?:\s*,\s*\d{1,3})*", text):
        return 0.0
    coefficients = [int(x) for x in re.findall(r"\d+", text)]
    species = task["reactants"] + task["products"]
    if len(coefficients) != len(species) or 0 in coefficients or math.gcd(*coefficients) != 1:
        return 0.0
    balance = {}
    for i, (c, formula) in enumerate(zip(coefficients, species, strict=True)):
        sign = 1 if i < len(task["reactants"]) else -1
        for element, n in atoms(formula).items():
            balance[element] = balance.get(element, 0) + sign * c * n
    return 1.0 if all(v == 0 for v in balance.values()) else 0.0
