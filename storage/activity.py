"""Recording what happened with a client: touchpoints, inbound messages, wins, pulses."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.calendar import IsoWeek, local_date
from storage.models import Exemption, InboundMessage, ProcessedEvent, Pulse, Touchpoint, Win
from storage.upsert import insert_ignore

EXCERPT_CHARS = 200


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line excerpt: we keep a glimpse, never the whole conversation."""
    flat = re.sub(r"\s+", " ", text or "").strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def claim_event(session: Session, event_id: str, now: datetime) -> bool:
    """True the first time an event id is seen (in this transaction's outcome)."""
    return insert_ignore(session, ProcessedEvent, {"event_id": event_id, "received_at": now})


def record_touchpoint(
    session: Session,
    *,
    client_id: int,
    author_id: str,
    kind: str,
    source: str,
    occurred_at: datetime,
    tz: ZoneInfo,
    dedupe_key: str,
    now: datetime,
    text: str = "",
    link: str | None = None,
    channel: str | None = None,
    message_ts: str | None = None,
    thread_ts: str | None = None,
) -> bool:
    return insert_ignore(
        session,
        Touchpoint,
        {
            "client_id": client_id,
            "author_id": author_id,
            "kind": kind,
            "source": source,
            "occurred_at": occurred_at,
            "local_date": local_date(occurred_at, tz),
            "excerpt": excerpt(text),
            "link": link,
            "channel": channel,
            "message_ts": message_ts,
            "thread_ts": thread_ts,
            "dedupe_key": dedupe_key,
            "created_at": now,
        },
    )


def record_inbound(
    session: Session,
    *,
    client_id: int,
    author_id: str,
    channel: str,
    message_ts: str,
    thread_ts: str | None,
    occurred_at: datetime,
    text: str,
) -> bool:
    return insert_ignore(
        session,
        InboundMessage,
        {
            "client_id": client_id,
            "author_id": author_id,
            "channel": channel,
            "message_ts": message_ts,
            "thread_ts": thread_ts,
            "occurred_at": occurred_at,
            "excerpt": excerpt(text),
        },
    )


def record_exemption(
    session: Session, *, client_id: int, day: date, reason: str, by: str, now: datetime
) -> bool:
    """Mark a day as not expected. A second skip for the same day keeps the first reason."""
    return insert_ignore(
        session,
        Exemption,
        {
            "client_id": client_id,
            "day": day,
            "reason": excerpt(reason, 300),
            "created_by": by,
            "created_at": now,
        },
    )


def record_win(
    session: Session,
    *,
    client_id: int,
    week: IsoWeek,
    text: str,
    link: str | None,
    activity_list: bool,
    by: str,
    now: datetime,
    request_key: str | None = None,
) -> Win:
    if request_key:
        existing = session.scalars(select(Win).where(Win.request_key == request_key)).first()
        if existing is not None:  # the same request, replayed: recorded once
            return existing
    win = Win(
        client_id=client_id,
        iso_week=str(week),
        text=text[:2000],
        link=link,
        activity_list=activity_list,
        created_by=by,
        created_at=now,
        request_key=request_key,
    )
    session.add(win)
    session.flush()
    return win


def record_pulse(
    session: Session,
    *,
    client_id: int,
    sentiment: str,
    hook: str | None,
    update: str | None,
    note: str | None,
    by: str,
    now: datetime,
    source: str = "command",
    request_key: str | None = None,
) -> Pulse:
    if request_key:
        existing = session.scalars(select(Pulse).where(Pulse.request_key == request_key)).first()
        if existing is not None:  # the same request, replayed: recorded once
            return existing
    pulse = Pulse(
        client_id=client_id,
        sentiment=sentiment,
        hook=hook and excerpt(hook, 500),
        update=update and excerpt(update, 500),
        note=note and excerpt(note, 500),
        source=source,
        created_by=by,
        created_at=now,
        request_key=request_key,
    )
    session.add(pulse)
    session.flush()
    return pulse


def last_touchpoints(session: Session, client_ids: list[int]) -> dict[int, datetime]:
    rows = session.execute(
        select(Touchpoint.client_id, func.max(Touchpoint.occurred_at))
        .where(Touchpoint.client_id.in_(client_ids))
        .group_by(Touchpoint.client_id)
    )
    return {client_id: at for client_id, at in rows if at is not None}
