"""Recording a client-channel message as a touchpoint or inbound activity (no Slack here).

Who counts is `domain.touchpoint.speaker_of`; this module only writes it down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update

from domain import records
from domain.calendar import slack_ts_to_datetime
from domain.touch_rules import (
    HUDDLE,
    Touch,
    UpdateSlot,
    judge,
    message_facts,
    role_of,
    update_slot,
)
from domain.touchpoint import ChannelMessage, Speaker, speaker_of
from storage.activity_store import claim_event, excerpt, record_inbound, record_touchpoint
from storage.db import Transaction
from storage.models import InboundMessage, Touchpoint
from storage.org_settings_store import org_settings
from storage.portfolio_store import (
    client_by_channel,
    client_timezone,
    organization,
    people_by_slack_ids,
)


@dataclass(frozen=True)
class Recorded:
    client: records.Client
    speaker: Speaker
    new: bool  # False when this message (or event) had already been recorded
    counts: bool = True  # a team message that makes the day (domain/touch_rules.py)
    slot: UpdateSlot | None = None  # it is the day's morning update or end-of-day recap


def record_channel_message(tx: Transaction, msg: ChannelMessage, now: datetime) -> Recorded | None:
    """Record a message posted in a client channel. None when the channel is no client's."""
    client = client_by_channel(tx, msg.channel)
    if client is None:
        return None
    # The author (are they one of us?) and the CSO (the client's timezone), not everyone.
    people = people_by_slack_ids(tx, [msg.user, client.cso_id])
    speaker = speaker_of(client, msg.user, set(people))
    if msg.event_id and not claim_event(tx, msg.event_id, now):
        return Recorded(client, speaker, new=False)
    occurred = slack_ts_to_datetime(msg.ts)
    new = False
    counts = False
    slot: UpdateSlot | None = None
    if speaker is Speaker.TEAM:
        tz = client_timezone(client, people, organization(tx))
        source = msg.subtype if msg.subtype in ("me_message", "file_share") else "event"
        touch = Touch(
            kind="slack",
            source=source,
            author_id=msg.user,
            at=occurred,
            day=occurred.date(),
            text=excerpt(msg.text),
        )
        role, settings = role_of(client, msg.user), org_settings(tx).kpi
        counts = judge(touch, role, settings).counts
        slot = update_slot(touch, role, settings, occurred.astimezone(tz).time())
        new = record_touchpoint(
            tx,
            client_id=client.id,
            author_id=msg.user,
            kind="slack",
            source=source,
            occurred_at=occurred,
            tz=tz,
            dedupe_key=f"msg:{msg.channel}:{msg.ts}",
            now=now,
            text=msg.text,
            channel=msg.channel,
            message_ts=msg.ts,
            thread_ts=msg.thread_ts,
        )
    elif speaker is Speaker.CLIENT:
        new = record_inbound(
            tx,
            client_id=client.id,
            author_id=msg.user,
            channel=msg.channel,
            message_ts=msg.ts,
            thread_ts=msg.thread_ts,
            occurred_at=occurred,
            text=msg.text,
        )
    return Recorded(client, speaker, new=new, counts=counts, slot=slot)


def forget_channel_message(tx: Transaction, channel: str, ts: str) -> records.Client | None:
    """A message deleted in a client channel: its touchpoint or inbound record goes (its day
    is judged again from what is left). The client, or None when nothing was recorded."""
    client = client_by_channel(tx, channel)
    if client is None:
        return None
    gone = _count(
        tx.execute(
            delete(Touchpoint).where(
                Touchpoint.channel == channel,
                Touchpoint.message_ts == ts,
                Touchpoint.source != HUDDLE,
            )
        )
    )
    gone += _count(
        tx.execute(
            delete(InboundMessage).where(
                InboundMessage.channel == channel, InboundMessage.message_ts == ts
            )
        )
    )
    return client if gone else None


def edit_channel_message(tx: Transaction, channel: str, ts: str, text: str) -> bool:
    """An edited message: its excerpt reads as the message now does (judged again when the
    KPI is read). False when the message was not recorded."""
    short = excerpt(text)
    n = _count(
        tx.execute(
            update(Touchpoint)
            .where(Touchpoint.channel == channel, Touchpoint.message_ts == ts)
            .where(Touchpoint.source != HUDDLE)
            .values(excerpt=short, **_facts(short))
        )
    )
    n += _count(
        tx.execute(
            update(InboundMessage)
            .where(InboundMessage.channel == channel, InboundMessage.message_ts == ts)
            .values(excerpt=short)
        )
    )
    return bool(n)


def _facts(text: str) -> dict[str, object]:
    words, ack, cues = message_facts(text)
    return {"words": words, "acknowledgement": ack, "cues": cues}


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Huddle:
    client: records.Client
    credited: list[str]  # the team members it is a call touchpoint for
    new: list[str]  # of those, the ones recorded just now


def record_huddle(
    tx: Transaction,
    *,
    channel: str,
    ts: str,
    room: str,
    people: list[str],
    started_at: datetime,
    now: datetime,
) -> Huddle | None:
    """A huddle in a client channel. With at least one of the client's people in it, it is a
    `call` touchpoint for each team member who took part (once each, however often Slack
    updates the huddle). None when the channel is no client's."""
    client = client_by_channel(tx, channel)
    if client is None:
        return None
    # Those in the huddle (are they one of us?) and the CSO (the client's timezone).
    ours = people_by_slack_ids(tx, [*people, client.cso_id])
    speakers = {p: speaker_of(client, p, set(ours)) for p in people}
    clients_in = [p for p, s in speakers.items() if s is Speaker.CLIENT]
    team = [p for p, s in speakers.items() if s is Speaker.TEAM]
    if not clients_in:
        return Huddle(client, [], [])
    tz = client_timezone(client, ours, organization(tx))
    n = len(clients_in)
    new = [
        person
        for person in team
        if record_touchpoint(
            tx,
            client_id=client.id,
            author_id=person,
            kind="call",
            source=HUDDLE,
            occurred_at=started_at,
            tz=tz,
            dedupe_key=f"huddle:{channel}:{room or ts}:{person}",
            now=now,
            text=f"Huddle in the client channel with {n} of the client's people",
            channel=channel,
            message_ts=ts,
        )
    ]
    return Huddle(client, team, new)


def messages_recorded(tx: Transaction) -> int:
    """Client-channel messages recorded so far, the team's (touchpoints) and the client's."""
    return sum(
        tx.scalar(select(func.count()).select_from(model)) or 0
        for model in (Touchpoint, InboundMessage)
    )
