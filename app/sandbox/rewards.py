"""Turns what a grader returned (as the runner recorded it) into a reward or a clear error.

The contract (docs/engineering.md, "Graders and rewards"): a grader returns a float in
`reward_range` or {"reward": float, "metrics": {...}, "feedback": "..."}. Anything else (NaN,
inf, out of range, a bool, a string, an object with a lying `__float__`) is an `invalid-reward`
error and scores as the floor. This is decided here, on the trusted host side, for every backend
and for the judge alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Scalar types from numeric libraries that graders commonly return; their real value was read
# by the runner without calling any method the object defines.
_TRUSTED_SCALARS = {
    "numpy.float64",
    "numpy.float32",
    "numpy.float16",
    "numpy.longdouble",
    "numpy.int64",
    "numpy.int32",
    "numpy.int16",
    "numpy.int8",
    "numpy.uint64",
    "numpy.uint32",
    "numpy.uint16",
    "numpy.uint8",
}
MAX_FEEDBACK = 2000


@dataclass(slots=True)
class Interpretation:
    reward: float | None
    metrics: dict[str, Any] = field(default_factory=dict)
    feedback: str = ""
    error: str | None = None
    detail: str = ""


def interpret(raw: Any, reward_range: tuple[float, float]) -> Interpretation:
    low, high = float(reward_range[0]), float(reward_range[1])
    metrics: dict[str, Any] = {}
    feedback = ""
    value = raw
    if isinstance(raw, dict) and "$type" not in raw:
        if "reward" not in raw:
            return _invalid('the grader returned a dict without a "reward" key', raw)
        value = raw["reward"]
        if isinstance(raw.get("metrics"), dict):
            metrics = raw["metrics"]
        elif raw.get("metrics") is not None:
            return _invalid('"metrics" must be a dict', raw)
        if isinstance(raw.get("feedback"), str):
            feedback = raw["feedback"][:MAX_FEEDBACK]
        elif raw.get("feedback") is not None:
            return _invalid('"feedback" must be a string', raw)
    number, problem = _as_number(value)
    if problem:
        return _invalid(problem, raw)
    if not math.isfinite(number):
        return _invalid(f"the reward is {number!r}, not a finite number", raw)
    if not low <= number <= high:
        return _invalid(f"the reward {number:g} is outside reward_range [{low:g}, {high:g}]", raw)
    return Interpretation(reward=number, metrics=metrics, feedback=feedback)


def _as_number(value: Any) -> tuple[float, str]:
    if type(value) is bool:
        return 0.0, "the grader returned a bool (True/False); return a float such as 1.0 or 0.0"
    if type(value) in (int, float):
        return float(value), ""
    if isinstance(value, dict) and "$type" in value:
        kind, shown = value["$type"], value.get("$repr", "")
        if not isinstance(kind, str) or not isinstance(shown, str):
            return 0.0, "the grader returned a malformed object marker; return a plain float"
        if kind in _TRUSTED_SCALARS and type(value.get("$value")) in (int, float):
            return float(value["$value"]), ""
        return (
            0.0,
            f"the grader returned a {kind[:80]} object ({shown[:80]}); return a plain float",
        )
    if value is None:
        return 0.0, "the grader returned None; return a float"
    return (
        0.0,
        f"the grader returned a {type(value).__name__} ({str(value)[:60]!r}); return a float",
    )


def _invalid(detail: str, raw: Any) -> Interpretation:
    return Interpretation(reward=None, error="invalid-reward", detail=detail)
