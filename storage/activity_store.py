"""Recording what happened with a client: touchpoints, inbound messages, wins, pulses, skipped
days; and reading back what a client update is drafted from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy import update as update_rows

from domain.calendar import IsoWeek, local_date
from domain.flag_loops import FlagStatus
from storage.db import Transaction, id_list
from storage.models import (
    Exemption,
    Flag,
    InboundMessage,
    ProcessedEvent,
    Pulse,
    Touchpoint,
    Win,
)
from storage.upsert import insert_ignore

EXCERPT_CHARS = 200


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line excerpt: we keep a glimpse, never the whole conversation."""
    flat = re.sub(r"\s+", " ", text or "").strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def claim_event(tx: Transaction, event_id: str, now: datetime) -> bool:
    """True the first time an event id is seen (in this transaction's outcome)."""
    return insert_ignore(tx, ProcessedEvent, {"event_id": event_id, "received_at": now})


def record_touchpoint(
    tx: Transaction,
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
        tx,
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
    tx: Transaction,
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
        tx,
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
    tx: Transaction, *, client_id: int, day: date, reason: str, by: str, now: datetime
) -> bool:
    """Mark a day as not expected. A second skip for the same day keeps the first reason."""
    return insert_ignore(
        tx,
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
    tx: Transaction,
    *,
    client_id: int,
    week: IsoWeek,
    text: str,
    link: str | None,
    activity_list: bool,
    by: str,
    now: datetime,
    request_key: str | None = None,
) -> bool:
    """True when recorded now; False for a replayed request (recorded once)."""
    if request_key:
        existing = tx.scalars(select(Win.id).where(Win.request_key == request_key)).first()
        if existing is not None:  # the same request, replayed: recorded once
            return False
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
    tx.add(win)
    tx.flush()
    return True


def record_pulse(
    tx: Transaction,
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
) -> bool:
    """True when recorded now; False for a replayed request (recorded once)."""
    if request_key:
        existing = tx.scalars(select(Pulse.id).where(Pulse.request_key == request_key)).first()
        if existing is not None:  # the same request, replayed: recorded once
            return False
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
    tx.add(pulse)
    tx.flush()
    return True


def last_touchpoints(tx: Transaction, client_ids: list[int]) -> dict[int, datetime]:
    rows = tx.execute(
        select(Touchpoint.client_id, func.max(Touchpoint.occurred_at))
        .where(Touchpoint.client_id.in_(id_list(client_ids)))
        .group_by(Touchpoint.client_id)
    )
    return {client_id: at for client_id, at in rows if at is not None}


# -- what a client update is drafted from, and the update's own touchpoint ----------------------
def touchpoint_excerpts_of_day(tx: Transaction, client_id: int, day: date) -> list[str]:
    """Excerpts of the client's touchpoints on a local day, oldest first, the bot's own posted
    updates left out."""
    return [
        t.excerpt
        for t in tx.scalars(
            select(Touchpoint)
            .where(Touchpoint.client_id == client_id, Touchpoint.local_date == day)
            .order_by(Touchpoint.occurred_at)
        )
        if t.excerpt and not t.source.startswith("update")
    ]


def open_flag_excerpts(tx: Transaction, client_id: int) -> list[tuple[str, str]]:
    """(kind, excerpt) of the client's open flags, oldest first."""
    rows = tx.execute(
        select(Flag.kind, Flag.excerpt)
        .where(Flag.client_id == client_id, Flag.status == FlagStatus.OPEN.value)
        .order_by(Flag.flagged_at, Flag.id)
    )
    return [(kind, excerpt) for kind, excerpt in rows]


def latest_pulse_update(tx: Transaction, client_id: int) -> str | None:
    """The latest external update said in a pulse."""
    return tx.scalars(
        select(Pulse.update)
        .where(Pulse.client_id == client_id, Pulse.update.is_not(None))
        .order_by(Pulse.created_at.desc())
    ).first()


def latest_win_of_week(tx: Transaction, client_id: int, week: IsoWeek) -> str | None:
    return tx.scalars(
        select(Win.text)
        .where(Win.client_id == client_id, Win.iso_week == str(week))
        .order_by(Win.created_at.desc())
    ).first()


def set_touchpoint_message(tx: Transaction, dedupe_key: str, message_ts: str | None) -> None:
    """The Slack message a recorded touchpoint posted."""
    tx.execute(
        update_rows(Touchpoint)
        .where(Touchpoint.dedupe_key == dedupe_key)
        .values(message_ts=message_ts)
    )


# -- editing the week's win -------------------------------------------------------------------
@dataclass(frozen=True)
class WinRecord:
    id: int
    client_id: int
    iso_week: str
    text: str
    activity_list: bool


def win_by_request(tx: Transaction, request_key: str | None) -> WinRecord | None:
    if not request_key:
        return None
    row = tx.scalars(select(Win).where(Win.request_key == request_key)).first()
    return _win(row) if row else None


def win_by_id(tx: Transaction, win_id: int) -> WinRecord | None:
    row = tx.get(Win, win_id)
    return _win(row) if row else None


def edit_win(tx: Transaction, win_id: int, *, text: str, activity_list: bool) -> bool:
    """The CSO rewrote the win (in outcome language, one hopes). False when it is gone."""
    row = tx.get(Win, win_id)
    if row is None:
        return False
    row.text = text[:2000]
    row.activity_list = activity_list
    return True


def _win(row: Win) -> WinRecord:
    return WinRecord(row.id, row.client_id, row.iso_week, row.text, bool(row.activity_list))
