"""All flag SQL: flags, open client questions and internal threads, as records.

Every transition is a conditional UPDATE (… WHERE status IN (…)) or an INSERT … ON CONFLICT DO
NOTHING, so a Slack retry, a double click or two processes at once change a flag once; the
caller that won the transition is the one that talks to Slack. Every function takes the
caller's transaction and returns records (`domain.flags.Flag`, or the small records below),
never a row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from domain import records
from domain.flag_loops import Decision, FlagSettings, FlagStatus, WorkCalendar
from domain.flags import Flag, FlagKind
from storage.activity_store import excerpt
from storage.db import Transaction, id_list
from storage.models import Client, ClientQuestion, InboundMessage, InternalMessage, Touchpoint
from storage.models import Flag as FlagRow
from storage.org_settings_store import org_settings
from storage.portfolio_store import client_record, organization, timezone_of
from storage.upsert import insert_ignore

INTERNAL_EXCERPT_CHARS = 120


@dataclass(frozen=True)
class Question:
    """A client message in a client channel that waits for a reply."""

    client_id: int
    channel: str
    message_ts: str
    thread_ts: str | None
    author_id: str
    excerpt: str
    permalink: str | None
    asked_at: datetime


@dataclass(frozen=True)
class InternalNote:
    """A team message in a client's internal channel, kept short, for orphaned threads."""

    client_id: int
    channel: str
    message_ts: str
    thread_ts: str | None
    author_id: str
    excerpt: str
    is_question: bool
    occurred_at: datetime
    acknowledged_at: datetime | None


logger = logging.getLogger(__name__)


def flag_record(row: FlagRow) -> Flag:
    return Flag(
        id=row.id,
        client_id=row.client_id,
        channel=row.channel,
        message_ts=row.message_ts,
        thread_ts=row.thread_ts,
        kind=row.kind,
        author_id=row.author_id,
        excerpt=row.excerpt,
        permalink=row.permalink,
        source=row.source,
        reaction=row.reaction,
        status=row.status,
        flagged_by=row.flagged_by,
        flagged_at=row.flagged_at,
        decision=row.decision,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        post_channel=row.post_channel,
        post_ts=row.post_ts,
        created_at=row.created_at,
    )


def _question(row: ClientQuestion) -> Question:
    return Question(
        client_id=row.client_id,
        channel=row.channel,
        message_ts=row.message_ts,
        thread_ts=row.thread_ts,
        author_id=row.author_id,
        excerpt=row.excerpt,
        permalink=row.permalink,
        asked_at=row.asked_at,
    )


def _note(row: InternalMessage) -> InternalNote:
    return InternalNote(
        client_id=row.client_id,
        channel=row.channel,
        message_ts=row.message_ts,
        thread_ts=row.thread_ts,
        author_id=row.author_id,
        excerpt=row.excerpt,
        is_question=row.is_question,
        occurred_at=row.occurred_at,
        acknowledged_at=row.acknowledged_at,
    )


# -- settings and places -----------------------------------------------------------------------
def flag_settings(tx: Transaction) -> FlagSettings:
    settings = org_settings(tx)
    if settings.problem("flags"):
        logger.warning(
            "organization settings 'flags' ignored (%s): using defaults", settings.problem("flags")
        )
    return settings.flags


def work_calendar(tx: Transaction, client: records.Client, settings: FlagSettings) -> WorkCalendar:
    org = organization(tx)
    return WorkCalendar(
        tz=timezone_of(tx, client),
        country=org.holidays_country or "",
        subdiv=org.holidays_subdiv,
        start=settings.workday_start,
        end=settings.workday_end,
    )


def client_by_internal_channel(tx: Transaction, channel: str) -> records.Client | None:
    row = tx.scalars(
        select(Client).where(Client.internal_channel == channel, Client.active).order_by(Client.id)
    ).first()
    return client_record(row) if row is not None else None


def client_channels(tx: Transaction) -> set[str]:
    """Every client channel: an internal channel that is one of them is shared with a client."""
    return {c for c in tx.scalars(select(Client.client_channel)) if c}


def inbound_excerpt(tx: Transaction, channel: str, ts: str) -> str | None:
    """What we kept of a client message (when Slack can no longer show it)."""
    return tx.scalars(
        select(InboundMessage.excerpt).where(
            InboundMessage.channel == channel, InboundMessage.message_ts == ts
        )
    ).first()


# -- flags -------------------------------------------------------------------------------------
def _transition(
    tx: Transaction, flag_id: int, before: Iterable[FlagStatus], values: dict[str, Any]
) -> Flag | None:
    result = cast(
        CursorResult[Any],
        tx.execute(
            update(FlagRow)
            .where(FlagRow.id == flag_id, FlagRow.status.in_([s.value for s in before]))
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return None
    return get_flag(tx, flag_id)


def _find_row(tx: Transaction, channel: str, ts: str, kind: FlagKind) -> FlagRow | None:
    return tx.scalars(
        select(FlagRow).where(
            FlagRow.channel == channel, FlagRow.message_ts == ts, FlagRow.kind == kind.value
        )
    ).first()


def find_flag(tx: Transaction, channel: str, ts: str, kind: FlagKind) -> Flag | None:
    row = _find_row(tx, channel, ts, kind)
    return flag_record(row) if row is not None else None


def get_flag(tx: Transaction, flag_id: int) -> Flag | None:
    row = tx.get(FlagRow, flag_id, populate_existing=True)
    return flag_record(row) if row is not None else None


def open_flag(
    tx: Transaction,
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
        tx,
        FlagRow,
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
    row = _find_row(tx, channel, ts, kind)
    if row is None:  # pragma: no cover - the insert or a concurrent one put it there
        return None
    if inserted:
        return flag_record(row)
    reopenable = (FlagStatus.SUGGESTED, FlagStatus.WITHDRAWN, FlagStatus.DISMISSED)
    if row.status == FlagStatus.WITHDRAWN:
        values["decision"] = None
    return _transition(tx, row.id, reopenable, values)


def suggest_flag(
    tx: Transaction,
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
        tx,
        FlagRow,
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
    return find_flag(tx, channel, ts, kind) if inserted else None


def promote_suggestion(tx: Transaction, flag_id: int, *, by: str, now: datetime) -> Flag | None:
    return _transition(
        tx,
        flag_id,
        (FlagStatus.SUGGESTED, FlagStatus.DISMISSED),
        {"status": FlagStatus.OPEN.value, "flagged_by": by, "flagged_at": now},
    )


def dismiss_suggestion(tx: Transaction, flag_id: int, *, by: str, now: datetime) -> Flag | None:
    return _transition(
        tx,
        flag_id,
        (FlagStatus.SUGGESTED,),
        {"status": FlagStatus.DISMISSED.value, "decided_by": by, "decided_at": now},
    )


def decide_flag(
    tx: Transaction, flag_id: int, decision: Decision, *, by: str, now: datetime
) -> Flag | None:
    return _transition(
        tx,
        flag_id,
        (FlagStatus.OPEN,),
        {
            "status": FlagStatus.DECIDED.value,
            "decision": decision.value,
            "decided_by": by,
            "decided_at": now,
        },
    )


def withdraw_flag(tx: Transaction, flag_id: int, *, by: str, now: datetime) -> Flag | None:
    return _transition(
        tx,
        flag_id,
        (FlagStatus.OPEN,),
        {"status": FlagStatus.WITHDRAWN.value, "decided_by": by, "decided_at": now},
    )


def set_post(tx: Transaction, flag_id: int, channel: str | None, ts: str | None) -> None:
    tx.execute(
        update(FlagRow)
        .where(FlagRow.id == flag_id)
        .values(post_channel=channel, post_ts=ts)
        .execution_options(synchronize_session=False)
    )


def open_flags(tx: Transaction, client_id: int | None = None) -> list[Flag]:
    query = select(FlagRow).where(FlagRow.status == FlagStatus.OPEN.value)
    if client_id is not None:
        query = query.where(FlagRow.client_id == client_id)
    return [flag_record(r) for r in tx.scalars(query.order_by(FlagRow.flagged_at, FlagRow.id))]


def open_flag_counts(tx: Transaction, client_ids: Iterable[int]) -> dict[int, int]:
    """Open flags (flagged, no decision yet) per client: every id given, 0 when it has none.
    THE one place open flags are counted (the health model, the board and the digest)."""
    ids = list(client_ids)
    out = dict.fromkeys(ids, 0)
    if not ids:
        return out
    rows = tx.execute(
        select(FlagRow.client_id, func.count())
        .where(FlagRow.client_id.in_(id_list(ids)), FlagRow.status == FlagStatus.OPEN.value)
        .group_by(FlagRow.client_id)
    )
    for client_id, n in rows:
        out[int(client_id)] = int(n)
    return out


# -- client questions --------------------------------------------------------------------------
def record_question(
    tx: Transaction,
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
        tx,
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


def recent_questions(tx: Transaction, since: datetime) -> list[Question]:
    rows = tx.scalars(
        select(ClientQuestion)
        .where(ClientQuestion.asked_at >= since)
        .order_by(ClientQuestion.asked_at)
    )
    return [_question(r) for r in rows]


def team_replied(tx: Transaction, question: Question, client: records.Client) -> bool:
    """A team message after the question in its thread, or at the top of the channel."""
    root = question.thread_ts or question.message_ts
    replies = tx.scalars(
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
    tx: Transaction,
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
        tx,
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
    tx: Transaction, *, channel: str, ts: str, user: str, now: datetime
) -> bool:
    """A reaction by the asker on any message of their question's thread acknowledges it."""
    message = tx.scalars(
        select(InternalMessage).where(
            InternalMessage.channel == channel, InternalMessage.message_ts == ts
        )
    ).first()
    if message is None:
        return False
    root = message.thread_ts or message.message_ts
    result = cast(
        CursorResult[Any],
        tx.execute(
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
    tx: Transaction, since: datetime
) -> list[tuple[InternalNote, list[InternalNote]]]:
    """Top-level internal questions since `since`, each with its thread's replies."""
    questions = list(
        tx.scalars(
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
    replies: dict[tuple[str, str], list[InternalNote]] = {}
    for reply in tx.scalars(
        select(InternalMessage).where(
            InternalMessage.thread_ts.in_([q.message_ts for q in questions]),
            InternalMessage.occurred_at >= since,
        )
    ):
        replies.setdefault((reply.channel, reply.thread_ts or ""), []).append(_note(reply))
    return [(_note(q), replies.get((q.channel, q.message_ts), [])) for q in questions]
