"""Persistence of nudge preferences and out-of-office (the cadence engine reads both)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain import records
from domain.prefs import SetPref
from storage.models import Client, OutOfOffice, PersonPrefs
from storage.portfolio import client_record


def get_prefs(session: Session, slack_id: str) -> PersonPrefs | None:
    return session.get(PersonPrefs, slack_id)


def set_pref(session: Session, slack_id: str, change: SetPref, now: datetime) -> PersonPrefs:
    row = session.get(PersonPrefs, slack_id)
    if row is None:
        row = PersonPrefs(slack_id=slack_id, updated_at=now)
        session.add(row)
    if change.setting == "standup":
        row.standup = change.at.strftime("%H:%M") if change.at else None
    elif change.setting == "cutoff":
        row.cutoff = change.at.strftime("%H:%M") if change.at else None
    elif change.setting == "cap":
        row.daily_cap = change.cap
    else:
        start, end = change.quiet or (None, None)
        row.quiet_start = start.strftime("%H:%M") if start else None
        row.quiet_end = end.strftime("%H:%M") if end else None
    row.updated_at = now
    session.flush()
    return row


def add_ooo(
    session: Session, person_id: str, start: date, end: date, *, by: str, now: datetime
) -> OutOfOffice:
    """Set time out of office; an overlapping earlier range is replaced."""
    for row in current_ooo(session, person_id, start):
        if row.start_day <= end and start <= row.end_day:
            row.cancelled_at = now
    row = OutOfOffice(
        person_id=person_id, start_day=start, end_day=end, created_by=by, created_at=now
    )
    session.add(row)
    session.flush()
    return row


def current_ooo(session: Session, person_id: str, today: date) -> list[OutOfOffice]:
    return list(
        session.scalars(
            select(OutOfOffice)
            .where(
                OutOfOffice.person_id == person_id,
                OutOfOffice.cancelled_at.is_(None),
                OutOfOffice.end_day >= today,
            )
            .order_by(OutOfOffice.start_day)
        )
    )


def cancel_ooo(session: Session, person_id: str, today: date, now: datetime) -> int:
    result = session.execute(
        update(OutOfOffice)
        .where(
            OutOfOffice.person_id == person_id,
            OutOfOffice.cancelled_at.is_(None),
            OutOfOffice.end_day >= today,
        )
        .values(cancelled_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def clients_by_service_lead(session: Session, cso_id: str) -> dict[str, list[records.Client]]:
    """A CSO's active clients grouped by their Service Lead (their Plan B)."""
    out: dict[str, list[records.Client]] = {}
    for c in session.scalars(
        select(Client).where(Client.cso_id == cso_id, Client.active).order_by(Client.slug)
    ):
        if c.service_lead_id and c.service_lead_id != cso_id:
            out.setdefault(c.service_lead_id, []).append(client_record(c))
    return out
