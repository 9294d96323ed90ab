"""Support listeners: `/support`, the request buttons (Resolved / Duplicate / Dismiss), the
ingest hook for client-channel messages and reactions, and the model-lane task that reads a
new client message with the model when one is configured."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from domain.access import Need
from domain.commands import CommandError
from domain.reference_commands import (
    ReferenceCommand,
    ReferencesQuery,
    parse_reference,
    parse_references,
)
from domain.support import RuleSupportDetector
from domain.support_commands import SupportCommand, parse_support
from domain.touchpoint import ChannelMessage, Speaker
from handlers import registry
from handlers.authz import refusal
from handlers.common import BlockActions, after_ack, deps_of
from handlers.inbox import add_task, task
from handlers.lanes import MODEL
from handlers.slash import Call, Command, Reply, register_command
from prompts.support_views import (
    ACTIONS,
    FEEDBACK_USAGE,
    REFERENCE_USAGE,
    REFERENCES_USAGE,
    SUPPORT_USAGE,
    home_support_summary,
)
from storage.db import Transaction
from storage.touchpoint_store import Recorded
from usecases import advocacy_actions as advocacy
from usecases import feedback_actions as feedback
from usecases import support_actions as support
from usecases.deps import Deps
from usecases.flag_actions import Reaction

logger = logging.getLogger(__name__)

DETECT_TASK = "support.detect"


# -- the ingest path ---------------------------------------------------------------------------
def track_message(
    tx: Transaction, deps: Deps, msg: ChannelMessage, recorded: Recorded | None
) -> bool:
    """Called once from the client-message path, inside its transaction: open or answer a
    request (the rules), and queue the model's reading when one is configured. True when a
    model-lane task was queued."""
    support.on_channel_message(tx, msg, recorded)
    if deps.llm is None or recorded is None or not recorded.new:
        return False
    if recorded.speaker is not Speaker.CLIENT:
        return False
    return add_task(
        tx,
        DETECT_TASK,
        f"{msg.channel}:{msg.ts}",
        {
            "client_id": recorded.client.id,
            "channel": msg.channel,
            "user": msg.user,
            "text": msg.text,
            "ts": msg.ts,
            "thread_ts": msg.thread_ts,
        },
    )


@task(DETECT_TASK, MODEL)
def detect_task(deps: Deps, payload: dict[str, Any]) -> None:
    if deps.llm is None:
        return
    from llm.support_classifier import LLMSupportDetector

    msg = ChannelMessage(
        channel=str(payload["channel"]),
        user=str(payload["user"]),
        text=str(payload.get("text") or ""),
        ts=str(payload["ts"]),
        thread_ts=payload.get("thread_ts"),
        event_id=None,
    )
    reading = LLMSupportDetector(deps.llm, RuleSupportDetector()).detect(msg.text)
    with deps.db.transaction() as tx:
        support.apply_model_reading(tx, int(payload["client_id"]), msg, reading)


def track_reaction(tx: Transaction, reaction: Reaction, now: datetime) -> None:
    """Called once from the reaction path, inside its transaction: ✅ resolves, :sos: opens."""
    support.on_reaction(
        tx,
        user=reaction.user,
        name=reaction.name,
        channel=reaction.channel,
        ts=reaction.ts,
        item_user=reaction.item_user,
        now=now,
    )


# -- App Home ---------------------------------------------------------------------------------
HOME_BLOCKS = 100


def with_open_support(
    view: dict[str, Any], tx: Transaction, user_id: str, now: datetime
) -> dict[str, Any]:
    """App Home with its open-support part after the board (a one-line summary instead when
    the board leaves no room within Slack's 100 blocks)."""
    blocks = list(view.get("blocks") or [])
    extra, total = support.home_blocks(tx, user_id, now)
    if len(blocks) + len(extra) > HOME_BLOCKS:
        extra = [home_support_summary(total)] if len(blocks) < HOME_BLOCKS else []
    return {**view, "blocks": [*blocks, *extra]}


# -- /support ----------------------------------------------------------------------------------
def works(call: Call[SupportCommand]) -> Reply:
    request, tx = call.request, call.tx
    if request.action == "resolve":
        found = support.request_and_client(tx, request.request_id)
        if found is None:
            return Reply(text=f"There is no support request #{request.request_id}.")
        refused = refusal(tx, call.user_id, Need.CLIENT_TEAM, found[1])
        if refused:
            return Reply(text=refused)
        return Reply(
            text=support.click(tx, found[0], "resolve", by=call.user_id, now=call.now).text
        )
    client = call.client
    assert client is not None  # slug_of names it; the helper resolved it
    if request.action == "list":
        text, blocks = support.listing(tx, client, call.now)
        return Reply(text=text, blocks=blocks)
    opened = support.open_by_hand(
        tx,
        client,
        request.text,
        by=call.user_id,
        key=call.request_key or f"cmd:{call.user_id}:{call.now.timestamp()}",
        severity=request.severity,
        now=call.now,
    )
    if opened is None:
        return Reply(text="That request is already open.")
    return Reply(text=support.opened_reply(opened, client))


SUPPORT = Command(
    name="/support",
    usage=SUPPORT_USAGE,
    parse=parse_support,
    need=Need.CLIENT_TEAM,
    works=works,
    slug_of=lambda request: request.slug,
)


# -- /feedback --------------------------------------------------------------------------------
def parse_feedback(text: str) -> str:
    if text.strip():
        raise CommandError("`/feedback` takes nothing after it.")
    return ""


def feedback_works(call: Call[str]) -> Reply:
    text, blocks = feedback.listing(call.tx)
    return Reply(text=text, blocks=blocks)


FEEDBACK = Command(
    name="/feedback",
    usage=FEEDBACK_USAGE,
    parse=parse_feedback,
    need=Need.MEMBER,
    works=feedback_works,
)


# -- /reference and /references ---------------------------------------------------------------
def reference_works(call: Call[ReferenceCommand]) -> Reply:
    assert call.client is not None  # slug_of names it; the helper resolved it
    return Reply(
        text=advocacy.reference(
            call.tx,
            call.client,
            call.request,
            by=call.user_id,
            key=call.request_key or f"ask:{call.user_id}:{call.now.timestamp()}",
            now=call.now,
        )
    )


REFERENCE = Command(
    name="/reference",
    usage=REFERENCE_USAGE,
    parse=parse_reference,
    need=Need.CLIENT_TEAM,
    works=reference_works,
    slug_of=lambda request: request.slug,
)


def references_works(call: Call[ReferencesQuery]) -> Reply:
    return Reply(text=advocacy.references(call.tx, call.request, call.now))


REFERENCES = Command(
    name="/references",
    usage=REFERENCES_USAGE,
    parse=parse_references,
    need=Need.MEMBER,
    works=references_works,
)


# -- the buttons -------------------------------------------------------------------------------
def on_button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)
    after_ack(context, lambda: clicked(deps, act, respond))


def clicked(deps: Deps, act: BlockActions, respond: Respond) -> None:
    try:
        request_id: int | None = int(act.action.value or "")
    except ValueError:
        request_id = None
    with deps.db.transaction() as tx:
        found = support.request_and_client(tx, request_id)
        stranger = refusal(tx, act.user.id, Need.MEMBER)
        if stranger:
            text = stranger  # before saying anything about the request
        elif found is None:
            text = "That support request no longer exists."
        else:
            refused = refusal(tx, act.user.id, Need.CLIENT_TEAM, found[1])
            text = (
                refused
                or support.click(
                    tx,
                    found[0],
                    ACTIONS[act.action.action_id],
                    by=act.user.id,
                    now=deps.clock.now(),
                ).text
            )
    respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: App) -> None:
    register_command(app, SUPPORT)
    register_command(app, FEEDBACK)
    register_command(app, REFERENCE)
    register_command(app, REFERENCES)
    for action_id in ACTIONS:
        registry.action(app, action_id, on_button, Need.CLIENT_TEAM)
