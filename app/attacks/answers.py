"""Reading a task's expected answer in the shapes generators need: text, number, options,
code entry point and test cases. Tolerant of how authors write tasks; never raises."""

from __future__ import annotations

import json
import math
import re
import string
from typing import Any

from app.envpack.model import Task

NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
LETTERS = string.ascii_uppercase


def answer_text(task: Task) -> str:
    """The answer as a person would type it ("" when the task has none)."""
    answer = task.answer
    if answer is None:
        return ""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, bool):
        return "true" if answer else "false"
    if isinstance(answer, (int, float)):
        return format_number(answer)
    return json.dumps(answer, ensure_ascii=False)


def numeric_answer(task: Task) -> float | None:
    """The answer as one finite number, when it is one."""
    answer = task.answer
    if isinstance(answer, bool):
        return None
    if isinstance(answer, (int, float)):
        value = float(answer)
    elif isinstance(answer, str) and NUMBER.fullmatch(answer.strip()):
        value = float(answer.strip())
    else:
        return None
    return value if math.isfinite(value) else None


def answer_is_integer(task: Task) -> bool:
    value = numeric_answer(task)
    if value is None:
        return False
    if isinstance(task.answer, float):
        return False
    return (
        float(value).is_integer()
        and "." not in str(task.answer)
        and "e" not in str(task.answer).lower()
    )


def format_number(value: float | int, integer: bool | None = None) -> str:
    """`3` for 3.0 when the answer is written as an integer, else the shortest repr."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if integer is None:
        integer = float(value).is_integer() and abs(value) < 1e15
    if integer and math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def numbers_in(text: str) -> list[float]:
    found = []
    for match in NUMBER.finditer(text):
        try:
            found.append(float(match.group()))
        except (ValueError, OverflowError):
            continue
    return found


def option_labels(task: Task) -> list[str]:
    choices = task.choices or []
    return list(LETTERS[: len(choices)])


def correct_option(task: Task) -> int | None:
    """Index of the correct option: the answer may be a letter, the option's text, or an index."""
    choices = task.choices
    if not choices:
        return None
    answer = task.answer
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer if 0 <= answer < len(choices) else None
    if isinstance(answer, str):
        text = answer.strip()
        if len(text) == 1 and text.upper() in LETTERS[: len(choices)]:
            return LETTERS.index(text.upper())
        folded = [str(c).strip().casefold() for c in choices]
        if text.casefold() in folded:
            return folded.index(text.casefold())
    return None


def answer_style_for_option(task: Task, index: int) -> str:
    """Write option `index` the way this task writes its answer (letter or option text)."""
    choices = task.choices or []
    answer = task.answer
    if isinstance(answer, str) and len(answer.strip()) == 1:
        return LETTERS[index]
    if isinstance(answer, int) and not isinstance(answer, bool):
        return str(index)
    return str(choices[index])


def entry_name(task: Task) -> str:
    return task.entry or "solve"


def test_cases(task: Task) -> list[dict[str, Any]]:
    return [t for t in task.tests if isinstance(t, dict)]


def distinct_wrong_number(value: float, integer: bool, avoid: set[float] | None = None) -> float:
    """A plausible number that is certainly not `value` (nor anything in `avoid`)."""
    avoid = avoid or set()
    for candidate in (value * 7 + 13, value + 1000, -value - 17, 98765.0):
        candidate = float(round(candidate)) if integer else candidate
        if (
            not math.isclose(candidate, value, rel_tol=1e-3, abs_tol=1e-9)
            and candidate not in avoid
        ):
            return candidate
    return value + 123457.0
