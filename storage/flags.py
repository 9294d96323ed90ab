"""Flags, open client questions and internal threads: exactly-once state transitions.

Every transition is a conditional UPDATE (… WHERE status IN (…)) or an INSERT … ON CONFLICT DO
NOTHING, so a Slack retry, a double click or two processes at once change a flag once; the
caller that won the transition is the one that talks to Slack.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from domain import records
from domain.flag_loops import Decision, FlagSettings, FlagStatus, WorkCalendar
from domain.flags import FlagKind
from storage.activity import excerpt
from storage.models import Client, ClientQuestion, Flag, InternalMessage, Touchpoint
from storage.portfolio import client_record, client_timezone, organization, people_by_id
from storage.upsert import insert_ignore

INTERNAL_EXCERPT_CHARS = 120


def flag_settings(session: Session) -> FlagSettings:
    return FlagSettings.from_org_settings(organization(session).settings)


def work_calendar(session: Session, client: records.Client, settings: FlagSettings) -> WorkCalendar:
    org = organization(session)
    return WorkCalendar(
        tz=client_timezone(client, people_by_id(session), org),
        country=org.holidays_country or "",
        subdiv=org.holidays_subdiv,
        start=settings.workday_start,
        end=settings.workday_end,
    )


def client_by_internal_channel(session: Session, channel: str) -> records.Client | None:
    row = session.scalars(
        select(Client).where(Client.internal_channel == channel, Client.active).order_by(Client.id)
    ).first()
    return client_record(row) if row is not None else None


def client_channels(session: Session) -> set[str]:
    return {c for c in session.scalars(select(Client.client_channel)) if c}


def _transition(
    session: Session, flag_id: int, before: Iterable[FlagStatus], values: dict[str, Any]
) -> Flag | None:
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Flag)
            .where(Flag.id == flag_id, Flag.status.in_([s.value for s in before]))
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return None
    return session.get(Flag, flag_id, populate_existing=True)


def find_flag(session: Session, channel: str, ts: str, kind: FlagKind) -> Flag | None:
    return session.scalars(
        select(Flag).where(Flag.channel == channel, Flag.message_ts == ts, Flag.kind == kind.value)
    ).first()


def get_flag(session: Session, flag_id: int) -> Flag | None:
    return session.get(Flag, flag_id, populate_existing=True)


def open_flag(
    session: Session,
    *,
    client: records.Client,
    channel: str,
    ts: str,
    thread_ts: str | None,
    kind: FlagKind,
    author: str | None,
    text: str,
    permalink: str | None,
    source: str,
    reaction: str | None,
    by: str,
    now: datetime,
) -> Flag | None:
    """Flag a message. The Flag when this call opened it (new, or a suggestion/withdrawn/dismissed
    one re-opened); None when it was already open or decided (a duplicate)."""
    values = {
        "status": FlagStatus.OPEN.value,
        "flagged_by": by,
        "flagged_at": now,
        "reaction": reaction,
    }
    inserted = insert_ignore(
        session,
        Flag,
        {
            "client_id": client.id,
            "channel": channel,
            "message_ts": ts,
            "thread_ts": thread_ts,
            "kind": kind.value,
            "author_id": author,
            "excerpt": excerpt(text),
            "permalink": permalink,
            "source": source,
            "created_at": now,
            **values,
        },
    )
    row = find_flag(session, channel, ts, kind)
    if row is None:  # pragma: no cover - the insert or a concurrent one put it there
        return None
    if inserted:
        return row
    reopenable = (FlagStatus.SUGGESTED, FlagStatus.WITHDRAWN, FlagStatus.DISMISSED)
    if row.status == FlagStatus.WITHDRAWN:
        values["decision"] = None
    return _transition(session, row.id, reopenable, values)


def suggest_flag(
    session: Session,
    *,
    client: records.Client,
    channel: str,
    ts: str,
    thread_ts: str | None,
    kind: FlagKind,
    author: str,
    text: str,
    permalink: str | None,
    source: str,
    now: datetime,
) -> Flag | None:
    """Record the classifier's suggestion; the Flag when it is new (else None)."""
    inserted = insert_ignore(
        session,
        Flag,
        {
            "client_id": client.id,
            "channel": channel,
            "message_ts": ts,
            "thread_ts": thread_ts,
            "kind": kind.value,
            "author_id": author,
            "excerpt": excerpt(text),
            "permalink": permalink,
            "source": source,
            "status": FlagStatus.SUGGESTED.value,
            "created_at": now,
        },
    )
    return find_flag(session, channel, ts, kind) if inserted else None


def promote_suggestion(session: Session, flag_id: int, *, by: str, now: datetime) -> Flag | None:
    return _transition(
        session,
        flag_id,
        (FlagStatus.SUGGESTED, FlagStatus.DISMISSED),
        {"status": FlagStatus.OPEN.value, "flagged_by": by, "flagged_at": now},
    )


def dismiss_suggestion(session: Session, flag_id: int, *, by: str, now: datetime) -> Flag | None:
    return _transition(
        session,
        flag_id,
        (FlagStatus.SUGGESTED,),
        {"status": FlagStatus.DISMISSED.value, "decided_by": by, "decided_at": now},
    )


def decide_flag(
    session: Session, flag_id: int, decision: Decision, *, by: str, now: datetime
) -> Flag | None:
    return _transition(
        session,
        flag_id,
        (FlagStatus.OPEN,),
        {
            "status": FlagStatus.DECIDED.value,
            "decision": decision.value,
            "decided_by": by,
            "decided_at": now,
        },
    )


def withdraw_flag(session: Session, flag_id: int, *, by: str, now: datetime) -> Flag | None:
    return _transition(
        session,
        flag_id,
        (FlagStatus.OPEN,),
        {"status": FlagStatus.WITHDRAWN.value, "decided_by": by, "decided_at": now},
    )


def set_post(session: Session, flag_id: int, channel: str | None, ts: str | None) -> None:
    session.execute(
        update(Flag)
        .where(Flag.id == flag_id)
        .values(post_channel=channel, post_ts=ts)
        .execution_options(synchronize_session=False)
    )


def open_flags(session: Session, client_id: int | None = None) -> list[Flag]:
    query = select(Flag).where(Flag.status == FlagStatus.OPEN.value)
    if client_id is not None:
        query = query.where(Flag.client_id == client_id)
    return list(session.scalars(query.order_by(Flag.flagged_at, Flag.id)))


# -- client questions --------------------------------------------------------------------------
def record_question(
    session: Session,
    *,
    client_id: int,
    channel: str,
    ts: str,
    thread_ts: str | None,
    author: str,
    text: str,
    permalink: str | None,
    asked_at: datetime,
) -> bool:
    return insert_ignore(
        session,
        ClientQuestion,
        {
            "client_id": client_id,
            "channel": channel,
            "message_ts": ts,
            "thread_ts": thread_ts,
            "author_id": author,
            "excerpt": excerpt(text),
            "permalink": permalink,
            "asked_at": asked_at,
        },
    )


def recent_questions(session: Session, since: datetime) -> list[ClientQuestion]:
    return list(
        session.scalars(
            select(ClientQuestion)
            .where(ClientQuestion.asked_at >= since)
            .order_by(ClientQuestion.asked_at)
        )
    )


def team_replied(session: Session, question: ClientQuestion, client: records.Client) -> bool:
    """A team message after the question in its thread, or at the top of the channel."""
    root = question.thread_ts or question.message_ts
    replies = session.scalars(
        select(Touchpoint.thread_ts).where(
            Touchpoint.client_id == question.client_id,
            Touchpoint.channel == question.channel,
            Touchpoint.occurred_at > question.asked_at,
            Touchpoint.author_id.in_(client.team_ids()),
        )
    )
    return any(thread in (None, root) for thread in replies)


# -- internal threads --------------------------------------------------------------------------
def record_internal(
    session: Session,
    *,
    client_id: int,
    channel: str,
    ts: str,
    thread_ts: str | None,
    author: str,
    text: str,
    is_question: bool,
    occurred_at: datetime,
) -> bool:
    return insert_ignore(
        session,
        InternalMessage,
        {
            "client_id": client_id,
            "channel": channel,
            "message_ts": ts,
            "thread_ts": thread_ts if thread_ts != ts else None,
            "author_id": author,
            "excerpt": excerpt(text, INTERNAL_EXCERPT_CHARS),
            "is_question": is_question,
            "occurred_at": occurred_at,
        },
    )


def acknowledge_by_reaction(
    session: Session, *, channel: str, ts: str, user: str, now: datetime
) -> bool:
    """A reaction by the asker on any message of their question's thread acknowledges it."""
    message = session.scalars(
        select(InternalMessage).where(
            InternalMessage.channel == channel, InternalMessage.message_ts == ts
        )
    ).first()
    if message is None:
        return False
    root = message.thread_ts or message.message_ts
    result = cast(
        CursorResult[Any],
        session.execute(
            update(InternalMessage)
            .where(
                InternalMessage.channel == channel,
                InternalMessage.message_ts == root,
                InternalMessage.author_id == user,
                InternalMessage.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount == 1


def open_internal_questions(
    session: Session, since: datetime
) -> list[tuple[InternalMessage, list[InternalMessage]]]:
    """Top-level internal questions since `since`, each with its thread's replies."""
    questions = list(
        session.scalars(
            select(InternalMessage)
            .where(
                InternalMessage.is_question,
                InternalMessage.thread_ts.is_(None),
                InternalMessage.occurred_at >= since,
            )
            .order_by(InternalMessage.occurred_at)
        )
    )
    if not questions:
        return []
    replies: dict[tuple[str, str], list[InternalMessage]] = {}
    for reply in session.scalars(
        select(InternalMessage).where(
            InternalMessage.thread_ts.in_([q.message_ts for q in questions]),
            InternalMessage.occurred_at >= since,
        )
    ):
        replies.setdefault((reply.channel, reply.thread_ts or ""), []).append(reply)
    return [(q, replies.get((q.channel, q.message_ts), [])) for q in questions]


def lookback(now: datetime, settings: FlagSettings) -> datetime:
    return now - timedelta(days=settings.lookback_days)
