"""The review changes in the outbox that belong to one submission, read for the review screens:
which are still waiting to sync, and which the platform refused (with the draft the user wrote,
so it is shown again instead of being lost). No Qt here."""

from __future__ import annotations

from dataclasses import dataclass

from app.sync.state import SyncPhase
from app.sync.store import OutboxEntry

REVIEW_KINDS = ("thread", "reply", "resolve", "review")
VERDICT_LABELS = {
    "approve": "approve",
    "request_changes": "request changes",
    "reject": "reject",
    "comment": "comment",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    entry: OutboxEntry
    what: str  # "New thread on grader.py:3-4", "Verdict 'approve' on revision 1"
    message: str  # the platform's answer, in its words
    draft: str  # what the user wrote; kept until they send it again or discard it

    @property
    def seq(self) -> int:
        return self.entry.seq


def review_entries(store, submission_id: str) -> list[OutboxEntry]:
    """Queued review changes of this submission, oldest first (replies and resolves belong to
    it through their thread)."""
    entries = [e for e in store.outbox.pending() if e.kind in REVIEW_KINDS]
    if not entries:
        return []
    thread_ids = {t.id for t in store.reviews.threads_for(submission_id)}
    mine = []
    for entry in entries:
        if entry.kind in ("thread", "review"):
            if entry.payload.get("submission_id") == submission_id:
                mine.append(entry)
        elif entry.payload.get("thread_id") in thread_ids:
            mine.append(entry)
    return mine


def is_refused(entry: OutboxEntry, engine) -> bool:
    """Set aside after a refusal, or holding up the queue because the platform said no (403:
    not assigned, your own submission). A change that only waits for the network is not."""
    if entry.state in ("failed", "conflict"):
        return True
    if not entry.last_error or engine is None:
        return False
    state = engine.status.state
    # A 403 stops the queue at this change and becomes the sync's error message; an offline
    # wait keeps the message too, but then the phase is OFFLINE.
    return state.phase == SyncPhase.ERROR and state.message == entry.last_error


def split_entries(store, engine, submission_id: str) -> tuple[list[OutboxEntry], list[Refusal]]:
    """(waiting to sync, refused) review changes of the submission."""
    waiting, refused = [], []
    for entry in review_entries(store, submission_id):
        if is_refused(entry, engine):
            refused.append(Refusal(entry, describe(entry), entry.last_error or "", draft_of(entry)))
        else:
            waiting.append(entry)
    return waiting, refused


def where(path: str | None, start: int | None, end: int | None, task_id: str | None) -> str:
    """grader.py:3-4, task q1, or "the whole submission"."""
    if task_id:
        return f"task {task_id}"
    if not path:
        return "the whole submission"
    if start is None:
        return path
    return f"{path}:{start}" if end in (None, start) else f"{path}:{start}-{end}"


def describe(entry: OutboxEntry) -> str:
    p = entry.payload
    if entry.kind == "thread":
        place = where(p.get("path"), p.get("start_line"), p.get("end_line"), p.get("task_id"))
        return f"New thread on {place}"
    if entry.kind == "reply":
        return "Reply"
    if entry.kind == "resolve":
        return "Resolving a thread" if p.get("resolved") else "Reopening a thread"
    verdict = VERDICT_LABELS.get(p.get("verdict"), str(p.get("verdict")))
    return f"Verdict '{verdict}' on revision {p.get('revision')}"


def draft_of(entry: OutboxEntry) -> str:
    p = entry.payload
    if entry.kind in ("thread", "reply"):
        return str(p.get("body") or "")
    if entry.kind == "review":
        return str(p.get("summary") or "")
    return ""
