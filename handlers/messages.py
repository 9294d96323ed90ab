"""Client-channel messages: team messages are touchpoints, client messages inbound activity."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from handlers.common import MessageEvent, deps_of
from handlers.reminders import after_message
from storage.recorder import ChannelMessage, record_channel_message

logger = logging.getLogger(__name__)


def on_message(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    msg = MessageEvent.model_validate(event)
    if not msg.is_person_speaking() or msg.user is None:
        return
    deps = deps_of(context)
    with deps.db.transaction() as session:
        recorded = record_channel_message(
            session,
            ChannelMessage(
                channel=msg.channel,
                user=msg.user,
                text=msg.text,
                ts=msg.ts,
                thread_ts=msg.thread_ts,
                event_id=body.get("event_id"),
            ),
            deps.clock.now(),
        )
    after_message(deps, context.client, recorded, msg.ts)
    if recorded and recorded.new:
        logger.info("recorded %s message for %s", recorded.speaker.value, recorded.client.slug)


def register(app: App) -> None:
    app.event("message")(on_message)
