"""Drafts: env packs the user works on, linked to a bounty (local only, never synced)."""

from __future__ import annotations

from pathlib import Path

from app.sync.store.database import Repository, now
from app.sync.store.records import Draft


class DraftRepository(Repository):
    def add(self, path: str | Path, bounty_id: str | None, title: str = "") -> Draft:
        stamp = now()
        resolved = str(Path(path).resolve())
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO drafts (path, bounty_id, title, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                "bounty_id = COALESCE(excluded.bounty_id, drafts.bounty_id), "
                "title = CASE WHEN excluded.title = '' THEN drafts.title ELSE excluded.title END, "
                "updated_at = excluded.updated_at",
                (resolved, bounty_id, title, stamp, stamp),
            )
        draft = self.for_path(resolved)
        assert draft is not None
        return draft

    def list(self) -> list[Draft]:
        return [
            Draft(**dict(r)) for r in self._read("SELECT * FROM drafts ORDER BY updated_at DESC")
        ]

    def for_path(self, path: str | Path) -> Draft | None:
        rows = self._read("SELECT * FROM drafts WHERE path = ?", (str(Path(path).resolve()),))
        return Draft(**dict(rows[0])) if rows else None

    def remove(self, draft_id: int) -> None:
        """Forget a draft (the folder on disk is left alone)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))
