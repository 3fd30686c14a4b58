import math
import re

_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def value(task, response):
    """The one number, written in ASCII digits, equals the answer (unit optional here)."""
    if not isinstance(response, str) or len(response) > 100:
        return 0.0
    parts = response.strip().split(" ")
    if len(parts) > 2 or not _NUMBER.fullmatch(parts[0]):
        return 0.0
    number = float(parts[0])
    if not math.isfinite(number):
        return 0.0
    return 1.0 if abs(number - task["answer"]) <= 1e-9 * max(1.0, abs(task["answer"])) else 0.0


def has_unit(task, response):
    """1.0 when the response is a number followed by the task's unit."""
    parts = response.strip().split(" ")
    return 1.0 if len(parts) == 2 and parts[1] == task["unit"] else 0.0
