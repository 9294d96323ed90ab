"""/digest [2026-W47] — the leadership digest on demand (head of delivery and founders only)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond

from bot.digest_render import ephemeral
from domain.access import Need
from domain.calendar import IsoWeek
from domain.digest import DigestSettingsError, week_just_ended
from domain.digest import parse_settings as parse_digest_settings
from handlers import registry
from handlers.authz import refusal
from handlers.common import SlashCommand, after_ack, deps_of
from prompts.render import render
from storage.digest import load_digest
from storage.portfolio import organization


def digest_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    cmd = SlashCommand.model_validate(command)
    deps = deps_of(context)
    after_ack(context, lambda: _digest(deps, respond, cmd))


def _digest(deps: Any, respond: Respond, cmd: SlashCommand) -> None:
    now = deps.clock.now()
    with deps.db.session() as session:
        if refusal(session, cmd.user_id, Need.LEADERSHIP):
            respond(text=render("digest/refused.j2"), response_type="ephemeral")
            return
        org = organization(session)
        try:
            settings = parse_digest_settings((org.settings or {}).get("digest"))
        except DigestSettingsError as err:
            respond(
                text=render("digest/settings_error.j2", error=str(err)), response_type="ephemeral"
            )
            settings = parse_digest_settings(None)
        text = cmd.text.strip()
        try:
            week = IsoWeek.parse(text) if text else week_just_ended(now, ZoneInfo(org.timezone))
        except ValueError as err:
            respond(text=render("digest/bad_week.j2", error=str(err)), response_type="ephemeral")
            return
        digest = load_digest(session, week, now, settings)
    message = ephemeral(digest)
    respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


def register(app: App) -> None:
    registry.command(app, "/digest", digest_command, Need.LEADERSHIP)
