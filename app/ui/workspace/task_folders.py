"""An agentic package's task folders (`tasks/<id>/`, DESIGN §4.1) as the file tree shows them:
one entry a task, named by its id and the first heading of its instruction, with its files in
plain-words groups. Plain Python (no Qt): `file_tree` turns it into tree items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.envpack.agentic_tasks import INSTRUCTION, TASKS_DIR

# Group title -> the first path part inside the task folder that belongs to it, in tree order.
GROUPS = {
    "Instruction": INSTRUCTION,
    "Environment": "environment",
    "Solution": "solution",
    "Tests": "tests",
    "Negatives": "negatives",
}
OTHER = "Other files"
TITLE_CHARS = 60  # a long heading is cut: the tree is a narrow column
TITLE_READ_BYTES = 4096  # the heading is near the top; a huge instruction is not read whole


@dataclass
class TaskFolder:
    task_id: str
    title: str = ""
    groups: dict[str, list[str]] = field(default_factory=dict)  # group -> package relpaths

    @property
    def label(self) -> str:
        return f"{self.task_id} — {self.title}" if self.title else self.task_id


def task_folders(root: Path, files: list[str]) -> list[TaskFolder]:
    """The tasks among `files` (package-relative posix paths), sorted by id, groups in order."""
    tasks: dict[str, TaskFolder] = {}
    for rel in files:
        parts = rel.split("/")
        if len(parts) < 3 or parts[0] != TASKS_DIR:
            continue
        task = tasks.setdefault(parts[1], TaskFolder(parts[1]))
        task.groups.setdefault(group_of(parts[2]), []).append(rel)
    order = [*GROUPS, OTHER]
    for task in tasks.values():
        task.groups = {g: task.groups[g] for g in order if g in task.groups}
        task.title = instruction_title(root / TASKS_DIR / task.task_id / INSTRUCTION)
    return [tasks[task_id] for task_id in sorted(tasks)]


def short_name(relpath: str) -> str:
    """A tab's name for a file: its own name, with its task's id for a file in a task folder
    (every task has an instruction.md and a tests/test.sh)."""
    parts = relpath.split("/")
    if len(parts) >= 3 and parts[0] == TASKS_DIR:
        return f"{parts[1]}: {parts[-1]}"
    return parts[-1]


def group_of(first_part: str) -> str:
    """The group of a file whose path inside its task folder starts with `first_part`."""
    return next((g for g, part in GROUPS.items() if part == first_part), OTHER)


def instruction_title(path: Path) -> str:
    """The first Markdown heading (else the first line) of an instruction, shortened."""
    try:
        with path.open("rb") as handle:
            head = handle.read(TITLE_READ_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    heading = next((line for line in lines if line.startswith("#")), lines[0] if lines else "")
    title = heading.lstrip("#").strip()
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"
