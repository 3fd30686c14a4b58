"""The built-in `match` grader, every mode (docs/engineering.md, "Graders and rewards").

Each mode is deliberately strict: a response must state exactly one answer in the expected
form. Hedges ("3 or 5"), every option at once ("A B C D"), NaN, look-alike characters and
oversized inputs all score the floor. Returns {"reward": float, "feedback": str}.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata

# Nothing legitimate is this long for a short-answer task; parsing stays cheap.
MAX_RESPONSE_CHARS = 100_000
MAX_NUMBER_CHARS = 400

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DASHES = {"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"}
_SET_SEPARATORS = re.compile(r"[,;\n]")


class MatchSpecError(Exception):
    """The task itself is unusable for this mode (the author's mistake, not the response's)."""


def grade_match(task: dict, response: str, spec: dict) -> dict:
    mode = spec.get("mode", "exact")
    low, high = spec.get("reward_range", [0.0, 1.0])
    if type(response) is not str:
        return {"reward": float(low), "feedback": "the response is not text"}
    if len(response) > MAX_RESPONSE_CHARS:
        return {
            "reward": float(low),
            "feedback": f"the response is longer than {MAX_RESPONSE_CHARS} characters",
        }
    check = _MODES.get(mode)
    if check is None:
        raise MatchSpecError(f"unknown match mode {mode!r}")
    ok, feedback = check(task, response, spec)
    return {"reward": float(high if ok else low), "feedback": feedback}


# -- normalisation ---------------------------------------------------------------------------


def normalize(text: str, steps) -> str:
    steps = set(steps or ())
    if "unicode" in steps:
        text = unicodedata.normalize("NFKC", text)
        # Zero-width and other invisible format characters (category Cf) carry no meaning.
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    if "case" in steps:
        text = text.casefold()
    if "punctuation" in steps:
        text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    if "whitespace" in steps:
        text = " ".join(text.split())
    return text


def _answers(task: dict) -> list:
    if "answer" not in task:
        raise MatchSpecError(f'task {task.get("id")!r} has no "answer"')
    answer = task["answer"]
    return answer if isinstance(answer, list) else [answer]


# -- modes -----------------------------------------------------------------------------------


def _exact(task, response, spec):
    steps = spec.get("normalize", ["whitespace"])
    got = normalize(response, steps)
    for answer in _answers(task):
        if isinstance(answer, (dict, list)) or answer is None:
            raise MatchSpecError("exact mode needs a text answer (or a list of accepted texts)")
        if got == normalize(
            str(answer) if type(answer) is not bool else str(answer).lower(), steps
        ):
            return True, "correct"
    return False, "the response does not match the expected answer"


def parse_single_number(text: str) -> float | None:
    """The response must be exactly one finite number, nothing else (no '3 or 5', no NaN)."""
    text = text.strip()
    if not text or len(text) > MAX_NUMBER_CHARS:
        return None
    text = "".join(_DASHES.get(ch, ch) for ch in text)
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _numeric(task, response, spec):
    value = parse_single_number(unicodedata.normalize("NFKC", response))
    if value is None:
        return False, "the response must be exactly one finite number (for example 3.14 or -2e5)"
    tolerance = float(spec.get("tolerance", 1e-6))
    if not math.isfinite(tolerance) or tolerance < 0:
        raise MatchSpecError("grader.tolerance must be a finite number ≥ 0")
    for answer in _answers(task):
        expected = _expected_number(answer)
        abs_tol = float(task.get("abs_tolerance", 0.0) or 0.0)
        if expected == 0.0 and abs_tol == 0.0:
            abs_tol = tolerance  # a relative tolerance means nothing around zero
        if math.isclose(value, expected, rel_tol=tolerance, abs_tol=abs_tol):
            return True, "correct"
    return False, "the number is not within tolerance of the expected answer"


def _expected_number(answer) -> float:
    if type(answer) in (int, float):
        value = float(answer)
    elif type(answer) is str and parse_single_number(answer) is not None:
        value = parse_single_number(answer)
    else:
        raise MatchSpecError(f"numeric mode needs a number as the answer, got {answer!r:.60}")
    if not math.isfinite(value):
        raise MatchSpecError("the expected answer must be a finite number")
    return value


def _choice(task, response, spec):
    choices = task.get("choices")
    if not isinstance(choices, list) or not choices or not all(type(c) is str for c in choices):
        raise MatchSpecError(f'task {task.get("id")!r} needs "choices": a list of option texts')
    if len(choices) > 26:
        raise MatchSpecError("choice mode supports at most 26 options (A–Z)")
    expected = _expected_choice(task, choices)
    picked = pick_single_choice(response, choices)
    if picked is None:
        return False, "the response must name exactly one option (its letter or its full text)"
    return (picked == expected), ("correct" if picked == expected else "wrong option")


def _expected_choice(task, choices) -> int:
    answers = _answers(task)
    if len(answers) != 1:
        raise MatchSpecError("choice mode needs exactly one correct option")
    answer = answers[0]
    if type(answer) is int and 0 <= answer < len(choices):
        return answer
    if type(answer) is str:
        label = answer.strip().upper()
        if len(label) == 1 and "A" <= label <= "Z" and ord(label) - 65 < len(choices):
            return ord(label) - 65
        wanted = normalize(answer, ("unicode", "case", "whitespace"))
        matches = [
            i
            for i, c in enumerate(choices)
            if normalize(c, ("unicode", "case", "whitespace")) == wanted
        ]
        if len(matches) == 1:
            return matches[0]
    raise MatchSpecError(
        f"the answer {answer!r:.60} is not one of the choices (use its letter, index or text)"
    )


def pick_single_choice(response: str, choices: list[str]) -> int | None:
    """The one option a response names, or None when it names none or several."""
    text = normalize(response, ("unicode", "case", "whitespace"))
    text = text.strip().rstrip(".").strip()
    for prefix in ("answer:", "the answer is", "option"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
    texts = [normalize(c, ("unicode", "case", "whitespace")) for c in choices]
    letters = [chr(97 + i) for i in range(len(choices))]
    label = text
    if len(label) == 3 and label[0] == "(" and label[2] == ")":
        label = label[1]
    if len(label) == 1 and label in letters:
        return letters.index(label)
    # "B) text" / "B. text" / "(B) text": the letter and the text must agree
    found = re.fullmatch(r"\(?([a-z])[).:]\s*(.+)", text)
    if found and found.group(1) in letters:
        index = letters.index(found.group(1))
        return index if texts[index] == found.group(2).strip() else None
    matches = [i for i, option in enumerate(texts) if option == text]
    return matches[0] if len(matches) == 1 else None


def _regex(task, response, spec):
    pattern = task.get("pattern", task.get("answer"))
    if type(pattern) is not str:
        raise MatchSpecError('regex mode needs a pattern (the task\'s "pattern" or "answer")')
    try:
        compiled = re.compile(
            pattern, re.IGNORECASE if "case" in (spec.get("normalize") or ()) else 0
        )
    except re.error as exc:
        raise MatchSpecError(
            f"the pattern {pattern!r:.60} is not a valid regular expression: {exc}"
        ) from None
    steps = [s for s in (spec.get("normalize") or ()) if s != "case"]
    got = normalize(response, steps)
    if compiled.fullmatch(got):
        return True, "correct"
    return False, "the response does not fully match the expected pattern"


def _set(task, response, spec):
    steps = spec.get("normalize", ["whitespace"])
    answers = task.get("answer")
    if not isinstance(answers, list) or not all(type(a) in (str, int, float) for a in answers):
        raise MatchSpecError("set mode needs a list of expected items as the answer")
    expected = {normalize(str(a), steps).strip() for a in answers}
    stripped = response.strip()
    items = None
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped, parse_constant=_reject)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, list) and all(type(x) in (str, int, float) for x in parsed):
            items = [str(x) for x in parsed]
    if items is None:
        items = _SET_SEPARATORS.split(response)
    got = {normalize(item, steps).strip() for item in items}
    got.discard("")
    if got == expected:
        return True, "correct"
    return False, "the set of items is not exactly the expected set"


def _json(task, response, spec):
    if "answer" not in task:
        raise MatchSpecError(f'task {task.get("id")!r} has no "answer"')
    try:
        parsed = json.loads(response, parse_constant=_reject)
    except (ValueError, RecursionError):
        return False, "the response is not valid JSON"
    tolerance = float(spec.get("tolerance", 0.0) or 0.0)
    if json_equal(parsed, task["answer"], tolerance):
        return True, "correct"
    return False, "the JSON value differs from the expected one (values and types must match)"


def json_equal(got, expected, tolerance: float = 0.0, depth: int = 0) -> bool:
    """Type-strict equality: 1 ≠ 1.0 ≠ true ≠ "1"; floats within a relative tolerance."""
    if depth > 100 or type(got) is not type(expected):
        return False
    if type(got) is float:
        return math.isfinite(got) and math.isclose(got, expected, rel_tol=tolerance, abs_tol=0.0)
    if type(got) is list:
        return len(got) == len(expected) and all(
            json_equal(a, b, tolerance, depth + 1) for a, b in zip(got, expected, strict=True)
        )
    if type(got) is dict:
        return got.keys() == expected.keys() and all(
            json_equal(got[k], expected[k], tolerance, depth + 1) for k in got
        )
    return got == expected


def _reject(name):
    raise ValueError(f"{name} is not valid JSON")


_MODES = {
    "exact": _exact,
    "numeric": _numeric,
    "choice": _choice,
    "regex": _regex,
    "set": _set,
    "json": _json,
}

__all__ = [
    "grade_match",
    "normalize",
    "parse_single_number",
    "pick_single_choice",
    "json_equal",
    "MatchSpecError",
]
