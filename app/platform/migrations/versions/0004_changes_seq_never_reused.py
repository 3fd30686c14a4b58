"""changes.seq: never reuse a number on SQLite

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Without AUTOINCREMENT, SQLite hands out max(rowid) + 1. Republishing the newest entity deletes
its row and inserts it again, so the new row got the seq a client's cursor already stood at,
and that client never saw the change (a reopened thread stayed resolved for the reviewer).
PostgreSQL's sequence never reuses numbers; nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # Nothing references `changes`, so the batch's copy-and-rename is safe here.
    with op.batch_alter_table(
        "changes", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("changes", recreate="always"):
        pass
