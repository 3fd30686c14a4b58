import math
import re

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def grade(task: dict, response: str) -> float:
    text = response.strip()
    if len(text) > 64 or not NUMBER.fullmatch(text):
        return 0.0
    value = float(text)
    if not math.isfinite(value):
        return 0.0
    return 1.0 if math.isclose(value, float(task["answer"]), rel_tol=1e-6, abs_tol=1e-9) else 0.0
