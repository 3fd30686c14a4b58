"""Code tasks (`kind = "code"`, `grader.type = "tests"`): each task names the function the
response must define and carries well-formed test cases, kept out of the prompt."""

from __future__ import annotations

import json
import keyword
import re
from typing import Any

from app.envpack.checks.context import CheckContext
from app.envpack.model import Task
from app.type_words import describe_type

TEST_CASE_KEYS = ("args", "kwargs", "expected", "note")


def check_code_tasks(ctx: CheckContext) -> None:
    pack = ctx.pack
    if pack.manifest.kind != "code" or pack.grader.type != "tests":
        return
    rel = ctx.tasks_file()
    for task in pack.tasks:
        entry = task.record.get("entry")
        if not isinstance(entry, str) or not entry.isidentifier() or keyword.iskeyword(entry):
            problem = "has no" if entry is None else f"has an invalid ({entry!r})"
            ctx.report(
                "GX180",
                (
                    f'Code task "{task.id}" {problem} "entry": '
                    "the name of the function the response defines."
                ),
                ctx.at_record(rel, task.line, "entry" if "entry" in task.record else "id"),
                task_id=task.id,
            )
        tests = task.record.get("tests")
        if not isinstance(tests, list) or not tests:
            ctx.report(
                "GX181",
                f'Code task "{task.id}" has no test cases in "tests".',
                ctx.at_record(rel, task.line, "tests" if "tests" in task.record else "id"),
                task_id=task.id,
            )
            continue
        for index, case in enumerate(tests, 1):
            problem = _case_problem(case)
            if problem:
                ctx.report(
                    "GX182",
                    f'Task "{task.id}", test {index}: {problem}.',
                    ctx.at_record(rel, task.line, "tests"),
                    task_id=task.id,
                )
        if isinstance(entry, str) and _prompt_reveals_tests(task, entry, tests):
            ctx.report(
                "GX191",
                f'The prompt of task "{task.id}" contains every one of its test cases.',
                ctx.at_record(rel, task.line, "prompt"),
                task_id=task.id,
            )


def _case_problem(case: Any) -> str | None:
    if not isinstance(case, dict):
        return (
            'a test case must be an object like {"args": [...], "expected": ...}, '
            f"not {describe_type(case)}"
        )
    unknown = [key for key in case if key not in TEST_CASE_KEYS]
    if unknown:
        return f'unknown key "{unknown[0]}" (allowed: {", ".join(TEST_CASE_KEYS)})'
    if "args" in case and not isinstance(case["args"], list):
        return f'"args" must be a list of arguments, not {describe_type(case["args"])}'
    if "kwargs" in case and not (
        isinstance(case["kwargs"], dict) and all(k.isidentifier() for k in case["kwargs"])
    ):
        return '"kwargs" must be an object of keyword arguments'
    if "expected" not in case:
        return 'missing "expected" (the value the function must return)'
    return None


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _prompt_reveals_tests(task: Task, entry: str, tests: list[Any]) -> bool:
    prompt = _squash(task.prompt)
    if not prompt or not tests:
        return False
    for case in tests:
        if not isinstance(case, dict) or not isinstance(case.get("args", []), list):
            return False
        args = case.get("args", [])
        calls = {
            _squash(f"{entry}({', '.join(json.dumps(a) for a in args)})"),
            _squash(f"{entry}({', '.join(repr(a) for a in args)})"),
        }
        expected = {_squash(json.dumps(case.get("expected"))), _squash(repr(case.get("expected")))}
        if not any(c in prompt for c in calls) or not any(e in prompt for e in expected):
            return False
    return True
