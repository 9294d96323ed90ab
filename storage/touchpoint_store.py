"""Recording a client-channel message as a touchpoint or inbound activity (no Slack here).

Who counts is `domain.touchpoint.speaker_of`; this module only writes it down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from domain import records
from domain.calendar import slack_ts_to_datetime
from domain.touchpoint import ChannelMessage, Speaker, speaker_of
from storage.activity_store import claim_event, record_inbound, record_touchpoint
from storage.db import Transaction
from storage.models import InboundMessage, Touchpoint
from storage.portfolio_store import client_by_channel, client_timezone, organization, people_by_id


@dataclass(frozen=True)
class Recorded:
    client: records.Client
    speaker: Speaker
    new: bool  # False when this message (or event) had already been recorded


def record_channel_message(tx: Transaction, msg: ChannelMessage, now: datetime) -> Recorded | None:
    """Record a message posted in a client channel. None when the channel is no client's."""
    client = client_by_channel(tx, msg.channel)
    if client is None:
        return None
    people = people_by_id(tx)
    speaker = speaker_of(client, msg.user, set(people))
    if msg.event_id and not claim_event(tx, msg.event_id, now):
        return Recorded(client, speaker, new=False)
    occurred = slack_ts_to_datetime(msg.ts)
    new = False
    if speaker is Speaker.TEAM:
        tz = client_timezone(client, people, organization(tx))
        new = record_touchpoint(
            tx,
            client_id=client.id,
            author_id=msg.user,
            kind="slack",
            source="event",
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
    return Recorded(client, speaker, new=new)


def messages_recorded(tx: Transaction) -> int:
    """Client-channel messages recorded so far, the team's (touchpoints) and the client's."""
    return sum(
        tx.scalar(select(func.count()).select_from(model)) or 0
        for model in (Touchpoint, InboundMessage)
    )
