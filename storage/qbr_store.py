"""QBRs: prepared and delivered marks per client and quarter, and what a QBR reads that no
other store answers (the quarter's wins and touchpoints)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.value import SuccessCriterion
from storage.db import Transaction, id_list
from storage.models import Client, QbrRecord, SuccessPlan, Touchpoint, Win
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


@dataclass(frozen=True)
class WinLine:
    id: int
    text: str
    link: str | None
    at: datetime


def win_lines(tx: Transaction, client_id: int, start: datetime, end: datetime) -> list[WinLine]:
    """The client's wins recorded in [start, end), oldest first, with their ids and links."""
    rows = tx.scalars(
        select(Win)
        .where(Win.client_id == client_id, Win.created_at >= start, Win.created_at < end)
        .order_by(Win.created_at)
    )
    return [WinLine(w.id, w.text, w.link, w.created_at) for w in rows]


def save_success_plans(session: Session, by_slug: dict[str, list[SuccessCriterion]]) -> None:
    """The portfolio import's part: each client's success criteria (none: the row goes)."""
    ids = {slug: cid for slug, cid in session.execute(select(Client.slug, Client.id))}
    for slug, criteria in by_slug.items():
        client_id = ids.get(slug)
        if client_id is None:
            continue
        row = session.get(SuccessPlan, client_id)
        if not criteria:
            if row is not None:
                session.delete(row)
            continue
        data = [c.model_dump() for c in criteria]
        if row is None:
            session.add(SuccessPlan(client_id=client_id, criteria=data))
        else:
            row.criteria = data
    session.flush()


def success_plans(tx: Transaction, client_ids: Sequence[int]) -> dict[int, list[SuccessCriterion]]:
    """Each client's success criteria, for many clients in one query."""
    rows = tx.scalars(select(SuccessPlan).where(SuccessPlan.client_id.in_(id_list(client_ids))))
    return {r.client_id: [SuccessCriterion(**c) for c in r.criteria] for r in rows}


def success_criteria(tx: Transaction, client_id: int) -> list[SuccessCriterion]:
    row = tx.get(SuccessPlan, client_id)
    return [SuccessCriterion(**c) for c in (row.criteria if row is not None else [])]
