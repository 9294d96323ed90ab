"""QBRs: prepared and delivered marks per client and quarter, and what a QBR reads that no
other store answers (the quarter's wins and touchpoints)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from storage.db import Transaction
from storage.models import QbrRecord, Touchpoint, Win
from storage.upsert import insert_ignore


@dataclass(frozen=True)
class QbrMark:
    client_id: int
    quarter: str
    prepared_at: datetime | None
    delivered_at: datetime | None


def _mark(row: QbrRecord) -> QbrMark:
    return QbrMark(
        client_id=row.client_id,
        quarter=row.quarter,
        prepared_at=row.prepared_at,
        delivered_at=row.delivered_at,
    )


def mark_qbr(
    tx: Transaction, client_id: int, quarter: str, *, by: str, now: datetime, delivered: bool
) -> QbrMark:
    insert_ignore(tx, QbrRecord, {"client_id": client_id, "quarter": quarter})
    row = tx.scalars(
        select(QbrRecord).where(QbrRecord.client_id == client_id, QbrRecord.quarter == quarter)
    ).one()
    if delivered:
        row.delivered_at, row.delivered_by = row.delivered_at or now, row.delivered_by or by
    else:
        row.prepared_at, row.prepared_by = now, by
    tx.flush()
    return _mark(row)


def qbrs_for(tx: Transaction, quarter: str) -> dict[int, QbrMark]:
    return {
        q.client_id: _mark(q)
        for q in tx.scalars(select(QbrRecord).where(QbrRecord.quarter == quarter))
    }


def wins_between(tx: Transaction, client_id: int, start: datetime, end: datetime) -> list[str]:
    """The texts of the client's wins recorded in [start, end), oldest first."""
    return list(
        tx.scalars(
            select(Win.text)
            .where(Win.client_id == client_id, Win.created_at >= start, Win.created_at < end)
            .order_by(Win.created_at)
        )
    )


def touchpoint_kinds(tx: Transaction, client_id: int, start: date, end: date) -> Counter[str]:
    """Touchpoints per kind on the client's days start..end (inclusive)."""
    return Counter(
        tx.scalars(
            select(Touchpoint.kind).where(
                Touchpoint.client_id == client_id,
                Touchpoint.local_date >= start,
                Touchpoint.local_date <= end,
            )
        )
    )
