"""review threads: severity, suggested replacement, task-row anchor

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # server_default: threads written before this migration read as "normal".
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("severity", sa.String(length=10), server_default="normal", nullable=False)
        )
        batch_op.add_column(sa.Column("suggestion", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("task_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_column("task_id")
        batch_op.drop_column("suggestion")
        batch_op.drop_column("severity")
