"""Founder interventions: recorded once per client and day (or per command), dismissable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update

from storage.db import Transaction
from storage.models import Intervention
from storage.upsert import insert_ignore


@dataclass(frozen=True)
class InterventionRow:
    id: int
    client_id: int
    founder_id: str
    day: date
    source: str
    reason: str
    link: str | None


def record_intervention(
    tx: Transaction,
    *,
    client_id: int,
    founder_id: str,
    day: date,
    source: str,
    reason: str,
    link: str | None,
    dedupe_key: str,
    by: str,
    now: datetime,
    posted_at: datetime | None = None,
) -> bool:
    """True when recorded now; False when the same one (its key) already was. With
    `posted_at` (a founder's message), the earliest message of those sharing the key is the one
    kept, in whatever order they arrive."""
    new = insert_ignore(
        tx,
        Intervention,
        {
            "client_id": client_id,
            "founder_id": founder_id,
            "day": day,
            "source": source,
            "reason": reason[:300],
            "link": link,
            "dedupe_key": dedupe_key,
            "recorded_by": by,
            "created_at": now,
            "posted_at": posted_at,
        },
    )
    if not new and posted_at is not None:
        tx.execute(
            update(Intervention)
            .where(Intervention.dedupe_key == dedupe_key, Intervention.posted_at > posted_at)
            .values(
                founder_id=founder_id,
                source=source,
                reason=reason[:300],
                link=link,
                posted_at=posted_at,
            )
        )
    return new


def intervention_by_key(tx: Transaction, key: str) -> InterventionRow | None:
    row = tx.scalars(select(Intervention).where(Intervention.dedupe_key == key)).first()
    return _row(row) if row else None


def interventions_between(tx: Transaction, start: date, end: date) -> list[InterventionRow]:
    """Those not dismissed, on days in [start, end], oldest first."""
    rows = tx.scalars(
        select(Intervention)
        .where(
            Intervention.day >= start,
            Intervention.day <= end,
            Intervention.dismissed_at.is_(None),
        )
        .order_by(Intervention.day, Intervention.id)
    )
    return [_row(r) for r in rows]


def dismiss_intervention(tx: Transaction, intervention_id: int, *, by: str, now: datetime) -> bool:
    """ "Not an intervention": False when it is gone or already dismissed."""
    row = tx.get(Intervention, intervention_id)
    if row is None or row.dismissed_at is not None:
        return False
    row.dismissed_by, row.dismissed_at = by, now
    return True


def intervention_by_id(tx: Transaction, intervention_id: int) -> InterventionRow | None:
    row = tx.get(Intervention, intervention_id)
    return _row(row) if row and row.dismissed_at is None else None


def _row(r: Intervention) -> InterventionRow:
    return InterventionRow(r.id, r.client_id, r.founder_id, r.day, r.source, r.reason, r.link)
