"""A rubric for an agentic package (DESIGN §4.3, every kind): tests/test.sh writes one score
per criterion to /logs/verifier/reward.json, `{"tests-pass": 1, "style": 0.5}`, and the
trusted side checks each one like a reward and combines them as env.toml says
(app/sandbox/rubric.py). A key that is missing or not a finite number in reward_range is that
criterion's invalid reward, and so the grading's: a rubric never passes on the criteria that
happened to be written.
"""

from __future__ import annotations

import json
from typing import Any

from app.envpack.model import GraderSpec
from app.sandbox.rewards import interpret
from app.sandbox.rubric import combine, criterion

REWARD_JSON = "/logs/verifier/reward.json"


def rubric_reward(
    spec: GraderSpec, files: dict[str, bytes]
) -> tuple[float | None, str, dict[str, dict[str, Any]]]:
    """(combined reward or None, what is wrong, each criterion's outcome)."""
    raw = files.get("reward.json")
    if raw is None:
        names = ", ".join(f'"{c.name}"' for c in spec.criteria)
        return None, f"the verifier wrote no {REWARD_JSON} (a rubric needs {names} in it)", {}
    try:
        value = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return None, "reward.json is not valid JSON", {}
    if not isinstance(value, dict):
        return None, "reward.json must be an object with one score per criterion", {}
    criteria: dict[str, dict[str, Any]] = {}
    for spec_criterion in spec.criteria:
        name = spec_criterion.name
        if name not in value:
            criteria[name] = criterion(None, "invalid-reward", f'reward.json has no "{name}"')
            continue
        verdict = interpret(value[name], spec.reward_range)
        criteria[name] = criterion(verdict.reward, verdict.error, verdict.detail)
    reward, error, detail = combine(spec, criteria)
    return reward, (detail if error else ""), criteria
