import json
import math
import unicodedata


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isfinite(a) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, str) and isinstance(b, str):
        return unicodedata.normalize("NFKC", a).strip().casefold() == b.strip().casefold()
    return False


def grade(task, response):
    if not isinstance(response, str) or len(response) > 2000:
        return 0.0
    try:
        value = json.loads(response, parse_constant=lambda name: None)
    except (ValueError, RecursionError):
        return 0.0
    expected = task["answer"]
    if not isinstance(value, dict) or set(value) != set(expected):
        return 0.0
    return 1.0 if all(same(value[k], expected[k]) for k in expected) else 0.0
