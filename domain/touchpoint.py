"""What counts as a touchpoint (docs/process.md, "Touchpoints"): a message in a client channel
by someone on the client's team. A client's message is inbound activity; one of us who is not
on the team is neither."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from domain.records import Client


class Speaker(StrEnum):
    TEAM = "team"  # the client's cso, service lead or engagement partner
    CLIENT = "client"  # the client's people
    OTHER_INTERNAL = "internal"  # one of us, but not on this client's team


@dataclass(frozen=True)
class ChannelMessage:
    """A person's message in a channel, as the listeners hand it on."""

    channel: str
    user: str
    text: str
    ts: str
    thread_ts: str | None
    event_id: str | None
    subtype: str | None = None  # me_message, file_share, thread_broadcast; None: plain


def speaker_of(client: Client, user: str, internal_ids: Collection[str]) -> Speaker:
    """Who spoke: the team (a touchpoint), the client, or another of us."""
    if user in client.team_ids():
        return Speaker.TEAM
    if user in (client.contacts or ()) or user not in internal_ids:
        return Speaker.CLIENT
    return Speaker.OTHER_INTERNAL
