"""bounties.calibration_targets and revisions.card_sha256: a bounty's calibration targets, and
the pack card (`gauntlet calibrate`'s card.json, a blob) a revision carries

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (see 0003): a batch on SQLite would copy and drop tables that others'
    # foreign keys point at. The server default fills the existing bounties with no targets.
    op.add_column(
        "bounties",
        sa.Column("calibration_targets", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column("revisions", sa.Column("card_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_column("card_sha256")
    with op.batch_alter_table("bounties", schema=None) as batch_op:
        batch_op.drop_column("calibration_targets")
