"""The reviewer's extras on a new thread: a suggested replacement needs lines to replace, and a
task-row anchor must name a task of the revision's tasks.jsonl (a thread on a task row with no
path anchors to that row's line)."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from app.platform.models import Revision
from app.platform.problems import Problem
from app.platform.revisions import file_text
from app.platform.schemas import ThreadCreate

TASKS_FILE = "tasks.jsonl"


def _invalid(field: str, detail: str, msg: str) -> Problem:
    return Problem(
        422, detail, errors=[{"loc": ["body", field], "msg": msg, "type": "value_error"}]
    )


def task_line(text: str, task_id: str) -> int | None:
    """The 1-based line of the task with this id, or None."""
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and str(row.get("id")) == task_id:
            return number
    return None


def _task_ids(text: str) -> list[str]:
    ids = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "id" in row:
            ids.append(str(row["id"]))
    return ids


def checked_thread(session: Session, revision: Revision, body: ThreadCreate) -> ThreadCreate:
    """The thread request with its task row resolved to a line; a Problem (422) when the task
    or the suggestion cannot apply to this revision."""
    if body.task_id is not None:
        text = file_text(session, revision.files, TASKS_FILE)
        if text is None:
            raise _invalid(
                "task_id",
                f"revision {revision.number} has no {TASKS_FILE}; anchor the thread to a file "
                "and lines instead of a task",
                f"no {TASKS_FILE} in this revision",
            )
        line = task_line(text, body.task_id)
        if line is None:
            known = ", ".join(_task_ids(text)[:10]) or "none"
            raise _invalid(
                "task_id",
                f"no task {body.task_id!r} in {TASKS_FILE} of revision {revision.number} "
                f"(its task ids: {known})",
                "unknown task id",
            )
        if body.path is None:
            body = body.model_copy(
                update={"path": TASKS_FILE, "start_line": line, "end_line": line}
            )
    if body.suggestion is not None and body.path is None:
        raise _invalid(
            "suggestion",
            "a suggestion replaces lines: give the path and lines it replaces (or a task id)",
            "needs a path",
        )
    return body
