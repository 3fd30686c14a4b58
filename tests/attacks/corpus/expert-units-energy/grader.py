import math
import re
import unicodedata

_QUANTITY = re.compile(
    r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?)\s*(kJ/mol|J/mol|kcal/mol)"
)
_TO_KJ = {"kJ/mol": 1.0, "J/mol": 0.001, "kcal/mol": 4.184}


def grade(task, response):
    if not isinstance(response, str) or len(response) > 200:
        return 0.0
    text = unicodedata.normalize("NFKC", response).strip().replace("\u2212", "-")
    match = _QUANTITY.fullmatch(text)
    if not match:
        return 0.0
    value = float(match.group(1)) * _TO_KJ[match.group(2)]
    if not math.isfinite(value):
        return 0.0
    return 1.0 if math.isclose(value, float(task["answer"]), rel_tol=0.005) else 0.0
