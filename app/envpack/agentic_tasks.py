"""Reading the Harbor-shaped task folders of an agentic package (`tasks/<id>/`, DESIGN §4.1).

Like the rest of the loader it never raises on bad input: a missing folder, a badly named task or
a missing required file is a finding, and every task that can be read is kept, so the checks and
the funnel still see as much of the package as possible.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.envpack.model import AgenticTask
from app.envpack.rules import rule
from app.envpack.source import PackageSource
from app.findings import Finding

TASKS_DIR = "tasks"
INSTRUCTION = "instruction.md"
SOLVE = "solution/solve.sh"
TEST = "tests/test.sh"
REQUIRED_FILES = (INSTRUCTION, SOLVE, TEST)
TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def load_agentic_tasks(source: PackageSource, emit: Callable[[Finding], None]) -> list[AgenticTask]:
    """The task folders under tasks/, sorted by id."""
    folder = source.path(TASKS_DIR)
    entries = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    entries = [p for p in entries if not p.name.startswith(".")]
    if not entries:
        emit(
            rule("GX162").finding(
                "This agentic package has no task folders under tasks/.", file=TASKS_DIR
            )
        )
        return []
    tasks: list[AgenticTask] = []
    for entry in entries:
        rel = f"{TASKS_DIR}/{entry.name}"
        if not TASK_ID.fullmatch(entry.name):
            emit(
                rule("GX164").finding(
                    f"The task folder name {entry.name!r} is not usable.", file=rel
                )
            )
            continue
        task = _read_task(source, entry.name, rel, emit)
        if task is not None:
            tasks.append(task)
    return tasks


def _read_task(
    source: PackageSource, task_id: str, rel: str, emit: Callable[[Finding], None]
) -> AgenticTask | None:
    missing = [name for name in REQUIRED_FILES if not source.path(f"{rel}/{name}").is_file()]
    for name in missing:
        emit(
            rule("GX163").finding(
                f"Task {task_id!r} has no {name}.",
                f"Create {rel}/{name}." + _what(name),
                file=f"{rel}/{name}",
            )
        )
    if missing:
        return None
    instruction = source.read_text(f"{rel}/{INSTRUCTION}").text or ""
    negatives_dir = source.path(f"{rel}/negatives")
    negatives: list[str] = []
    if negatives_dir.is_dir():
        for path in sorted(negatives_dir.iterdir()):
            if path.is_file() and path.suffix == ".sh" and TASK_ID.fullmatch(path.stem):
                negatives.append(path.stem)
            elif not path.name.startswith("."):
                emit(
                    rule("GX184").finding(
                        f"{rel}/negatives/{path.name} is not a <name>.sh script; it is ignored.",
                        file=f"{rel}/negatives/{path.name}",
                    )
                )
    return AgenticTask(
        id=task_id,
        folder=rel,
        instruction=instruction,
        negatives=negatives,
        has_dockerfile=source.path(f"{rel}/environment/Dockerfile").is_file(),
    )


def _what(name: str) -> str:
    return {
        INSTRUCTION: " It tells the agent what to do.",
        SOLVE: " It is the oracle: a correct solution, run the way an agent would run it.",
        TEST: " It is the verifier: it writes one number to /logs/verifier/reward.txt.",
    }[name]
