"""Turning a client-channel message into a touchpoint or inbound activity (no Slack here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from domain import records
from domain.calendar import slack_ts_to_datetime
from storage.activity import claim_event, record_inbound, record_touchpoint
from storage.portfolio import client_by_channel, client_timezone, organization, people_by_id


class Speaker(StrEnum):
    TEAM = "team"  # the client's cso, service lead or engagement partner
    CLIENT = "client"  # the client's people
    OTHER_INTERNAL = "internal"  # one of us, but not on this client's team


@dataclass
class ChannelMessage:
    channel: str
    user: str
    text: str
    ts: str
    thread_ts: str | None
    event_id: str | None


@dataclass
class Recorded:
    client: records.Client
    speaker: Speaker
    new: bool  # False when this message (or event) had already been recorded


def speaker_of(client: records.Client, user: str, internal_ids: set[str]) -> Speaker:
    if user in client.team_ids():
        return Speaker.TEAM
    if user in (client.contacts or []) or user not in internal_ids:
        return Speaker.CLIENT
    return Speaker.OTHER_INTERNAL


def record_channel_message(session: Session, msg: ChannelMessage, now: datetime) -> Recorded | None:
    """Record a message posted in a client channel. None when the channel is no client's."""
    client = client_by_channel(session, msg.channel)
    if client is None:
        return None
    people = people_by_id(session)
    speaker = speaker_of(client, msg.user, set(people))
    if msg.event_id and not claim_event(session, msg.event_id, now):
        return Recorded(client, speaker, new=False)
    occurred = slack_ts_to_datetime(msg.ts)
    new = False
    if speaker is Speaker.TEAM:
        tz = client_timezone(client, people, organization(session))
        new = record_touchpoint(
            session,
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
            session,
            client_id=client.id,
            author_id=msg.user,
            channel=msg.channel,
            message_ts=msg.ts,
            thread_ts=msg.thread_ts,
            occurred_at=occurred,
            text=msg.text,
        )
    return Recorded(client, speaker, new=new)
