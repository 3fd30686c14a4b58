"""What a package states about right answers, beyond the answer itself: numeric tolerances
(per task, in the manifest, or in the prompt's own words) and accepted alternatives.

A near miss inside a stated tolerance, or an accepted alternative, is right by the package's
own rules: it is never counted as wrong by construction.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from app.envpack.model import EnvPack, Task

# Keys authors use in task rows. A bare "tolerance" does not say absolute or relative: both
# readings are allowed (the generous one wins; a false "robust" costs less than a false alarm).
_EITHER_KEYS = ("tolerance", "tol", "precision")
_ABS_KEYS = ("abs_tol", "atol", "abs_tolerance", "absolute_tolerance", "tolerance_abs")
_REL_KEYS = ("rel_tol", "rtol", "rel_tolerance", "relative_tolerance", "tolerance_rel")
_ALTERNATIVE_KEYS = (
    "aliases",
    "alternatives",
    "accept",
    "accepted",
    "accepted_answers",
    "acceptable",
    "acceptable_answers",
    "synonyms",
    "answers",
    "also_accept",
)
_DECIMALS = re.compile(r"\b(\d{1,2}|one|two|three|four|five|six)\s+decimal(?:\s+place)?s?\b", re.I)
_SIG_FIGS = re.compile(
    r"\b(\d{1,2}|one|two|three|four|five|six)\s+significant\s+(?:figure|digit)s?\b", re.I
)
_PLUS_MINUS = re.compile(r"(?:±|\+/-|within)\s*(\d+(?:\.\d+)?)\s*(%)?", re.I)
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


@dataclass(frozen=True, slots=True)
class Tolerance:
    absolute: float = 0.0
    relative: float = 0.0
    source: str = ""  # where it was stated, for people ("tasks.jsonl 'tolerance'", "the prompt")

    @property
    def declared(self) -> bool:
        return self.absolute > 0 or self.relative > 0

    def accepts(self, value: float, expected: float) -> bool:
        if not (math.isfinite(value) and math.isfinite(expected)):
            return False
        slack = max(self.absolute, self.relative * abs(expected), 1e-12)
        return abs(value - expected) <= slack * (1 + 1e-9)


def declared_tolerance(pack: EnvPack, task: Task) -> Tolerance:
    """The most generous tolerance the package states for `task` (none: exact)."""
    record = task.record if isinstance(task.record, dict) else {}
    absolute = relative = 0.0
    sources: list[str] = []

    def number(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return 0.0
        try:
            result = float(value)
        except ValueError:
            return 0.0
        return result if math.isfinite(result) and result > 0 else 0.0

    for key in _EITHER_KEYS:
        value = record.get(key)
        if isinstance(value, dict):
            absolute = max(absolute, number(value.get("abs") or value.get("absolute")))
            relative = max(relative, number(value.get("rel") or value.get("relative")))
        elif number(value):
            absolute, relative = max(absolute, number(value)), max(relative, number(value))
        else:
            continue
        sources.append(f"the task's {key!r}")
    for keys, is_abs in ((_ABS_KEYS, True), (_REL_KEYS, False)):
        for key in keys:
            if number(record.get(key)):
                if is_abs:
                    absolute = max(absolute, number(record[key]))
                else:
                    relative = max(relative, number(record[key]))
                sources.append(f"the task's {key!r}")
    if "grader.tolerance" in pack.locations and number(pack.grader.tolerance):
        value = number(pack.grader.tolerance)
        absolute, relative = max(absolute, value), max(relative, value)
        sources.append("env.toml [grader] tolerance")
    stated_abs, stated_rel = _from_prompt(str(task.prompt or ""))
    if stated_abs or stated_rel:
        absolute, relative = max(absolute, stated_abs), max(relative, stated_rel)
        sources.append("the prompt")
    return Tolerance(absolute, relative, ", ".join(sources))


def _from_prompt(prompt: str) -> tuple[float, float]:
    """ "to 2 decimal places" → 0.005 absolute; "3 significant figures" → 0.5% relative;
    "±0.1", "within 0.1" → 0.1 absolute; "within 5%" → 5% relative."""
    absolute = relative = 0.0
    for match in _DECIMALS.finditer(prompt):
        places = _count(match.group(1))
        absolute = max(absolute, 0.5 * 10.0**-places)
    for match in _SIG_FIGS.finditer(prompt):
        figures = _count(match.group(1))
        relative = max(relative, 0.5 * 10.0 ** -(figures - 1))
    for match in _PLUS_MINUS.finditer(prompt):
        value = float(match.group(1))
        if match.group(2):
            relative = max(relative, value / 100)
        else:
            absolute = max(absolute, value)
    return absolute, relative


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _WORDS[word.casefold()]


def accepted_alternatives(task: Task) -> list[str]:
    """Other answers the task row declares as right (synonyms, aliases, accepted forms)."""
    record = task.record if isinstance(task.record, dict) else {}
    found: list[str] = []
    for key in _ALTERNATIVE_KEYS:
        value = record.get(key)
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(str(v) for v in value if isinstance(v, (str, int, float)))
    return found
