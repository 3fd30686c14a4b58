import json
import math


def grade(task, response):
    if not isinstance(response, str) or len(response) > 2000:
        return 0.0
    try:
        value = json.loads(response, parse_constant=lambda name: None)
    except (ValueError, RecursionError):
        return 0.0
    if not isinstance(value, dict) or set(value) != {"answer", "unit"}:
        return 0.0
    answer, unit = value["answer"], value["unit"]
    if (
        isinstance(answer, bool)
        or not isinstance(answer, (int, float))
        or not isinstance(unit, str)
    ):
        return 0.0
    if not math.isfinite(answer) or unit != task["unit"]:
        return 0.0
    return 1.0 if math.isclose(answer, task["answer"], rel_tol=1e-9, abs_tol=1e-12) else 0.0
