"""connectors: where each client's Linear/GitHub board lives, the cached board, its freshness;
the weekly Client Health Report drafts; each client's success criteria

Revision ID: 0012_connectors
Revises: 0008_inbox
Create Date: 2026-11-29 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0012_connectors"
down_revision: str | Sequence[str] | None = "0008_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connector_source",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("linear", sa.JSON(), nullable=True),
        sa.Column("github", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id"),
    )
    op.create_table(
        "connector_fetch",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("fetched_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tried_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failing_since", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "source"),
    )
    op.create_table(
        "board_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("fetched_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id", "source", "kind", "key", name="uq_board_item"),
    )
    op.create_index("ix_board_item_client", "board_item", ["client_id", "kind"], unique=False)
    op.create_table(
        "health_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_by", sa.String(length=32), nullable=True),
        sa.Column("edited_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("posted_by", sa.String(length=32), nullable=True),
        sa.Column("posted_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id", "week", name="uq_health_report_week"),
    )

    op.create_table(
        "success_plan",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id"),
    )


def downgrade() -> None:
    op.drop_table("success_plan")
    op.drop_table("health_report")
    op.drop_index("ix_board_item_client", table_name="board_item")
    op.drop_table("board_item")
    op.drop_table("connector_fetch")
    op.drop_table("connector_source")
