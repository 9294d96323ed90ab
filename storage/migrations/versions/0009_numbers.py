"""numbers: founder interventions and expansion opportunities

Revision ID: 0009_numbers
Revises: 0008_inbox
Create Date: 2026-11-29 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009_numbers"
down_revision: str | Sequence[str] | None = "0008_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intervention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("founder_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dismissed_by", sa.String(length=32), nullable=True),
        sa.Column("dismissed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_intervention_day", "intervention", ["day"], unique=False)
    op.create_table(
        "expansion_opportunity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("next_step", sa.String(length=300), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
    )
    op.create_index("ix_expansion_client", "expansion_opportunity", ["client_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_expansion_client", table_name="expansion_opportunity")
    op.drop_table("expansion_opportunity")
    op.drop_index("ix_intervention_day", table_name="intervention")
    op.drop_table("intervention")
