"""Reviews of submissions, and the review threads and comments anchored in their files."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from app.sync.store.database import Repository, now
from app.sync.store.records import Comment, Review, Thread, person, revision_id, str_or_none


class ReviewRepository(Repository):
    def upsert(self, review: dict[str, Any], conn: sqlite3.Connection | None = None) -> None:
        with self._write(conn) as c:
            self._upsert(
                c,
                "reviews",
                {
                    **_placed(review, review.get("revision")),
                    "reviewer": person(review.get("reviewer")),
                    "verdict": review.get("verdict"),
                    "created_at": review.get("created_at"),
                    "data": json.dumps(review),
                },
            )

    def list(self, submission_id: str | None = None) -> list[Review]:
        sql, params = "SELECT * FROM reviews", []
        if submission_id is not None:
            sql, params = sql + " WHERE submission_id = ?", [submission_id]
        rows = self._read(sql + " ORDER BY created_at, id", params)
        return [
            Review(
                r["id"],
                r["submission_id"],
                r["revision_id"],
                r["reviewer"],
                r["verdict"],
                r["created_at"],
                json.loads(r["data"]),
            )
            for r in rows
        ]

    def upsert_thread(self, thread: dict[str, Any], conn: sqlite3.Connection | None = None) -> None:
        """Store a thread; its file and lines are where it sits on the latest revision."""
        anchor = thread.get("anchor") if isinstance(thread.get("anchor"), dict) else {}
        position = thread.get("position") if isinstance(thread.get("position"), dict) else {}
        where = position or anchor
        with self._write(conn) as c:
            self._upsert(
                c,
                "threads",
                {
                    **_placed(thread, anchor.get("revision")),
                    "file": str(where.get("path") or ""),
                    "start_line": where.get("start_line"),
                    "end_line": where.get("end_line"),
                    "anchor_state": str(position.get("status") or "current"),
                    "resolved": int(bool(thread.get("resolved"))),
                    "author": person(thread.get("author")),
                    "created_at": thread.get("created_at"),
                    "severity": str(thread.get("severity") or "normal"),  # older servers: none
                    "suggestion": str_or_none(thread.get("suggestion")),
                    "task_id": str_or_none(thread.get("task_id")),
                    "data": json.dumps(thread),
                },
            )
            for comment in thread.get("comments") or ():
                self.upsert_comment({**comment, "thread_id": thread["id"]}, conn=c)

    def upsert_comment(
        self, comment: dict[str, Any], conn: sqlite3.Connection | None = None
    ) -> None:
        with self._write(conn) as c:
            self._upsert(
                c,
                "comments",
                {
                    "id": str(comment["id"]),
                    "thread_id": str(comment.get("thread_id", "")),
                    "parent_id": str_or_none(comment.get("parent_id")),
                    "author": person(comment.get("author")),
                    "body": str(comment.get("body") or ""),
                    "created_at": comment.get("created_at"),
                    "pending": 0,  # the server has it now
                    "data": json.dumps(comment),
                },
            )

    def add_pending_comment(
        self,
        comment_id: str,
        thread_id: str,
        body: str,
        parent_id: str | None,
        author: str,
        conn: sqlite3.Connection,
    ) -> None:
        """A reply written locally, shown at once (marked pending) until the server has it."""
        conn.execute(
            "INSERT INTO comments (id, thread_id, parent_id, author, body, created_at, pending) "
            "VALUES (?, ?, ?, ?, ?, ?, 1)",
            (comment_id, thread_id, parent_id, author, body, now()),
        )

    def delete_comment(self, comment_id: str, conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM comments WHERE id = ?", (comment_id,))

    def set_thread_resolved(self, thread_id: str, resolved: bool, conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE threads SET resolved = ? WHERE id = ?", (int(resolved), thread_id))

    def threads_for(
        self, submission_id: str, file: str | None = None, *, include_resolved: bool = True
    ) -> list[Thread]:
        """Review threads on a submission (optionally one file), with their comments.

        Outdated threads are included: they stay visible until someone resolves them.
        """
        sql = "SELECT * FROM threads WHERE submission_id = ?"
        params: list[Any] = [submission_id]
        if file is not None:
            sql += " AND file = ?"
            params.append(file)
        if not include_resolved:
            sql += " AND resolved = 0"
        rows = self._read(sql + " ORDER BY file, start_line, created_at, id", params)
        comments = self._comments_by_thread([r["id"] for r in rows])
        return [
            Thread(
                r["id"],
                r["submission_id"],
                r["revision_id"],
                r["file"],
                r["start_line"],
                r["end_line"],
                r["anchor_state"],
                bool(r["resolved"]),
                r["author"],
                r["created_at"],
                json.loads(r["data"]),
                tuple(comments.get(r["id"], ())),
                severity=r["severity"],
                suggestion=r["suggestion"],
                task_id=r["task_id"],
            )
            for r in rows
        ]

    def comments_for(self, thread_id: str) -> list[Comment]:
        return self._comments_by_thread([thread_id]).get(thread_id, [])

    def _comments_by_thread(self, thread_ids: list[str]) -> dict[str, list[Comment]]:
        result: dict[str, list[Comment]] = {}
        for chunk_start in range(0, len(thread_ids), 500):
            chunk = thread_ids[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._read(
                f"SELECT * FROM comments WHERE thread_id IN ({marks}) "
                "ORDER BY pending, created_at, id",
                chunk,
            )
            for r in rows:
                result.setdefault(r["thread_id"], []).append(
                    Comment(
                        r["id"],
                        r["thread_id"],
                        r["parent_id"],
                        r["author"],
                        r["body"],
                        r["created_at"],
                        bool(r["pending"]),
                    )
                )
        return result


def _placed(record: dict[str, Any], revision: Any) -> dict[str, Any]:
    """The columns that say which submission (and revision of it) a review or thread is on."""
    sub = str(record.get("submission_id", ""))
    return {
        "id": str(record["id"]),
        "submission_id": sub,
        "revision_id": revision_id(sub, revision) if revision is not None else None,
    }
