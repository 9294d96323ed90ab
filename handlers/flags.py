"""Client-channel intelligence: flag reactions, suggested flags, decisions.

- A team member's flag emoji on a client message opens a flag and posts it in the client's
  internal channel (or DMs the CSO when that channel is missing or shared with the client),
  mentioning the Service Lead, with *In scope* / *Needs change request* / *Resolved*.
- Removing the reaction before a decision withdraws it.
- Every new client message is classified by a follow-up task in the model lane
  (`queue_detection`, written with the message's record); a detection is a suggested flag
  DM'd to the CSO through the outbox (*Flag it* / *Dismiss*), and an expansion signal becomes
  the client's Hook in /pulse.
Nothing here posts in a client channel or a Slack Connect channel.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import Need
from domain.calendar import local_date, slack_ts_to_datetime
from domain.classify import is_question
from domain.flag_loops import DECISION_LABELS, Decision, FlagStatus
from domain.flags import FlagKind, flag_label
from domain.records import Client
from handlers import registry
from handlers.access import refusal
from handlers.common import BlockActions, after_ack, deps_of
from handlers.inbox import add_task, describe, task
from handlers.lanes import MODEL
from llm.model_client import message_classifier
from prompts import blocks as bk
from prompts.render import render
from storage.activity import record_pulse
from storage.flags import (
    acknowledge_by_reaction,
    client_by_internal_channel,
    client_channels,
    decide_flag,
    dismiss_suggestion,
    find_flag,
    flag_settings,
    get_flag,
    open_flag,
    promote_suggestion,
    record_question,
    set_post,
    suggest_flag,
    withdraw_flag,
)
from storage.flags import record_internal as record_internal_message
from storage.models import Flag, InboundMessage
from storage.portfolio import (
    client_by_channel,
    client_by_id,
    client_timezone,
    organization,
    people_by_id,
)
from storage.recorder import ChannelMessage
from usecases.deps import Deps
from usecases.outbox import NudgeSpec, close, deliver_due, enqueue
from usecases.privacy import ChannelGuard

logger = logging.getLogger(__name__)

DECIDE_ACTIONS: dict[str, Decision] = {
    "flag_in_scope": Decision.IN_SCOPE,
    "flag_change_request": Decision.CHANGE_REQUEST,
    "flag_resolved": Decision.RESOLVED,
}
FLAG_IT = "flag_suggestion_flag"
DISMISS = "flag_suggestion_dismiss"
SUGGESTION_CADENCE = "flag_suggestion"
QUOTE_CHARS = 90


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


class FetchedMessage(_Model):
    text: str = ""
    user: str | None = None
    ts: str
    thread_ts: str | None = None


# -- rendering ---------------------------------------------------------------------------------
def quote(text: str) -> str:
    flat = re.sub(r"\s+", " ", text or "").strip()
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1].rstrip() + "…"


def decision_buttons(flag_id: int) -> bk.Block:
    value = str(flag_id)
    return bk.actions(
        bk.button("In scope", "flag_in_scope", value),
        bk.button("Needs change request", "flag_change_request", value, style="danger"),
        bk.button("Resolved", "flag_resolved", value, style="primary"),
        block_id=f"flag_decide:{flag_id}",
    )


def flag_post(
    flag: Flag, client: Client, *, dm: bool, tz: tzinfo = UTC
) -> tuple[str, list[bk.Block]]:
    text = render(
        "messages/flag_internal.j2",
        service_lead=client.service_lead_id,
        label=flag_label(flag.kind),
        client_name=client.name,
        quote=quote(flag.excerpt),
        permalink=flag.permalink,
    )
    context = render(
        "messages/flag_context.j2", flag=flag, dm=dm, internal_channel=client.internal_channel
    )
    if flag.status == FlagStatus.DECIDED and flag.decision:
        day = flag.decided_at.astimezone(tz).date() if flag.decided_at else None
        decided = render(
            "messages/flag_decided.j2",
            flag=flag,
            decision_label=DECISION_LABELS[Decision(flag.decision)],
            day=day.isoformat() if day else "",
        )
        return text, [bk.section(text), bk.context(context), bk.context(decided)]
    if flag.status == FlagStatus.WITHDRAWN:
        withdrawn = render(
            "messages/flag_withdrawn.j2",
            label=flag_label(flag.kind),
            client_name=client.name,
            quote=quote(flag.excerpt),
            by=flag.decided_by or flag.flagged_by,
        )
        return withdrawn, [bk.section(withdrawn)]
    return text, [bk.section(text), bk.context(context), decision_buttons(flag.id)]


def suggestion_blocks(flag: Flag, client: Client, reason: str) -> tuple[str, list[bk.Block]]:
    text = render(
        "messages/flag_suggestion.j2",
        label=flag_label(flag.kind),
        client_name=client.name,
        author=flag.author_id,
        quote=quote(flag.excerpt),
        permalink=flag.permalink,
    )
    source = "the LLM" if flag.source == "llm" else "the rules"
    return text, [
        bk.section(text),
        bk.context(f"Detected by {source}: {reason[:200]}"),
        bk.actions(
            bk.button("Flag it", FLAG_IT, str(flag.id), style="primary"),
            bk.button("Dismiss", DISMISS, str(flag.id)),
            block_id=f"flag_suggestion:{flag.id}",
        ),
    ]


# -- Slack reads -------------------------------------------------------------------------------
def fetch_message(web: WebClient, channel: str, ts: str) -> FetchedMessage | None:
    """The message at `ts`: from the channel's history, or its thread for a thread reply."""
    try:
        history = web.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
        for raw in history.get("messages") or []:
            if raw.get("ts") == ts:
                return FetchedMessage.model_validate(raw)
        replies = web.conversations_replies(
            channel=channel, ts=ts, latest=ts, inclusive=True, limit=2
        )
        for raw in replies.get("messages") or []:
            if raw.get("ts") == ts:
                return FetchedMessage.model_validate(raw)
    except (SlackApiError, OSError) as exc:
        logger.warning("cannot read message %s in %s: %s", ts, channel, describe(exc))
    return None


def permalink_of(web: WebClient, channel: str, ts: str) -> str | None:
    try:
        link = web.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except (SlackApiError, OSError) as exc:
        logger.warning("no permalink for %s in %s: %s", ts, channel, describe(exc))
        return None
    return str(link) if link else None


def guard_of(deps: Deps, web: WebClient) -> ChannelGuard:
    guard: ChannelGuard = deps.channel_guard(web)
    return guard


def internal_destination(deps: Deps, web: WebClient, client: Client) -> tuple[str, bool]:
    """The client's internal channel, or the CSO's DM (True) when it is missing or shared."""
    with deps.db.session() as session:
        shared_ids = client_channels(session)
    channel = client.internal_channel
    if channel and not guard_of(deps, web).is_shared(channel, client_channels=shared_ids):
        return channel, False
    return client.cso_id, True


def client_tz(deps: Deps, client: Client) -> ZoneInfo:
    with deps.db.session() as session:
        return client_timezone(client, people_by_id(session), organization(session))


def reminder_keys(flag_id: int) -> list[str]:
    return [f"flag-reminder:{flag_id}:{step}" for step in ("cso", "service_lead")]


# -- posting a flag ----------------------------------------------------------------------------
def post_flag(deps: Deps, web: WebClient, flag: Flag, client: Client) -> Flag:
    """Post (or, for a re-opened flag, restore) the flag's internal message."""
    if flag.post_channel and flag.post_ts:
        dm = flag.post_channel.startswith("D")
        text, blocks = flag_post(flag, client, dm=dm, tz=client_tz(deps, client))
        try:
            web.chat_update(
                channel=flag.post_channel, ts=flag.post_ts, text=bk.fallback(text), blocks=blocks
            )
            return flag
        except (SlackApiError, OSError) as exc:
            logger.warning("could not restore flag %s post: %s", flag.id, describe(exc))
    destination, dm = internal_destination(deps, web, client)
    text, blocks = flag_post(flag, client, dm=dm)
    resp = web.chat_postMessage(channel=destination, text=bk.fallback(text), blocks=blocks)
    with deps.db.transaction() as session:
        set_post(session, flag.id, resp.get("channel"), resp.get("ts"))
    flag.post_channel, flag.post_ts = resp.get("channel"), resp.get("ts")
    return flag


def _update_post(deps: Deps, web: WebClient, flag: Flag, client: Client) -> None:
    if not (flag.post_channel and flag.post_ts):
        return
    dm = flag.post_channel.startswith("D")
    text, blocks = flag_post(flag, client, dm=dm, tz=client_tz(deps, client))
    try:
        web.chat_update(
            channel=flag.post_channel, ts=flag.post_ts, text=bk.fallback(text), blocks=blocks
        )
    except (SlackApiError, OSError) as exc:
        logger.warning("could not update flag %s post: %s", flag.id, describe(exc))


# -- reactions ---------------------------------------------------------------------------------
def on_reaction_added(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ev = ReactionEvent.model_validate(event)
    deps = deps_of(context)
    after_ack(context, lambda: reaction_added(deps, client, ev))


def on_reaction_removed(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ev = ReactionEvent.model_validate(event)
    deps = deps_of(context)
    after_ack(context, lambda: reaction_removed(deps, client, ev))


def reaction_added(deps: Deps, web: WebClient, ev: ReactionEvent) -> None:
    channel, ts = ev.item.channel, ev.item.ts
    if ev.item.type != "message" or not channel or not ts:
        return
    now = deps.clock.now()
    with deps.db.session() as session:
        target = client_by_channel(session, channel)
        internal = None if target else client_by_internal_channel(session, channel)
        settings = flag_settings(session)
    if target is None:
        if internal is not None:  # the asker's reaction acknowledges an internal answer
            with deps.db.transaction() as session:
                acknowledge_by_reaction(session, channel=channel, ts=ts, user=ev.user, now=now)
        return
    kind = settings.vocabulary.kind_for(ev.reaction)
    if kind is None or ev.user not in target.team_ids():
        return
    with deps.db.session() as session:
        existing = find_flag(session, channel, ts, kind)
        inbound = session.scalars(
            select(InboundMessage.excerpt).where(
                InboundMessage.channel == channel, InboundMessage.message_ts == ts
            )
        ).first()
    if existing is not None and existing.status in (FlagStatus.OPEN, FlagStatus.DECIDED):
        return  # a second reaction, or a retry: one flag
    fetched = fetch_message(web, channel, ts)
    text = fetched.text if fetched else (existing.excerpt if existing else (inbound or ""))
    thread_ts = fetched.thread_ts if fetched else None
    author = ev.item_user or (fetched.user if fetched else None)
    permalink = (existing.permalink if existing else None) or permalink_of(web, channel, ts)
    with deps.db.transaction() as session:
        flag = open_flag(
            session,
            client=target,
            channel=channel,
            ts=ts,
            thread_ts=thread_ts if thread_ts != ts else None,
            kind=kind,
            author=author,
            text=text,
            permalink=permalink,
            source=existing.source if existing else "reaction",
            reaction=ev.reaction.split("::", 1)[0],
            by=ev.user,
            now=now,
        )
    if flag is None:
        return
    post_flag(deps, web, flag, target)
    logger.info("flag %s (%s) opened on %s", flag.id, flag.kind, target.slug)


def reaction_removed(deps: Deps, web: WebClient, ev: ReactionEvent) -> None:
    channel, ts = ev.item.channel, ev.item.ts
    with deps.db.session() as session:
        target = client_by_channel(session, channel)
        settings = flag_settings(session)
        kind = settings.vocabulary.kind_for(ev.reaction)
        existing = find_flag(session, channel, ts, kind) if (target and kind) else None
    if target is None or existing is None or existing.status != FlagStatus.OPEN:
        return
    if existing.flagged_by != ev.user or existing.reaction is None:
        return  # someone else's reaction, or a flag raised from a suggestion
    now = deps.clock.now()
    with deps.db.transaction() as session:
        flag = withdraw_flag(session, existing.id, by=ev.user, now=now)
        if flag is not None:
            for key in reminder_keys(flag.id):
                close(session, key, by="withdrawn", now=now)
    if flag is not None:
        _update_post(deps, web, flag, target)
        logger.info("flag %s withdrawn on %s", flag.id, target.slug)


# -- buttons -----------------------------------------------------------------------------------
def _flag_and_client(deps: Deps, flag_id: int) -> tuple[Flag, Client] | None:
    with deps.db.session() as session:
        flag = get_flag(session, flag_id)
        client = client_by_id(session, flag.client_id) if flag else None
    return (flag, client) if flag and client else None


def _flag_id(act: BlockActions) -> int | None:
    try:
        return int(act.action.value or "")
    except ValueError:
        return None


def _tell(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def _replace_block(act: BlockActions, new: list[bk.Block]) -> list[bk.Block] | None:
    """The clicked message's blocks with the clicked actions block replaced by `new`."""
    old = (act.message or {}).get("blocks") or []
    block_id = act.action.block_id
    if not old or not block_id:
        return None
    out: list[bk.Block] = []
    for block in old:
        out.extend(new if block.get("block_id") == block_id else [block])
    return out


def on_decide(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)
    after_ack(context, lambda: decide(deps, client, act, respond))


def decide(deps: Deps, web: WebClient, act: BlockActions, respond: Respond) -> None:
    decision = DECIDE_ACTIONS[act.action.action_id]
    flag_id = _flag_id(act)
    found = _flag_and_client(deps, flag_id) if flag_id is not None else None
    if found is None:
        _tell(respond, "That flag no longer exists.")
        return
    _, client = found
    with deps.db.session() as session:
        refused = refusal(session, act.user.id, Need.CLIENT_TEAM, client)
    if refused:
        _tell(respond, refused)
        return
    now = deps.clock.now()
    with deps.db.transaction() as session:
        flag = decide_flag(session, found[0].id, decision, by=act.user.id, now=now)
        if flag is not None:
            for key in reminder_keys(flag.id):
                close(session, key, by=act.user.id, now=now)
    if flag is None:
        current = _flag_and_client(deps, found[0].id)
        shown = current[0] if current else found[0]
        label = DECISION_LABELS[Decision(shown.decision)] if shown.decision else ""
        _tell(respond, render("messages/flag_already.j2", flag=shown, decision_label=label))
        return
    _update_post(deps, web, flag, client)
    clicked = (act.channel_id, act.message_ts)
    if clicked[0] and clicked[1] and clicked != (flag.post_channel, flag.post_ts):
        # A reminder DM: replace just this flag's buttons, keep the rest of the message.
        decided = render(
            "messages/flag_decided.j2",
            flag=flag,
            decision_label=DECISION_LABELS[decision],
            day=local_date(now, client_tz(deps, client)).isoformat(),
        )
        new_blocks = _replace_block(act, [bk.context(decided)])
        if new_blocks is not None:
            try:
                web.chat_update(
                    channel=clicked[0], ts=clicked[1], text=bk.fallback(decided), blocks=new_blocks
                )
            except (SlackApiError, OSError) as exc:
                logger.warning("could not update the reminder: %s", describe(exc))
    logger.info("flag %s decided: %s", flag.id, decision.value)


def on_suggestion(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)
    after_ack(context, lambda: suggestion_clicked(deps, client, act, respond))


def suggestion_clicked(deps: Deps, web: WebClient, act: BlockActions, respond: Respond) -> None:
    flag_id = _flag_id(act)
    found = _flag_and_client(deps, flag_id) if flag_id is not None else None
    if found is None:
        _tell(respond, "That suggestion no longer exists.")
        return
    suggested, client = found
    with deps.db.session() as session:
        refused = refusal(session, act.user.id, Need.CLIENT_TEAM, client)
    if refused:
        _tell(respond, refused)
        return
    now = deps.clock.now()
    flagging = act.action.action_id == FLAG_IT
    with deps.db.transaction() as session:
        if flagging:
            flag = promote_suggestion(session, suggested.id, by=act.user.id, now=now)
        else:
            flag = dismiss_suggestion(session, suggested.id, by=act.user.id, now=now)
    if flag is None:
        current = _flag_and_client(deps, suggested.id)
        shown = current[0] if current else suggested
        label = DECISION_LABELS[Decision(shown.decision)] if shown.decision else ""
        _tell(respond, render("messages/flag_already.j2", flag=shown, decision_label=label))
        return
    dm = False
    if flagging:
        flag = post_flag(deps, web, flag, client)
        dm = bool(flag.post_channel and flag.post_channel.startswith("D"))
    done = render(
        "messages/flag_suggestion_done.j2",
        flagged=flagging,
        label=flag_label(flag.kind),
        client_name=client.name,
        quote=quote(flag.excerpt),
        dm=dm,
        channel=flag.post_channel,
    )
    if act.channel_id and act.message_ts:
        blocks = _replace_block(act, [bk.context(done)]) or [bk.section(done)]
        try:
            web.chat_update(
                channel=act.channel_id, ts=act.message_ts, text=bk.fallback(done), blocks=blocks
            )
        except (SlackApiError, OSError) as exc:
            logger.warning("could not update the suggestion: %s", describe(exc))


# -- every message (called by handlers/messages.py while recording) ----------------------------
DETECT_TASK = "flags.detect"


def queue_detection(session: Session, msg: ChannelMessage, client: Client) -> bool:
    """Classify this new client message later, in the model lane (same transaction)."""
    return add_task(
        session,
        DETECT_TASK,
        f"{msg.channel}:{msg.ts}",
        {
            "client_id": client.id,
            "channel": msg.channel,
            "user": msg.user,
            "text": msg.text,
            "ts": msg.ts,
            "thread_ts": msg.thread_ts,
        },
    )


@task(DETECT_TASK, MODEL)
def detect_task(deps: Deps, payload: dict[str, Any]) -> None:
    with deps.db.session() as session:
        client = client_by_id(session, int(payload["client_id"]))
    web: WebClient | None = deps.slack
    if client is None or web is None:
        return
    msg = ChannelMessage(
        channel=str(payload["channel"]),
        user=str(payload["user"]),
        text=str(payload.get("text") or ""),
        ts=str(payload["ts"]),
        thread_ts=payload.get("thread_ts"),
        event_id=None,
    )
    detect(deps, web, msg, client)


def record_internal(session: Session, msg: ChannelMessage) -> None:
    """Keep a short record of a message in a client's internal channel (question loops)."""
    client = client_by_internal_channel(session, msg.channel)
    if client is None:
        return
    top_level = msg.thread_ts in (None, msg.ts)
    record_internal_message(
        session,
        client_id=client.id,
        channel=msg.channel,
        ts=msg.ts,
        thread_ts=msg.thread_ts,
        author=msg.user,
        text=msg.text,
        is_question=top_level and is_question(msg.text),
        occurred_at=slack_ts_to_datetime(msg.ts),
    )


def detect(deps: Deps, web: WebClient, msg: ChannelMessage, client: Client) -> None:
    result = message_classifier(deps).classify(msg.text)
    question = is_question(msg.text)
    if not result.flagged and not question:
        return
    permalink = permalink_of(web, msg.channel, msg.ts)
    now = deps.clock.now()
    thread_ts = msg.thread_ts if msg.thread_ts != msg.ts else None
    flag: Flag | None = None
    with deps.db.transaction() as session:
        if question:
            record_question(
                session,
                client_id=client.id,
                channel=msg.channel,
                ts=msg.ts,
                thread_ts=thread_ts,
                author=msg.user,
                text=msg.text,
                permalink=permalink,
                asked_at=slack_ts_to_datetime(msg.ts),
            )
        if result.flagged:
            flag = suggest_flag(
                session,
                client=client,
                channel=msg.channel,
                ts=msg.ts,
                thread_ts=thread_ts,
                kind=result.kind,
                author=msg.user,
                text=msg.text,
                permalink=permalink,
                source=result.source,
                now=now,
            )
        if flag is not None:
            if result.kind is FlagKind.EXPANSION_SIGNAL:
                record_pulse(
                    session,
                    client_id=client.id,
                    sentiment="neutral",  # a detected row carries only the hook
                    hook=f'"{quote(msg.text)}" (detected in the client channel)',
                    update=None,
                    note=None,
                    by="csobot",
                    now=now,
                    source="detected",
                )
            text, blocks = suggestion_blocks(flag, client, result.reason)
            enqueue(
                session,
                NudgeSpec(
                    cadence_id=SUGGESTION_CADENCE,
                    period=msg.ts,
                    target=client.cso_id,
                    person_id=client.cso_id,
                    client_id=client.id,
                    text=text,
                    blocks=blocks,
                    due_at=now,
                    expires_at=now + timedelta(days=2),
                    batch=False,
                    key=f"flag-suggestion:{flag.id}",
                ),
                now,
            )
    if flag is not None:
        deliver_due(deps.db, web, now, cadences={SUGGESTION_CADENCE})
        logger.info("suggested %s flag on %s (%s)", flag.kind, client.slug, result.source)


def register(app: App) -> None:
    registry.event(app, "reaction_added", on_reaction_added)
    registry.event(app, "reaction_removed", on_reaction_removed)
    for action_id in DECIDE_ACTIONS:
        registry.action(app, action_id, on_decide, Need.CLIENT_TEAM)
    registry.action(app, FLAG_IT, on_suggestion, Need.CLIENT_TEAM)
    registry.action(app, DISMISS, on_suggestion, Need.CLIENT_TEAM)
