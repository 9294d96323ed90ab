"""lifecycle: the sales handoff, onboarding checklists and hours, lifecycle stages, expansion
packages, close-outs

Revision ID: 0010_lifecycle
Revises: 0008_inbox
Create Date: 2026-11-29 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010_lifecycle"
down_revision: str | Sequence[str] | None = "0008_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def _client() -> sa.Column:
    return sa.Column(
        "client_id", sa.Integer(), sa.ForeignKey("client.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "client_lifecycle",
        sa.Column("id", sa.Integer(), primary_key=True),
        _client(),
        sa.Column("segment", sa.String(length=16), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("kickoff_on", sa.Date(), nullable=True),
        sa.Column("ae_id", sa.String(length=32), nullable=True),
        sa.Column("success_criteria", sa.JSON(), nullable=False),
        sa.Column("handoff", sa.JSON(), nullable=False),
        _utc("handoff_received_at", True),
        _utc("started_at", False),
        sa.Column("started_by", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        _utc("handed_off_at", True),
        sa.UniqueConstraint("client_id"),
    )
    op.create_table(
        "onboarding_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        _client(),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("anchor", sa.String(length=16), nullable=False),
        sa.Column("marks", sa.String(length=16), nullable=True),
        sa.Column("phase", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _utc("due_at", False),
        _utc("done_at", True),
        sa.Column("done_by", sa.String(length=32), nullable=True),
        sa.UniqueConstraint("client_id", "item_id", name="uq_onboarding_item"),
    )
    op.create_index("ix_onboarding_item_client_id", "onboarding_item", ["client_id"])
    op.create_table(
        "onboarding_hours",
        sa.Column("id", sa.Integer(), primary_key=True),
        _client(),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        _utc("logged_at", False),
        sa.Column("request_key", sa.String(length=120), nullable=True),
        sa.UniqueConstraint("request_key"),
    )
    op.create_index("ix_onboarding_hours_client_id", "onboarding_hours", ["client_id"])
    op.create_table(
        "lifecycle_stage",
        sa.Column("id", sa.Integer(), primary_key=True),
        _client(),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        _utc("recorded_at", False),
        sa.UniqueConstraint("client_id", "stage", "since", name="uq_lifecycle_stage"),
    )
    op.create_index("ix_lifecycle_stage_client_id", "lifecycle_stage", ["client_id"])
    op.create_table(
        "expansion_package",
        sa.Column("id", sa.Integer(), primary_key=True),
        _client(),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("ae_id", sa.String(length=32), nullable=True),
        sa.Column("opportunity", sa.Text(), nullable=False),
        sa.Column("qualified_by", sa.String(length=32), nullable=False),
        _utc("created_at", False),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_expansion_package_client_id", "expansion_package", ["client_id"])
    op.create_table(
        "closeout",
        sa.Column("id", sa.Integer(), primary_key=True),
        _client(),
        _utc("started_at", False),
        sa.Column("started_by", sa.String(length=32), nullable=False),
        sa.Column("case_study_candidate", sa.Boolean(), nullable=False),
        sa.Column("case_study_note", sa.Text(), nullable=True),
        sa.Column("report_md", sa.Text(), nullable=False),
        _utc("closed_at", True),
        sa.UniqueConstraint("client_id"),
    )
    op.create_table(
        "closeout_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "closeout_id",
            sa.Integer(),
            sa.ForeignKey("closeout.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _utc("done_at", True),
        sa.Column("done_by", sa.String(length=32), nullable=True),
        sa.UniqueConstraint("closeout_id", "item_id", name="uq_closeout_item"),
    )


def downgrade() -> None:
    op.drop_table("closeout_item")
    op.drop_table("closeout")
    op.drop_index("ix_expansion_package_client_id", table_name="expansion_package")
    op.drop_table("expansion_package")
    op.drop_index("ix_lifecycle_stage_client_id", table_name="lifecycle_stage")
    op.drop_table("lifecycle_stage")
    op.drop_index("ix_onboarding_hours_client_id", table_name="onboarding_hours")
    op.drop_table("onboarding_hours")
    op.drop_index("ix_onboarding_item_client_id", table_name="onboarding_item")
    op.drop_table("onboarding_item")
    op.drop_table("client_lifecycle")
