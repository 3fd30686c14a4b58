"""The outbox: local changes waiting for the server, in the order they will be sent.

`queue` only ever runs inside the caller's transaction, next to the local effect of the change.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from app.sync.store.database import Repository, now
from app.sync.store.records import OutboxEntry


class OutboxRepository(Repository):
    def queue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        conn: sqlite3.Connection,
        idempotency_key: str | None = None,
    ) -> OutboxEntry:
        """Append an outbox row inside the caller's transaction (with its local effect)."""
        key = idempotency_key or str(uuid.uuid4())
        created = now()
        cursor = conn.execute(
            "INSERT INTO outbox (kind, payload, idempotency_key, created_at) VALUES (?, ?, ?, ?)",
            (kind, json.dumps(payload), key, created),
        )
        return OutboxEntry(cursor.lastrowid, kind, payload, key, "pending", 0, 0.0, None, created)

    def pending(self, *, include_parked: bool = True) -> list[OutboxEntry]:
        """Queued local changes in the order they will be sent (parked ones last)."""
        sql = "SELECT * FROM outbox"
        if not include_parked:
            sql += " WHERE state = 'pending'"
        return [_outbox_entry(r) for r in self._read(sql + " ORDER BY seq")]

    def get(self, seq: int) -> OutboxEntry | None:
        rows = self._read("SELECT * FROM outbox WHERE seq = ?", (seq,))
        return _outbox_entry(rows[0]) if rows else None

    def note_attempt(self, seq: int, error: str, next_attempt_at: float) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                "WHERE seq = ?",
                (error, next_attempt_at, seq),
            )

    def park(
        self, seq: int, state: str, error: str, conn: sqlite3.Connection | None = None
    ) -> None:
        """Set a change aside (conflict / failed) until the user decides what to do with it."""
        with self._write(conn) as c:
            c.execute(
                (
                    "UPDATE outbox SET state = ?, last_error = ?, "
                    "attempts = attempts + 1 WHERE seq = ?"
                ),
                (state, error, seq),
            )

    def retry(self, seq: int) -> None:
        """Put a parked change back in line (the user fixed the cause)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = 0 WHERE seq = ?", (seq,)
            )

    def complete(self, seq: int, conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def submission_ids(self) -> set[str]:
        """Submissions that a queued change refers to (they show as pending)."""
        rows = self._read(
            "SELECT json_extract(payload, '$.submission_id') AS sid FROM outbox "
            "WHERE json_extract(payload, '$.submission_id') IS NOT NULL"
        )
        return {str(r["sid"]) for r in rows}


def _outbox_entry(r: sqlite3.Row) -> OutboxEntry:
    return OutboxEntry(
        r["seq"],
        r["kind"],
        json.loads(r["payload"]),
        r["idempotency_key"],
        r["state"],
        r["attempts"],
        r["next_attempt_at"],
        r["last_error"],
        r["created_at"],
    )
