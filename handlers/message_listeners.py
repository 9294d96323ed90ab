"""Channel messages: in a client channel, the team's messages are touchpoints and the client's
inbound activity; in a client's internal channel, a short record for the question loops.

Recording never waits on the model: a new client message is recorded in the events lane, and
its classification is a follow-up task (written in the same transaction) for the model lane.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from domain.touchpoint import ChannelMessage, Speaker
from handlers import registry
from handlers.common import CHANGE_SUBTYPES, MessageChange, MessageEvent, after_ack, deps_of
from handlers.flag_listeners import queue_detection
from handlers.support_listeners import track_message
from storage.touchpoint_store import Recorded, record_channel_message
from usecases import touchpoint_log as touch_log
from usecases.deps import Deps
from usecases.flag_detection import record_internal_message
from usecases.intervention_actions import note_founder_message
from usecases.reminders import after_message

logger = logging.getLogger(__name__)


def record_message(deps: Deps, msg: ChannelMessage) -> Recorded | None:
    queued = False
    with deps.db.transaction() as tx:
        recorded = record_channel_message(tx, msg, deps.clock.now())
        note_founder_message(tx, msg, deps.clock.now())
        if recorded is None:
            record_internal_message(tx, msg)
        elif recorded.new and recorded.speaker is Speaker.CLIENT:
            queued = queue_detection(tx, msg, recorded.client)
        queued = track_message(tx, deps, msg, recorded) or queued  # support requests
    if queued:
        deps.kick()  # the model lane picks the classification up at once
    if recorded and recorded.new:
        logger.info(
            "recorded %s message for %s",
            recorded.speaker.value,
            recorded.client.slug,
            extra={"client": recorded.client.slug},
        )
    return recorded


def on_message(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    if event.get("subtype") in CHANGE_SUBTYPES:
        on_change(event, context)
        return
    msg = MessageEvent.model_validate(event)
    if not msg.is_person_speaking() or msg.user is None:
        return
    channel_message = ChannelMessage(
        channel=msg.channel,
        user=msg.user,
        text=msg.text,
        ts=msg.ts,
        thread_ts=msg.thread_ts,
        event_id=body.get("event_id"),
        subtype=msg.subtype,
    )
    deps = deps_of(context)
    client = context.client
    after_ack(context, lambda: _handle(deps, client, channel_message))


def _handle(deps: Deps, client: WebClient | None, msg: ChannelMessage) -> None:
    recorded = record_message(deps, msg)
    after_message(deps, client, recorded, msg.ts)


def on_change(event: dict[str, Any], context: BoltContext) -> None:
    """A message deleted or edited, or a huddle started or updated, in a channel."""
    change = MessageChange.model_validate(event)
    deps = deps_of(context)
    client = context.client
    after_ack(context, lambda: _apply(deps, client, change))


def _apply(deps: Deps, client: WebClient | None, change: MessageChange) -> None:
    message = change.message
    if change.subtype == "message_deleted":
        if change.deleted_ts:
            touch_log.forget_message(deps, change.channel, change.deleted_ts)
        return
    # A huddle arrives as huddle_thread, then as edits of that message while people join.
    room, ts = change.room, change.ts
    if message is not None and message.subtype == "huddle_thread":
        room, ts = message.room, message.ts
    if room is not None:
        touch_log.huddle(
            deps,
            client,
            channel=change.channel,
            ts=ts,
            room=room.id,
            people=room.people,
            started_at=datetime.fromtimestamp(room.date_start, UTC) if room.date_start else None,
        )
        return
    if change.subtype == "message_changed" and message is not None:
        touch_log.edit_message(deps, change.channel, message.ts, message.text)


def register(app: App) -> None:
    registry.event(app, "message", on_message)
