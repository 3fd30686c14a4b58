"""Python-grader packages whose grader never answers, or crashes on every call, for the tests of
the bounded worst case (app/sandbox/guard.py)."""

from __future__ import annotations

import json
from pathlib import Path

NEVER_ANSWERS = """import time


def grade(task, response):
    while True:  # waits for something that never comes
        time.sleep(3600)
"""

CRASHES = """import os
import signal


def grade(task, response):
    os.kill(os.getpid(), signal.SIGKILL)
"""

ANSWERS = """def grade(task, response):
    return 1.0 if response.strip() == task["answer"] else 0.0
"""


def write_package(root: Path, grader: str, *, timeout_s: float, tasks: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "env.toml").write_text(
        f"""schema = "gauntlet/1"
kind = "qa"

[package]
name = "tests/bounded"
version = "0.1.0"
title = "A grader for the bounded worst case"
description = "A package used by the tests of the funnel time bounds."
license = "CC0-1.0"
authors = ["Gauntlet tests <tests@gauntlet.example>"]

[tasks]
path = "tasks.jsonl"

[grader]
type = "python"
entry = "grader.py:grade"
reward_range = [0.0, 1.0]
pass_threshold = 1.0
timeout_s = {timeout_s:g}

[solutions]
path = "solutions.jsonl"

[sandbox]
cpus = 1.0
memory_mb = 256
""",
        encoding="utf-8",
    )
    (root / "grader.py").write_text(grader, encoding="utf-8")
    rows = [
        {
            "id": f"t{i}",
            "prompt": f"What is {i} + {i}? Reply with the number.",
            "answer": str(2 * i),
        }
        for i in range(tasks)
    ]
    (root / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (root / "solutions.jsonl").write_text(
        "".join(json.dumps({"task_id": r["id"], "response": r["answer"]}) + "\n" for r in rows),
        encoding="utf-8",
    )
    return root
