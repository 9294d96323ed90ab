"""the KPI's reads: touchpoint cues (whether a message reads like a morning update or an
end-of-day recap, kept with it as its words are, so the KPI reads only the touches that can be
an update) in the index that covers the counts; a partial index for the rows written before
their text facts were kept; the wins of a week by week

Revision ID: 0015_kpi_reads
Revises: 0013_touch_words
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.touch_rules import message_facts

revision: str = "0015_kpi_reads"
down_revision: str | Sequence[str] | None = "0013_touch_words"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
DAY_COUNTS = ["local_date", "client_id", "author_id", "kind", "source", "words", "acknowledgement"]


def upgrade() -> None:
    op.add_column("touchpoint", sa.Column("cues", sa.SmallInteger(), nullable=True))
    # The rows already recorded: their excerpt read once, as new rows are when written.
    touchpoint = sa.table(
        "touchpoint",
        sa.column("id", sa.Integer()),
        sa.column("excerpt", sa.String()),
        sa.column("words", sa.Integer()),
        sa.column("acknowledgement", sa.Boolean()),
        sa.column("cues", sa.SmallInteger()),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(touchpoint.c.id, touchpoint.c.excerpt)).all()
    update = (
        sa.update(touchpoint)
        .where(touchpoint.c.id == sa.bindparam("row_id"))
        .values(
            words=sa.bindparam("w"), acknowledgement=sa.bindparam("ack"), cues=sa.bindparam("cue")
        )
    )
    for i in range(0, len(rows), BATCH):
        params = []
        for row_id, text in rows[i : i + BATCH]:
            words, ack, cues = message_facts(text or "")
            params.append({"row_id": row_id, "w": words, "ack": ack, "cue": cues})
        conn.execute(update, params)
    op.drop_index("ix_touchpoint_day_counts", table_name="touchpoint")
    op.create_index("ix_touchpoint_day_counts", "touchpoint", [*DAY_COUNTS, "cues"])
    op.create_index("ix_win_week", "win", ["iso_week", "client_id"])
    op.create_index(
        "ix_touchpoint_unmeasured",
        "touchpoint",
        ["local_date"],
        sqlite_where=sa.text("cues IS NULL"),
        postgresql_where=sa.text("cues IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_touchpoint_unmeasured", table_name="touchpoint")
    op.drop_index("ix_win_week", table_name="win")
    op.drop_index("ix_touchpoint_day_counts", table_name="touchpoint")
    op.create_index("ix_touchpoint_day_counts", "touchpoint", DAY_COUNTS)
    op.drop_column("touchpoint", "cues")
