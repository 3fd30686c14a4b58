"""What a reviewer reads from their local store after a sync: the queue of assigned
submissions, one submission in full, and the files changed since the reviewer's last verdict.
Shared by `gauntlet review` and the app's review screens, so both say the same thing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.errors import UserError


def review_json(review) -> dict[str, Any]:
    return {
        "id": review.id,
        "reviewer": review.reviewer,
        "verdict": review.verdict,
        "revision": review.data.get("revision"),
        "scores": review.data.get("scores") or {},
        "summary": review.data.get("summary") or "",
        "created_at": review.created_at,
    }


def thread_json(thread) -> dict[str, Any]:
    return {
        "id": thread.id,
        "file": thread.file,
        "start_line": thread.start_line,
        "end_line": thread.end_line,
        "anchor_state": thread.anchor_state,
        "resolved": thread.resolved,
        "severity": thread.severity,
        "suggestion": thread.suggestion,
        "task_id": thread.task_id,
        "comments": [
            {
                "id": c.id,
                "author": c.author,
                "body": c.body,
                "created_at": c.created_at,
                "pending": c.pending,
            }
            for c in thread.comments
        ],
    }


def age(timestamp: str | None, now: datetime | None = None) -> str:
    """'5m', '3h', '2d': how long something has waited."""
    if not timestamp:
        return "?"
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "?"
    seconds = max(0, ((now or datetime.now(UTC)) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _assigned(sub, me_id: str | None) -> bool:
    reviewers = sub.data.get("reviewers") or []
    ids = {r.get("id") for r in reviewers if isinstance(r, dict)}
    return me_id in ids if me_id else bool(ids)


def _check(revision) -> dict[str, Any]:
    check = revision.data.get("check") if revision else None
    check = check if isinstance(check, dict) else {}
    return {"status": check.get("status") or "", "verdict": check.get("verdict")}


def queue_rows(store, me_id: str | None) -> list[dict[str, Any]]:
    """The submissions assigned to me, the longest-waiting first."""
    rows = []
    for sub in store.submissions.list():
        if sub.id.startswith("pending:") or not _assigned(sub, me_id):
            continue
        revisions = store.submissions.revisions(sub.id)
        latest = revisions[-1] if revisions else None
        bounty = store.bounties.get(sub.bounty_id)
        mine = my_reviews(store, sub.id, me_id)
        rows.append(
            {
                "id": sub.id,
                "bounty_id": sub.bounty_id,
                "bounty_title": bounty.title if bounty else "",
                "state": sub.state,
                "revision": sub.latest_revision,
                "waiting_since": latest.created_at if latest else sub.updated_at,
                "age": age(latest.created_at if latest else sub.updated_at),
                "check": _check(latest),
                "my_last_verdict": mine[-1]["verdict"] if mine else None,
                "my_last_revision": mine[-1]["revision"] if mine else None,
            }
        )
    return sorted(rows, key=lambda r: r["waiting_since"] or "")


def my_reviews(store, submission_id: str, me_id: str | None) -> list[dict[str, Any]]:
    return [
        review_json(r)
        for r in store.reviews.list(submission_id)
        if me_id and (r.data.get("reviewer") or {}).get("id") == me_id
    ]


def changed_files(old: dict[str, str] | None, new: dict[str, str]) -> list[dict[str, str]]:
    """Files added, modified or deleted between two manifests ({path: sha256})."""
    if old is None:
        return [{"path": p, "change": "added"} for p in sorted(new)]
    changes = []
    for path in sorted(set(old) | set(new)):
        if path not in old:
            changes.append({"path": path, "change": "added"})
        elif path not in new:
            changes.append({"path": path, "change": "deleted"})
        elif old[path] != new[path]:
            changes.append({"path": path, "change": "modified"})
    return changes


def assigned_submission(store, submission_id: str):
    """The submission as the local store knows it, or a UserError saying how to find yours."""
    sub = store.submissions.get(submission_id)
    if sub is None or sub.latest_revision is None:
        raise UserError(
            f"Submission {submission_id} is not in your review queue.",
            "It is not assigned to you, or it does not exist. `gauntlet review list` shows "
            "the submissions assigned to you.",
        )
    return sub


def submission_detail(store, submission_id: str, me_id: str | None) -> dict[str, Any]:
    sub = assigned_submission(store, submission_id)
    revisions = {r.number: r for r in store.submissions.revisions(sub.id)}
    latest = revisions.get(sub.latest_revision)
    mine = my_reviews(store, sub.id, me_id)
    since = mine[-1]["revision"] if mine else None
    before = revisions.get(since) if since is not None else None
    bounty = store.bounties.get(sub.bounty_id)
    files = (latest.data.get("files") if latest else None) or {}
    return {
        "id": sub.id,
        "bounty_id": sub.bounty_id,
        "bounty_title": bounty.title if bounty else "",
        "author": sub.author,  # the name, as the store keeps it (see records.person)
        "state": sub.state,
        "revision": sub.latest_revision,
        "check": _check(latest),
        "last_reviewed_revision": since,
        "changed_files": changed_files((before.data.get("files") or {}) if before else None, files),
        "threads": [thread_json(t) for t in store.reviews.threads_for(sub.id)],
        "reviews": [review_json(r) for r in store.reviews.list(sub.id)],
        "rubric": list(bounty.rubric or []) if bounty else [],
    }
