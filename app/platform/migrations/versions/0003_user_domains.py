"""users.domains: the fields a reviewer is vetted in

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The server default fills existing rows on both SQLite and PostgreSQL; new rows get
    # their list from the model. A plain ADD COLUMN, not a batch: on SQLite a batch copies and
    # drops `users`, which the foreign keys of existing submissions and threads refuse.
    op.add_column(
        "users",
        sa.Column("domains", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("domains")
