"""How reviews and threads look in the terminal: shared by the author's `gauntlet reviews` and
the reviewer's `gauntlet review`, so both show a thread the same way. (Their --json shape is
app/sync/review_queue.py's `review_json` and `thread_json`, which the app reads too.)"""

from __future__ import annotations

from typing import Any


def print_review(out, review: dict[str, Any]) -> None:
    out.plain(
        f"  review by {review['reviewer']} on revision {review['revision']}: {review['verdict']}"
    )
    if review["scores"]:
        scores = ", ".join(f"{k}={v:g}" for k, v in sorted(review["scores"].items()))
        out.plain(f"    scores: {scores}")
    if review["summary"]:
        out.plain(f"    {review['summary'].strip()}")


def _where(thread: dict[str, Any]) -> str:
    if not thread["file"]:
        return "general"
    start, end = thread["start_line"], thread["end_line"]
    lines = f"{start}-{end}" if end and end != start else f"{start}"
    task = f" (task {thread['task_id']})" if thread.get("task_id") else ""
    return f"{thread['file']}:{lines}{task}"


_SEVERITY_COLOURS = {"blocking": "red", "nit": "dim"}


def print_thread(out, thread: dict[str, Any], *, with_id: bool = False) -> None:
    state = "resolved" if thread["resolved"] else thread["anchor_state"]
    severity = thread.get("severity") or "normal"
    label = out.paint(severity, _SEVERITY_COLOURS.get(severity, "yellow"))
    ident = f"{thread['id']}  " if with_id else ""
    out.plain(f"  {ident}{_where(thread)} [{state}] {label}")
    for comment in thread["comments"]:
        pending = " (not sent yet)" if comment["pending"] else ""
        out.plain(f"    {comment['author']}: {comment['body'].strip()}{pending}")
    if thread.get("suggestion") is not None:
        out.plain("    suggested replacement:")
        for line in thread["suggestion"].splitlines() or [""]:
            out.plain(f"      | {line}")
