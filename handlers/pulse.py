"""/pulse — the stand-up's 60-second Partnership Pulse."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.access import Need
from domain.commands import CommandError, unknown_client_message
from domain.pulse import (
    PULSE_USAGE,
    SENTIMENT_EMOJI,
    PulseCard,
    PulseUpdate,
    parse_pulse_update,
)
from domain.records import Client
from handlers import registry
from handlers.authz import refusal
from handlers.common import SlashCommand, after_ack, deps_of
from prompts import blocks
from prompts.render import render
from storage.activity import record_pulse
from storage.portfolio import active_clients, client_by_slug, clients_of
from storage.pulse import load_cards
from usecases.privacy import ChannelGuard
from usecases.reminders import after_recorded


def render_cards(cards: list[PulseCard], *, title: str) -> tuple[list[blocks.Block], str]:
    out: list[blocks.Block] = [blocks.header(title)]
    for card in cards:
        emoji = SENTIMENT_EMOJI.get(card.sentiment, "") if card.sentiment else ""
        out.append(blocks.section(render("messages/pulse_card.j2", card=card, emoji=emoji)))
        out.append(blocks.context(render("messages/pulse_card_context.j2", card=card)))
    text = title + "\n" + render("messages/pulse_text.j2", cards=cards)
    return blocks.fit(out), blocks.fallback(text)


def pulse_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    cmd = SlashCommand.model_validate(command)
    text = cmd.text.strip()
    word = text.lower()
    if word in ("help", "?"):
        ack(text=PULSE_USAGE)
        return
    if word in ("", "share"):
        ack()
        after_ack(context, lambda: _show(cmd, respond, client, context, share=word == "share"))
        return
    try:
        update = parse_pulse_update(text)
    except CommandError as err:
        ack(text=f"{err}\n{PULSE_USAGE}")
        return
    ack()
    after_ack(context, lambda: _record(cmd, update, respond, context))


def _record(cmd: SlashCommand, update: PulseUpdate, respond: Respond, context: BoltContext) -> None:
    deps = deps_of(context)
    with deps.db.transaction() as session:
        target = client_by_slug(session, update.slug)
        if target is None:
            known = [c.slug for c in active_clients(session)]
            respond(text=unknown_client_message(update.slug, known), response_type="ephemeral")
            return
        refused = refusal(session, cmd.user_id, Need.CLIENT_TEAM, target)
        if refused:
            respond(text=refused, response_type="ephemeral")
            return
        record_pulse(
            session,
            client_id=target.id,
            sentiment=update.sentiment.value,
            hook=update.hook,
            update=update.update,
            note=update.note,
            by=cmd.user_id,
            now=deps.clock.now(),
            request_key=f"cmd:{cmd.trigger_id}" if cmd.trigger_id else None,
        )
        name = target.name
    respond(
        text=render("messages/pulse_recorded.j2", name=name, update=update),
        response_type="ephemeral",
    )
    after_recorded(deps, context.client, target.id, "pulse", cmd.user_id)


def _show(
    cmd: SlashCommand, respond: Respond, client: WebClient, context: BoltContext, *, share: bool
) -> None:
    deps = deps_of(context)
    with deps.db.session() as session:
        mine: list[Client] = clients_of(session, cmd.user_id)
        client_channels = {c.client_channel for c in active_clients(session) if c.client_channel}
        cards = load_cards(session, mine, deps.clock.now())
    if not cards:
        respond(text=render("messages/pulse_no_clients.j2"), response_type="ephemeral")
        return
    title = "Partnership Pulse" + (f" — {_display_name(cmd)}" if share else "")
    pulse_blocks, fallback = render_cards(cards, title=title)
    if not share:
        respond(text=fallback, blocks=pulse_blocks, response_type="ephemeral")
        return
    guard: ChannelGuard = deps.channel_guard(client)
    if guard.is_shared(cmd.channel_id, client_channels=client_channels):
        respond(text=render("messages/pulse_share_refused.j2"), response_type="ephemeral")
        return
    try:
        client.chat_postMessage(channel=cmd.channel_id, text=fallback, blocks=pulse_blocks)
    except SlackApiError as err:
        reason = err.response.get("error", "") if err.response is not None else ""
        respond(text=render("messages/post_failed.j2", reason=reason), response_type="ephemeral")


def _display_name(cmd: SlashCommand) -> str:
    return cmd.user_name or cmd.user_id


def register(app: App) -> None:
    registry.command(app, "/pulse", pulse_command, Need.MEMBER)
