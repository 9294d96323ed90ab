"""Channel messages: in a client channel, the team's messages are touchpoints and the client's
inbound activity; in a client's internal channel, a short record for the question loops.

Recording never waits on the model: a new client message is recorded in the events lane, and
its classification is a follow-up task (written in the same transaction) for the model lane.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from domain.touchpoint import ChannelMessage, Speaker
from handlers import registry
from handlers.common import MessageEvent, after_ack, deps_of
from handlers.flag_listeners import queue_detection
from handlers.support_listeners import track_message
from storage.touchpoint_store import Recorded, record_channel_message
from usecases.deps import Deps
from usecases.flag_detection import record_internal_message
from usecases.reminders import after_message

logger = logging.getLogger(__name__)


def record_message(deps: Deps, msg: ChannelMessage) -> Recorded | None:
    queued = False
    with deps.db.transaction() as tx:
        recorded = record_channel_message(tx, msg, deps.clock.now())
        if recorded is None:
            record_internal_message(tx, msg)
        elif recorded.new and recorded.speaker is Speaker.CLIENT:
            queued = queue_detection(tx, msg, recorded.client)
        queued = track_message(tx, deps, msg, recorded) or queued  # support requests
    if queued:
        deps.kick()  # the model lane picks the classification up at once
    if recorded and recorded.new:
        logger.info("recorded %s message for %s", recorded.speaker.value, recorded.client.slug)
    return recorded


def on_message(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
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
    )
    deps = deps_of(context)
    client = context.client
    after_ack(context, lambda: _handle(deps, client, channel_message))


def _handle(deps: Deps, client: WebClient | None, msg: ChannelMessage) -> None:
    recorded = record_message(deps, msg)
    after_message(deps, client, recorded, msg.ts)


def register(app: App) -> None:
    registry.event(app, "message", on_message)
