"""The local store: what the app knows about the platform, readable offline.

One SQLite file per platform (`data_dir()/sync/<platform key>.sqlite`) shared by one repository
per kind of record: `store.bounties`, `store.drafts`, `store.submissions` (with revisions and
reports), `store.reviews` (with threads and comments) and `store.outbox`. The store itself keeps
the sync cursor, the ETag cache and the change feed, which touches every kind at once.

Every local change that must reach the server (a withdrawal, a reply, a submission) is written
together with its outbox row in one transaction:

    with store.transaction() as conn:
        store.submissions.set_local_state(sid, "withdrawn", conn)
        store.outbox.queue("withdraw", {...}, conn=conn)

so a crash can never leave one without the other.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.sync.store.bounty_repo import BountyRepository
from app.sync.store.database import Database
from app.sync.store.draft_repo import DraftRepository
from app.sync.store.outbox_repo import OutboxRepository
from app.sync.store.review_repo import ReviewRepository
from app.sync.store.submission_repo import SubmissionRepository


class LocalStore:
    def __init__(self, path: str | Path) -> None:
        self._db = Database(path)
        self.path = self._db.path
        self.bounties = BountyRepository(self._db)
        self.drafts = DraftRepository(self._db)
        self.outbox = OutboxRepository(self._db)
        self.submissions = SubmissionRepository(self._db, self.outbox)
        self.reviews = ReviewRepository(self._db)

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction; repository writes given its `conn` join it."""
        return self._db.transaction()

    @property
    def schema_version(self) -> int:
        return self._db.schema_version

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta: sync cursor and small settings --------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self._db.read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else default

    def set_meta(self, key: str, value: str | None, conn: sqlite3.Connection | None = None) -> None:
        with self._db.write(conn) as c:
            if value is None:
                c.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                c.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    @property
    def cursor(self) -> str | None:
        """Where the change feed left off (None before the first sync)."""
        return self.get_meta("sync.cursor")

    # -- ETags ---------------------------------------------------------------------------------

    def cached_response(self, url: str) -> tuple[str, Any] | None:
        rows = self._db.read("SELECT etag, body FROM etags WHERE url = ?", (url,))
        return (rows[0]["etag"], json.loads(rows[0]["body"])) if rows else None

    def cache_response(self, url: str, etag: str, body: Any) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO etags (url, etag, body) VALUES (?, ?, ?) ON CONFLICT (url) "
                "DO UPDATE SET etag = excluded.etag, body = excluded.body",
                (url, etag, json.dumps(body)),
            )

    # -- the change feed ----------------------------------------------------------------------

    def apply_changes(self, changes: Sequence[dict[str, Any]], next_cursor: str) -> int:
        """Apply one page of `GET /v1/changes` and move the cursor, in one transaction.

        A crash mid-page leaves the old cursor and the old rows, so the page is simply fetched
        and applied again (every change is an idempotent upsert).
        """
        upserts = {
            "submission": self.submissions.upsert,
            "revision": self.submissions.upsert_revision,
            "thread": self.reviews.upsert_thread,
            "comment": self.reviews.upsert_comment,
            "review": self.reviews.upsert,
        }
        with self.transaction() as conn:
            self.bounties.upsert(
                (
                    c.get("data")
                    for c in changes
                    if c.get("entity") == "bounty" and c.get("op") == "upsert"
                ),
                conn=conn,
            )
            for change in changes:
                entity, op, data = change.get("entity"), change.get("op"), change.get("data")
                if op == "delete":
                    if entity == "submission":
                        self.submissions.delete(str(change.get("id")), conn=conn)
                    elif entity == "bounty":
                        self.bounties.delete([str(change.get("id"))], conn=conn)
                    continue
                handler = upserts.get(str(entity))
                if handler is not None and isinstance(data, dict):
                    handler(data, conn=conn)
                # Bounties were stored above; unknown entities (a newer server) are skipped.
            self.set_meta("sync.cursor", next_cursor, conn=conn)
        return len(changes)
