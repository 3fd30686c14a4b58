"""Submissions with their revisions and the platform's reports on them.

A submission made offline exists only as a queued `submit` change until it is sent; `list`
shows it first, read from the outbox.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from app.sync.store.database import Database, Repository
from app.sync.store.outbox_repo import OutboxRepository
from app.sync.store.records import Revision, Submission, person, revision_id

# Children before parents; comments still pending (written offline) stay with their queued reply.
_DELETE_SUBMISSION = (
    "DELETE FROM comments WHERE thread_id IN "
    "(SELECT id FROM threads WHERE submission_id = ?) AND pending = 0",
    "DELETE FROM threads WHERE submission_id = ?",
    "DELETE FROM reviews WHERE submission_id = ?",
    "DELETE FROM reports WHERE revision_id IN (SELECT id FROM revisions WHERE submission_id = ?)",
    "DELETE FROM revisions WHERE submission_id = ?",
    "DELETE FROM submissions WHERE id = ?",
)


class SubmissionRepository(Repository):
    def __init__(self, db: Database, outbox: OutboxRepository) -> None:
        super().__init__(db)
        self._outbox = outbox

    def upsert(
        self,
        sub: dict[str, Any],
        conn: sqlite3.Connection | None = None,
        *,
        etag: str | None = None,
    ) -> None:
        """Store a submission as the API returns it (`version` gives its ETag)."""
        version = sub.get("version")
        etag = etag or (f'"{version}"' if version is not None else None)
        with self._write(conn) as c:
            self._upsert(
                c,
                "submissions",
                {
                    "id": str(sub["id"]),
                    "bounty_id": str(sub.get("bounty_id", "")),
                    "author": person(sub.get("author")),
                    "state": str(sub.get("state", "")),
                    "etag": etag,
                    "latest_revision": sub.get("current_revision"),
                    "created_at": sub.get("created_at"),
                    "updated_at": sub.get("updated_at"),
                    "data": json.dumps(sub),
                },
                merge={
                    "etag": "COALESCE(excluded.etag, submissions.etag)",
                    "latest_revision": "COALESCE(excluded.latest_revision, "
                    "submissions.latest_revision)",
                },
            )

    def set_local_state(
        self, submission_id: str, state: str | None, conn: sqlite3.Connection
    ) -> None:
        """The state a queued change will bring (None once the server confirmed or refused it)."""
        conn.execute("UPDATE submissions SET local_state = ? WHERE id = ?", (state, submission_id))

    def delete(self, submission_id: str, conn: sqlite3.Connection | None = None) -> None:
        """Drop a submission and everything under it (it is no longer visible to us)."""
        with self._write(conn) as c:
            for sql in _DELETE_SUBMISSION:
                c.execute(sql, (submission_id,))

    def list(self, *, bounty_id: str | None = None) -> list[Submission]:
        """Every submission the user can see, newest first, plus ones still waiting to be sent."""
        sql = "SELECT * FROM submissions"
        params: list[Any] = []
        if bounty_id is not None:
            sql += " WHERE bounty_id = ?"
            params.append(bounty_id)
        rows = self._read(sql + " ORDER BY COALESCE(updated_at, created_at) DESC, id", params)
        pending_ids = self._outbox.submission_ids()
        result = [_submission(r, r["id"] in pending_ids) for r in rows]
        result[:0] = self._queued_submissions(bounty_id)
        return result

    def get(self, submission_id: str) -> Submission | None:
        rows = self._read("SELECT * FROM submissions WHERE id = ?", (submission_id,))
        if not rows:
            return None
        return _submission(rows[0], submission_id in self._outbox.submission_ids())

    def for_bounty(self, bounty_id: str) -> Submission | None:
        """The user's own submission to a bounty (one per author per bounty), if any."""
        rows = self._read(
            "SELECT * FROM submissions WHERE bounty_id = ? AND state != 'withdrawn' "
            "ORDER BY updated_at DESC LIMIT 1",
            (bounty_id,),
        )
        return (
            _submission(rows[0], rows[0]["id"] in self._outbox.submission_ids()) if rows else None
        )

    def upsert_revision(self, rev: dict[str, Any], conn: sqlite3.Connection | None = None) -> None:
        """Store a revision as the API returns it; its `check.report` becomes the report."""
        check = rev.get("check") if isinstance(rev.get("check"), dict) else {}
        rev_id = revision_id(rev["submission_id"], rev["number"])
        with self._write(conn) as c:
            self._upsert(  # submission_id and number rewrite what the id already says
                c,
                "revisions",
                {
                    "id": rev_id,
                    "submission_id": str(rev["submission_id"]),
                    "number": int(rev["number"]),
                    "check_state": str(check.get("status") or ""),
                    "created_at": rev.get("created_at"),
                    "data": json.dumps(rev),
                },
            )
            report = check.get("report")
            if isinstance(report, dict):
                self.put_report(rev_id, report, conn=c)

    def revisions(self, submission_id: str) -> list[Revision]:
        rows = self._read(
            "SELECT * FROM revisions WHERE submission_id = ? ORDER BY number", (submission_id,)
        )
        return [
            Revision(
                r["id"],
                r["submission_id"],
                r["number"],
                r["check_state"],
                r["created_at"],
                json.loads(r["data"]),
            )
            for r in rows
        ]

    def put_report(
        self, revision_id: str, report: dict[str, Any], conn: sqlite3.Connection | None = None
    ) -> None:
        with self._write(conn) as c:
            c.execute(
                "INSERT INTO reports (revision_id, report) VALUES (?, ?) "
                "ON CONFLICT (revision_id) DO UPDATE SET report = excluded.report",
                (revision_id, json.dumps(report)),
            )

    def report_for(self, revision_id: str) -> dict[str, Any] | None:
        """The server's own funnel report (gauntlet-report/1) for a revision, once pulled."""
        rows = self._read("SELECT report FROM reports WHERE revision_id = ?", (revision_id,))
        return json.loads(rows[0]["report"]) if rows else None

    def _queued_submissions(self, bounty_id: str | None) -> list[Submission]:
        """Submissions that exist only as a queued `submit` change (made offline)."""
        result = []
        for entry in self._outbox.pending():
            if entry.kind != "submit" or entry.payload.get("submission_id"):
                continue
            if bounty_id is not None and entry.payload.get("bounty_id") != bounty_id:
                continue
            state = "waiting to upload" if entry.state == "pending" else entry.state
            result.append(
                Submission(
                    id=f"pending:{entry.idempotency_key}",
                    bounty_id=str(entry.payload.get("bounty_id")),
                    author="",
                    state=state,
                    server_state="",
                    pending=True,
                    etag=None,
                    latest_revision=None,
                    created_at=entry.created_at,
                    updated_at=entry.created_at,
                    data={"outbox_seq": entry.seq, "path": entry.payload.get("path")},
                )
            )
        return result


def _submission(r: sqlite3.Row, pending: bool) -> Submission:
    return Submission(
        id=r["id"],
        bounty_id=r["bounty_id"],
        author=r["author"],
        state=r["local_state"] or r["state"],
        server_state=r["state"],
        pending=pending or r["local_state"] is not None,
        etag=r["etag"],
        latest_revision=r["latest_revision"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        data=json.loads(r["data"]),
    )
