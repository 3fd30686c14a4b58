import re

_FORMULA = re.compile(r"(?:[A-Z][a-z]?\d{0,3})+")
_PART = re.compile(r"([A-Z][a-z]?)(\d{0,3})")
ELEMENTS = {"H", "C", "N", "O", "P", "S", "Na", "Cl", "K", "Ca", "Fe", "Mg"}


def counts(formula):
    if not _FORMULA.fullmatch(formula):
        return None
    result = {}
    for element, number in _PART.findall(formula):
        if element not in ELEMENTS:
            return None
        result[element] = result.get(element, 0) + (int(number) if number else 1)
    return result


def grade(task, response):
    if not isinstance(response, str) or len(response) > 60:
        return 0.0
    said = counts(response.strip())
    return 1.0 if said is not None and said == counts(task["answer"]) else 0.0
