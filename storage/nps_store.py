"""NPS answers recorded with /nps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.activity_store import excerpt
from storage.db import Transaction
from storage.models import NpsResponse
from storage.upsert import insert_ignore


def record_nps(
    tx: Transaction,
    *,
    client_id: int,
    score: int,
    comment: str,
    by: str,
    now: datetime,
    dedupe_key: str,
) -> bool:
    """Keep one answer; False when this dedupe key was already recorded."""
    return insert_ignore(
        tx,
        NpsResponse,
        {
            "client_id": client_id,
            "score": score,
            "comment": excerpt(comment, 300),
            "recorded_by": by,
            "recorded_at": now,
            "dedupe_key": dedupe_key[:200],
        },
    )


def nps_answers(
    tx: Transaction, start: datetime, end: datetime, client_id: int | None = None
) -> list[int]:
    """The scores recorded in [start, end), of one client or all."""
    query = select(NpsResponse.score).where(
        NpsResponse.recorded_at >= start, NpsResponse.recorded_at < end
    )
    if client_id is not None:
        query = query.where(NpsResponse.client_id == client_id)
    return list(tx.scalars(query))
