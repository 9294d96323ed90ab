"""intervention posted_at: when the founder's message was posted, so the day's first message is
the one an intervention quotes however the messages are processed

Revision ID: 0014_intervention_posted
Revises: 0009_numbers
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0014_intervention_posted"
down_revision: str | Sequence[str] | None = "0009_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "intervention",
        sa.Column("posted_at", storage.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("intervention", "posted_at")
