"""Rewards for this environment, exported by Gauntlet Studio (standard library only).

`score(task, response)` grades exactly as Gauntlet Studio does: the `gauntlet_runtime`
package next to this file is a copy of the app's own graders (match modes, code test cases);
python graders run the package's own grader.py. The task's `@vf.reward` (in __init__.py)
calls it with the final reply. A rubric's code criteria are graded by `grade_criteria` and
combined as the funnel combines them (gauntlet_runtime/rubric_combine.py).
"""

import importlib.util
import json
import math
import os
import sys
import tempfile

from .gauntlet_runtime.code_tests import grade_tests
from .gauntlet_runtime.match import grade_match
from .gauntlet_runtime.rubric_combine import (
    combine_scores,
    criterion_function,
    grade_code_criteria,
)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def _load(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        return json.load(handle)


SPEC = _load("grader.json")
_python_grader = None
_grader_modules = {}


def load_tasks():
    with open(os.path.join(DATA, "tasks.jsonl"), encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_references():
    """{task id: reference response} from the export's pack.json (for the gold check)."""
    return {r["task_id"]: r["response"] for r in _load("pack.json").get("solutions", [])}


def score(task, response):
    """{"reward": float, "feedback": str} for one response, never raising."""
    low = float(SPEC["reward_range"][0])
    try:
        result = _grade(task, response)
    except Exception as exc:  # noqa: BLE001 - a failing grader scores the floor
        return {"reward": low, "feedback": f"grading failed: {type(exc).__name__}: {exc}"}
    reward = result.get("reward")
    if type(reward) not in (int, float) or not math.isfinite(reward):
        return {"reward": low, "feedback": "the grader returned no valid reward"}
    return {"reward": float(reward), "feedback": str(result.get("feedback", ""))}


def _grade(task, response):
    kind = SPEC["type"]
    if kind == "match":
        return grade_match(task, response, SPEC)
    if kind == "tests":
        with tempfile.TemporaryDirectory(prefix="gauntlet-") as scratch:
            return grade_tests(task, response, SPEC, scratch, float(SPEC["timeout_s"]))
    if kind == "python":
        return _python(task, response)
    if kind == "rubric" and not judge_criteria():
        graded = grade_criteria(task, response)
        if graded["failed"]:
            raise ValueError(f"criterion {graded['failed']}")
        feedback = ", ".join(f"{k}={v:g}" for k, v in graded["scores"].items())
        return {"reward": combine_scores(SPEC, graded["scores"]), "feedback": feedback}
    raise ValueError(f"grader type {kind!r} is not graded by a function")


def _python(task, response):
    global _python_grader
    low, high = (float(x) for x in SPEC["reward_range"])
    if _python_grader is None:
        file_name, _, function_name = SPEC["entry"].partition(":")
        folder = os.path.join(DATA, "grader")
        sys.path.insert(0, folder)  # the grader may import its helper modules
        spec = importlib.util.spec_from_file_location(
            "gauntlet_grader", os.path.join(folder, file_name)
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _python_grader = getattr(module, function_name or "grade")
    value = _python_grader(task, response)
    feedback = ""
    if isinstance(value, dict):
        feedback = str(value.get("feedback", ""))
        value = value.get("reward")
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        return {"reward": low, "feedback": f"the grader returned an invalid reward: {value!r:.80}"}
    return {"reward": float(value), "feedback": feedback}


def judge_criteria():
    """The rubric's judge criteria (asked of a model, never graded here)."""
    return [c for c in SPEC.get("criteria") or [] if c.get("judge") and not c.get("function")]


def grade_criteria(task, response):
    """The rubric's code criteria on one response: {"scores": {name: score}, "failed": ""}, or
    every code criterion at the floor with "failed" set when one of them fails (the funnel
    fails the whole rubric then)."""
    try:
        graded = grade_code_criteria(SPEC, task, response, _criterion)
    except Exception as exc:  # noqa: BLE001 - a grader that does not load scores the floor
        graded = {"scores": {}, "failed": f"the grader did not load: {type(exc).__name__}: {exc}"}
    if graded["failed"]:
        low = float(SPEC["reward_range"][0])
        codes = [c for c in SPEC.get("criteria") or [] if c not in judge_criteria()]
        graded["scores"] = {c["name"]: low for c in codes}
    return graded


def _criterion(criterion):
    return criterion_function(SPEC, criterion, _grader_module)


def _grader_module(file_name):
    if file_name not in _grader_modules:
        folder = os.path.join(DATA, "grader")
        if folder not in sys.path:
            sys.path.insert(0, folder)  # the criteria may import helper modules
        spec = importlib.util.spec_from_file_location(
            f"gauntlet_grader_{len(_grader_modules)}", os.path.join(folder, file_name)
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _grader_modules[file_name] = module
    return _grader_modules[file_name]
