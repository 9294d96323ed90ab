"""outbox: unknown outcomes are checked in Slack before a re-send; Retry-After is kept

Revision ID: 0007_outbox
Revises: 0002_nudges
Create Date: 2026-11-29 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007_outbox"
down_revision: str | Sequence[str] | None = "0002_nudges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt_key", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("attempted_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("unsure_key", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("unsure_since", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("not_before", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.drop_column("not_before")
        batch_op.drop_column("unsure_since")
        batch_op.drop_column("unsure_key")
        batch_op.drop_column("attempted_at")
        batch_op.drop_column("attempt_key")
