"""Multi-turn packages for the tests (DESIGN §4.2): a copy of a bundled template, changed
file by file, and a small tool-using package written from scratch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from app.resources import resource_path


def copy_template(name: str, root: Path) -> Path:
    target = root / name
    shutil.copytree(resource_path("templates") / name, target)
    return target


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


COUNTER_ENV = """\
schema = "gauntlet/1"
kind = "multi-turn"

[package]
name = "test/counter"
version = "0.1.0"
title = "A counter with tools"
description = "Count with tools; the grader reads the tools' state."
authors = ["Test <test@example.org>"]
license = "MIT"

[tasks]
path = "tasks.jsonl"

[grader]
type = "python"
entry = "grader.py:grade"
reward_range = [0.0, 1.0]
pass_threshold = 1.0
timeout_s = 5

[solutions]
path = "solutions.jsonl"

[negatives]
path = "negatives.jsonl"

[sandbox]
memory_mb = 256
"""

COUNTER_TOOLS = '''"""A counter: state per episode."""

count = 0
seeded = []


def setup(task):
    seeded.append(task["id"])


def add(amount: int) -> int:
    """Add to the counter.

    Args:
        amount: how much to add
    """
    global count
    count += amount
    return count


def boom() -> str:
    """Always fails."""
    raise RuntimeError("the boom tool failed")
'''

COUNTER_GRADER = """import tools


def grade(task, trajectory):
    last = trajectory[-1]
    said = last.get("content") or ""
    ok = tools.count == task["target"] and said.strip() == str(task["target"])
    return {"reward": 1.0 if ok else 0.0, "metrics": {"count": tools.count, "seeded": tools.seeded}}
"""


def counter_package(
    root: Path, *, tools: str = COUNTER_TOOLS, grader: str = COUNTER_GRADER
) -> Path:
    """Tasks ask to reach a target by adding; the reference adds then states the total."""
    pack = root / "counter"
    pack.mkdir()
    (pack / "env.toml").write_text(COUNTER_ENV, encoding="utf-8")
    (pack / "README.md").write_text("# Counter\n\nA test package.\n", encoding="utf-8")
    (pack / "tools.py").write_text(tools, encoding="utf-8")
    (pack / "grader.py").write_text(grader, encoding="utf-8")
    write_jsonl(
        pack / "tasks.jsonl",
        [
            {"id": "five", "prompt": "Reach 5.", "target": 5, "max_turns": 3, "user": []},
            {"id": "seven", "prompt": "Reach 7.", "target": 7, "max_turns": 3, "user": []},
        ],
    )
    write_jsonl(
        pack / "solutions.jsonl",
        [
            {"task_id": t, "turns": [add_turn(n), {"role": "assistant", "content": str(n)}]}
            for t, n in (("five", 5), ("seven", 7))
        ],
    )
    write_jsonl(
        pack / "negatives.jsonl",
        [{"task_id": "five", "turns": [{"role": "assistant", "content": "5"}], "note": "no work"}],
    )
    return pack


def add_turn(amount: int) -> dict:
    return {"role": "assistant", "tool_calls": [{"name": "add", "arguments": {"amount": amount}}]}


# the stage 1 codes tests/envpack/test_envpack_multiturn.py triggers, each with its mistake
MULTITURN_TRIGGERED = (
    "GX107",
    "GX108",
    "GX109",
    "GX116",
    "GX117",
    "GX118",
    "GX119",
    "GX147",
    "GX148",
)
