"""support: support requests, product feedback themes, the reference program

Revision ID: 0011_support
Revises: 0008_inbox
Create Date: 2026-11-29 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011_support"
down_revision: str | Sequence[str] | None = "0008_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def _client() -> sa.Column:
    return sa.Column(
        "client_id", sa.Integer(), sa.ForeignKey("client.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "support_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        _client(),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("asker", sa.String(length=32), nullable=False),
        sa.Column("excerpt", sa.String(length=300), nullable=False),
        sa.Column("permalink", sa.String(length=500), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("feedback", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("opened_at", False),
        _at("response_due", False),
        _at("resolution_due", False),
        _at("first_response_at"),
        sa.Column("first_response_by", sa.String(length=32), nullable=True),
        sa.Column("first_response_ts", sa.String(length=32), nullable=True),
        sa.Column("team_replies", sa.Integer(), nullable=False),
        _at("resolved_at"),
        sa.Column("resolved_by", sa.String(length=32), nullable=True),
        _at("response_breached_at"),
        _at("resolution_breached_at"),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_support_request_client_status", "support_request", ["client_id", "status"])
    op.create_index("ix_support_request_channel_status", "support_request", ["channel", "status"])
    op.create_index("ix_support_request_opened", "support_request", ["opened_at"])
    op.create_table(
        "feedback_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        _client(),
        sa.Column("theme", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("excerpt", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=32), nullable=True),
        _at("created_at", False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_feedback_item_theme", "feedback_item", ["theme"])
    op.create_table(
        "feedback_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=120), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        _at("created_at", False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("theme", "accounts", name="uq_feedback_post_theme"),
    )
    op.create_table(
        "reference_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        _client(),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("use_cases", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("by", sa.String(length=32), nullable=True),
        _at("entered_at", False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
    )
    op.create_table(
        "reference_ask",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        _client(),
        sa.Column("ask", sa.String(length=300), nullable=False),
        sa.Column("asked_by", sa.String(length=32), nullable=False),
        _at("asked_at", False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        _at("outcome_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_reference_ask_client", "reference_ask", ["client_id", "asked_at"])
    op.create_table(
        "case_study_candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        _client(),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        _at("created_at", False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("case_study_candidate")
    op.drop_index("ix_reference_ask_client", table_name="reference_ask")
    op.drop_table("reference_ask")
    op.drop_table("reference_entry")
    op.drop_table("feedback_post")
    op.drop_index("ix_feedback_item_theme", table_name="feedback_item")
    op.drop_table("feedback_item")
    op.drop_index("ix_support_request_opened", table_name="support_request")
    op.drop_index("ix_support_request_channel_status", table_name="support_request")
    op.drop_index("ix_support_request_client_status", table_name="support_request")
    op.drop_table("support_request")
