"""/pulse — the stand-up's 60-second Partnership Pulse."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.access import Need
from domain.commands import CommandError, unknown_client_message
from domain.pulse import PULSE_USAGE, PulseShow, PulseUpdate, parse_pulse
from handlers import registry
from handlers.access import refusal
from handlers.common import SlashCommand, after_ack, deps_of
from prompts.pulse_views import (
    no_clients,
    post_failed,
    pulse_recorded,
    pulse_title,
    render_cards,
    share_refused,
)
from scheduling.cadences import after_recorded
from storage.portfolio import active_clients, client_by_slug
from usecases import pulse
from usecases.privacy import ChannelGuard

HELP_WORDS = ("help", "?")


def pulse_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    cmd = SlashCommand.model_validate(command)
    if cmd.text.strip().lower() in HELP_WORDS:
        ack(text=PULSE_USAGE)
        return
    try:
        request = parse_pulse(cmd.text)
    except CommandError as err:
        ack(text=f"{err}\n{PULSE_USAGE}")
        return
    ack()
    if isinstance(request, PulseShow):
        after_ack(context, lambda: _show(cmd, request, respond, client, context))
    else:
        after_ack(context, lambda: _record(cmd, request, respond, context))


def _record(cmd: SlashCommand, update: PulseUpdate, respond: Respond, context: BoltContext) -> None:
    deps = deps_of(context)
    with deps.db.transaction() as tx:
        target = client_by_slug(tx, update.slug)
        if target is None:
            known = [c.slug for c in active_clients(tx)]
            respond(text=unknown_client_message(update.slug, known), response_type="ephemeral")
            return
        refused = refusal(tx, cmd.user_id, Need.CLIENT_TEAM, target)
        if refused:
            respond(text=refused, response_type="ephemeral")
            return
        pulse.record_update(
            tx,
            client=target,
            update=update,
            by=cmd.user_id,
            now=deps.clock.now(),
            request_key=f"cmd:{cmd.trigger_id}" if cmd.trigger_id else None,
        )
    respond(text=pulse_recorded(target.name, update), response_type="ephemeral")
    after_recorded(deps, context.client, target.id, "pulse", cmd.user_id)


def _show(
    cmd: SlashCommand,
    request: PulseShow,
    respond: Respond,
    client: WebClient,
    context: BoltContext,
) -> None:
    deps = deps_of(context)
    with deps.db.transaction() as tx:
        found = pulse.cards_of(tx, cmd.user_id, deps.clock.now())
    if not found.cards:
        respond(text=no_clients(), response_type="ephemeral")
        return
    title = pulse_title(cmd.user_name or cmd.user_id if request.share else None)
    pulse_blocks, fallback = render_cards(found.cards, title=title)
    if not request.share:
        respond(text=fallback, blocks=pulse_blocks, response_type="ephemeral")
        return
    guard: ChannelGuard = deps.extras.setdefault("channel_guard", ChannelGuard(client))
    if guard.is_shared(cmd.channel_id, client_channels=set(found.client_channels)):
        respond(text=share_refused(), response_type="ephemeral")
        return
    try:
        client.chat_postMessage(channel=cmd.channel_id, text=fallback, blocks=pulse_blocks)
    except SlackApiError as err:
        reason = err.response.get("error", "") if err.response is not None else ""
        respond(text=post_failed(reason), response_type="ephemeral")


def register(app: App) -> None:
    registry.command(app, "/pulse", pulse_command, Need.MEMBER)
