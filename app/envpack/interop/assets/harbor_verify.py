"""Harbor verifier for one task exported by Gauntlet Studio (standard library only).

`tests/test.sh` runs this after the agent has finished. It reads the agent's answer file,
grades it exactly as Gauntlet Studio does (the `gauntlet_runtime` package next to this file is
a copy of the app's own graders), and writes the reward where Harbor reads it:
/logs/verifier/reward.json ({"reward": ...}) and /logs/verifier/reward.txt. Whatever goes
wrong (no answer file, a grader crash, a reward out of range), the reward is the floor.
"""

import argparse
import importlib.util
import json
import math
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main() -> None:
    spec = _load_json("grader.json")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answer", default=spec["answer_file"], help="the agent's answer file")
    parser.add_argument("--logs", default="/logs/verifier", help="where to write the reward")
    args = parser.parse_args()
    task = _load_json("task.json")
    low = float(spec["reward_range"][0])
    try:
        response = _read_answer(args.answer)
        if response is None:
            result = {"reward": low, "feedback": f"no answer file at {args.answer}"}
        else:
            result = grade(task, response, spec)
    except Exception as exc:  # noqa: BLE001 - any failure scores the floor, with the reason
        result = {"reward": low, "feedback": f"grading failed: {type(exc).__name__}: {exc}"}
    _write_reward(args.logs, result, spec)


def grade(task: dict, response: str, spec: dict) -> dict:
    kind = spec["type"]
    if kind == "match":
        from gauntlet_runtime.match import grade_match

        return grade_match(task, response, spec)
    if kind == "tests":
        from gauntlet_runtime.code_tests import grade_tests

        with tempfile.TemporaryDirectory(prefix="gauntlet-") as scratch:
            return grade_tests(task, response, spec, scratch, float(spec["timeout_s"]))
    if kind == "python":
        return _python_grade(task, response, spec)
    if kind == "rubric":
        return _rubric_grade(task, response, spec)
    raise ValueError(f"unsupported grader type {kind!r}")


def _python_grade(task: dict, response: str, spec: dict) -> dict:
    low, high = (float(x) for x in spec["reward_range"])
    file_name, _, function_name = spec["entry"].partition(":")
    folder = os.path.join(HERE, "grader")
    sys.path.insert(0, folder)
    module_spec = importlib.util.spec_from_file_location(
        "gauntlet_grader", os.path.join(folder, file_name)
    )
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    value = getattr(module, function_name or "grade")(task, response)
    feedback = ""
    if isinstance(value, dict):
        feedback = str(value.get("feedback", ""))
        value = value.get("reward")
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        return {"reward": low, "feedback": f"the grader returned an invalid reward: {value!r:.80}"}
    return {"reward": float(value), "feedback": feedback}


def _rubric_grade(task: dict, response: str, spec: dict) -> dict:
    """A rubric of code criteria, combined as the funnel combines them; each criterion's score
    is a numeric extra of reward.json. One criterion failing fails the rubric (the floor)."""
    from gauntlet_runtime.rubric_combine import (
        combine_scores,
        criterion_function,
        grade_code_criteria,
    )

    sys.path.insert(0, os.path.join(HERE, "grader"))  # the criteria may import helper modules
    modules = {}

    def load_module(file_name):
        if file_name not in modules:
            module_spec = importlib.util.spec_from_file_location(
                f"gauntlet_grader_{len(modules)}", os.path.join(HERE, "grader", file_name)
            )
            modules[file_name] = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(modules[file_name])
        return modules[file_name]

    graded = grade_code_criteria(
        spec, task, response, lambda c: criterion_function(spec, c, load_module)
    )
    if graded["failed"]:
        low = float(spec["reward_range"][0])
        return {"reward": low, "feedback": f"criterion {graded['failed']}"}
    scores = graded["scores"]
    feedback = ", ".join(f"{name}={score:g}" for name, score in scores.items())
    extras = {f"criterion_{name}": score for name, score in scores.items()}
    return {"reward": combine_scores(spec, scores), "feedback": feedback, "metrics": extras}


def _read_answer(path: str):
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    # `echo 42 > answer.txt` adds one line break; it is not part of the answer.
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def _load_json(name: str):
    with open(os.path.join(HERE, "gauntlet", name), encoding="utf-8") as handle:
        return json.load(handle)


def _write_reward(folder: str, result: dict, spec: dict) -> None:
    low = float(spec["reward_range"][0])
    reward = result.get("reward", low)
    if type(reward) not in (int, float) or not math.isfinite(reward):
        reward = low
    os.makedirs(folder, exist_ok=True)
    payload = {"reward": float(reward)}
    for key, value in (result.get("metrics") or {}).items():
        if key != "reward" and type(value) in (int, float) and math.isfinite(value):
            payload[str(key)] = value  # Harbor keeps numeric extras such as tests passed
    with open(os.path.join(folder, "reward.json"), "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    with open(os.path.join(folder, "reward.txt"), "w", encoding="utf-8") as handle:
        handle.write(f"{float(reward)}\n")
    print(f"reward: {float(reward)}")
    if result.get("feedback"):
        print(f"feedback: {result['feedback']}")


if __name__ == "__main__":
    main()
