"""Flag listeners: reactions on client messages, the decision buttons, the suggestion buttons,
and the model-lane task that classifies a new client message. Each parses, authorizes and runs
its use case in one transaction; the Slack updates that only show the new state run after the
commit."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from domain.access import Need
from domain.flags import Flag
from domain.records import Client
from domain.touchpoint import ChannelMessage
from handlers import registry
from handlers.authz import refusal
from handlers.common import BlockActions, after_ack, deps_of
from handlers.inbox import add_task, task
from handlers.lanes import MODEL
from handlers.support_listeners import track_reaction
from prompts.flag_views import DECIDE_ACTIONS, DISMISS, FLAG_IT, gone
from storage.db import Transaction
from usecases import flag_actions as flags
from usecases import flag_detection
from usecases.deps import Deps

logger = logging.getLogger(__name__)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ReactionItem(_Model):
    type: str = "message"
    channel: str = ""
    ts: str = ""


class ReactionEvent(_Model):
    type: str
    user: str
    reaction: str
    item: ReactionItem
    item_user: str | None = None
    event_ts: str = ""

    def as_reaction(self) -> flags.Reaction | None:
        if self.item.type != "message" or not self.item.channel or not self.item.ts:
            return None
        return flags.Reaction(
            user=self.user,
            name=self.reaction,
            channel=self.item.channel,
            ts=self.item.ts,
            item_user=self.item_user,
        )


# -- reactions ---------------------------------------------------------------------------------
def on_reaction_added(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    reaction = ReactionEvent.model_validate(event).as_reaction()
    if reaction is None:
        return
    deps = deps_of(context)
    after_ack(context, lambda: reaction_added(deps, client, reaction))


def on_reaction_removed(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    reaction = ReactionEvent.model_validate(event).as_reaction()
    if reaction is None:
        return
    deps = deps_of(context)
    after_ack(context, lambda: reaction_removed(deps, client, reaction))


def reaction_added(deps: Deps, web: WebClient, reaction: flags.Reaction) -> None:
    with deps.db.transaction() as tx:
        flags.reaction_added(tx, deps, web, reaction, deps.clock.now())
        track_reaction(tx, reaction, deps.clock.now())  # support: ✅ resolves, :sos: opens


def reaction_removed(deps: Deps, web: WebClient, reaction: flags.Reaction) -> None:
    with deps.db.transaction() as tx:
        after = flags.reaction_removed(tx, web, reaction, deps.clock.now())
    if after is not None:
        after()


# -- buttons -----------------------------------------------------------------------------------
def _flag_id(act: BlockActions) -> int | None:
    try:
        return int(act.action.value or "")
    except ValueError:
        return None


def _clicked(act: BlockActions) -> flags.Clicked:
    return flags.Clicked(
        user=act.user.id,
        channel=act.channel_id,
        ts=act.message_ts,
        block_id=act.action.block_id,
        blocks=list((act.message or {}).get("blocks") or []),
    )


def _tell(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def _authorized(
    tx: Transaction, act: BlockActions, *, suggestion: bool
) -> tuple[tuple[Flag, Client] | None, str | None]:
    """The clicked flag and its client, or what to tell the clicker instead."""
    found = flags.flag_and_client(tx, _flag_id(act))
    if found is None:
        return None, gone(suggestion=suggestion)
    refused = refusal(tx, act.user.id, Need.CLIENT_TEAM, found[1])
    return (None, refused) if refused else (found, None)


def _answer(respond: Respond, answer: flags.Answer) -> None:
    if answer.text:
        _tell(respond, answer.text)
    if answer.after is not None:
        answer.after()


def on_decide(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)
    after_ack(context, lambda: decide(deps, client, act, respond))


def decide(deps: Deps, web: WebClient, act: BlockActions, respond: Respond) -> None:
    decision = DECIDE_ACTIONS[act.action.action_id]
    with deps.db.transaction() as tx:
        found, refused = _authorized(tx, act, suggestion=False)
        if found is None:
            answer = flags.Answer(text=refused)
        else:
            answer = flags.decide(tx, web, found, decision, _clicked(act), deps.clock.now())
    _answer(respond, answer)


def on_suggestion(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)
    after_ack(context, lambda: suggestion_clicked(deps, client, act, respond))


def suggestion_clicked(deps: Deps, web: WebClient, act: BlockActions, respond: Respond) -> None:
    flagging = act.action.action_id == FLAG_IT
    with deps.db.transaction() as tx:
        found, refused = _authorized(tx, act, suggestion=True)
        if found is None:
            answer = flags.Answer(text=refused)
        else:
            answer = flags.act_on_suggestion(
                tx,
                deps,
                web,
                found,
                flagging=flagging,
                clicked=_clicked(act),
                now=deps.clock.now(),
            )
    _answer(respond, answer)


# -- a new client message: classified later, in the model lane ---------------------------------
def queue_detection(tx: Transaction, msg: ChannelMessage, client: Client) -> bool:
    """Classify this new client message later, in the model lane (same transaction)."""
    key, payload = flag_detection.detection_job(msg, client)
    return add_task(tx, flag_detection.DETECT_TASK, key, payload)


@task(flag_detection.DETECT_TASK, MODEL)
def detect_task(deps: Deps, payload: dict[str, Any]) -> None:
    web = deps.slack
    if web is None:
        return
    client_id, msg = flag_detection.message_of(payload)
    finding = flag_detection.examine(deps, web, msg)
    if finding is None:
        return
    now = deps.clock.now()
    with deps.db.transaction() as tx:
        flag = flag_detection.record_finding(tx, client_id, msg, finding, now)
    if flag is not None:
        flag_detection.deliver_suggestions(deps, web, now)


def register(app: App) -> None:
    registry.event(app, "reaction_added", on_reaction_added)
    registry.event(app, "reaction_removed", on_reaction_removed)
    for action_id in DECIDE_ACTIONS:
        registry.action(app, action_id, on_decide, Need.CLIENT_TEAM)
    registry.action(app, FLAG_IT, on_suggestion, Need.CLIENT_TEAM)
    registry.action(app, DISMISS, on_suggestion, Need.CLIENT_TEAM)
