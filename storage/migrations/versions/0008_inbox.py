"""inbox: every acknowledged request kept until its work is done; service status

Revision ID: 0008_inbox
Revises: 0001_spine
Create Date: 2026-11-29 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008_inbox"
down_revision: str | Sequence[str] | None = "0001_spine"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("lane", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("claim", sa.String(length=40), nullable=True),
        sa.Column("lease_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_inbox_status_next", "inbox", ["status", "next_at"], unique=False)
    op.create_table(
        "service_status",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    for table in ("pulse", "win"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("request_key", sa.String(length=200), nullable=True))
            batch.create_unique_constraint(f"uq_{table}_request_key", ["request_key"])


def downgrade() -> None:
    for table in ("pulse", "win"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_request_key", type_="unique")
            batch.drop_column("request_key")
    op.drop_table("service_status")
    op.drop_index("ix_inbox_status_next", table_name="inbox")
    op.drop_table("inbox")
