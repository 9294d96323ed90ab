"""The records behind AI efficiency: who did which process task when (no rules here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from domain.digest import CADENCE_ID as DIGEST_CADENCE
from storage.db import Transaction
from storage.models import Flag, Nudge, QbrRecord, Touchpoint


@dataclass(frozen=True)
class TouchRow:
    client_id: int
    author_id: str
    kind: str
    source: str
    occurred_at: datetime
    day: date
    text: str


def touchpoints_between(tx: Transaction, start: date, end: date) -> list[TouchRow]:
    return [
        TouchRow(t.client_id, t.author_id, t.kind, t.source, t.occurred_at, t.local_date, t.excerpt)
        for t in tx.scalars(
            select(Touchpoint).where(Touchpoint.local_date >= start, Touchpoint.local_date <= end)
        )
    ]


def flags_between(tx: Transaction, start: date, end: date) -> list[tuple[str, str, date]]:
    """(who flagged it, reaction | rules | llm, when) of the flags raised in [start, end]."""
    t0, t1 = _bounds(start, end)
    rows = tx.execute(
        select(Flag.flagged_by, Flag.source, Flag.flagged_at).where(
            Flag.flagged_at >= t0, Flag.flagged_at < t1, Flag.flagged_by.is_not(None)
        )
    )
    return [(str(by), str(source), at.date()) for by, source, at in rows if at is not None]


def qbrs_between(tx: Transaction, start: date, end: date) -> list[tuple[int, str, date]]:
    """(client, who prepared it, when) of the QBRs generated in [start, end]."""
    t0, t1 = _bounds(start, end)
    rows = tx.execute(
        select(QbrRecord.client_id, QbrRecord.prepared_by, QbrRecord.prepared_at).where(
            QbrRecord.prepared_at >= t0, QbrRecord.prepared_at < t1
        )
    )
    return [(int(cid), str(by or ""), at.date()) for cid, by, at in rows if at is not None]


def digests_between(tx: Transaction, start: date, end: date) -> list[date]:
    """The days the weekly leadership digests generated in [start, end] were posted."""
    t0, t1 = _bounds(start, end)
    rows = tx.scalars(
        select(Nudge.sent_at).where(
            Nudge.cadence_id == DIGEST_CADENCE, Nudge.sent_at >= t0, Nudge.sent_at < t1
        )
    )
    return [at.date() for at in rows if at is not None]


def first_touch_days(tx: Transaction) -> dict[str, date]:
    """Each author's first recorded touchpoint day: when the bot started seeing their work."""
    rows = tx.execute(
        select(Touchpoint.author_id, func.min(Touchpoint.local_date)).group_by(Touchpoint.author_id)
    )
    return {author: day for author, day in rows if day is not None}


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(0), tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC),
    )
