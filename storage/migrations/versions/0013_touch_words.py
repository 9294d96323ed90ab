"""touchpoint words and acknowledgement: what the touch rules need of a message's text, kept
with it so the KPI counts each client's days in SQL; the index that covers those counts

Revision ID: 0013_touch_words
Revises: 0001_spine
Create Date: 2026-11-30 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.touch_rules import text_facts

revision: str = "0013_touch_words"
down_revision: str | Sequence[str] | None = "0001_spine"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    op.add_column("touchpoint", sa.Column("words", sa.Integer(), nullable=True))
    op.add_column("touchpoint", sa.Column("acknowledgement", sa.Boolean(), nullable=True))
    # The rows already recorded: their excerpt judged once, as new rows are when written.
    touchpoint = sa.table(
        "touchpoint",
        sa.column("id", sa.Integer()),
        sa.column("excerpt", sa.String()),
        sa.column("words", sa.Integer()),
        sa.column("acknowledgement", sa.Boolean()),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(touchpoint.c.id, touchpoint.c.excerpt)).all()
    update = (
        sa.update(touchpoint)
        .where(touchpoint.c.id == sa.bindparam("row_id"))
        .values(words=sa.bindparam("w"), acknowledgement=sa.bindparam("ack"))
    )
    for i in range(0, len(rows), BATCH):
        params = []
        for row_id, text in rows[i : i + BATCH]:
            words, ack = text_facts(text or "")
            params.append({"row_id": row_id, "w": words, "ack": ack})
        conn.execute(update, params)
    op.create_index(
        "ix_touchpoint_day_counts",
        "touchpoint",
        ["local_date", "client_id", "author_id", "kind", "source", "words", "acknowledgement"],
    )


def downgrade() -> None:
    op.drop_index("ix_touchpoint_day_counts", table_name="touchpoint")
    op.drop_column("touchpoint", "acknowledgement")
    op.drop_column("touchpoint", "words")
