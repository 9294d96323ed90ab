"""/digest [2026-W47] — the leadership digest on demand (head of delivery and founders only)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond

from domain.access import Need
from domain.calendar import IsoWeek
from domain.digest import week_just_ended
from handlers import registry
from handlers.access import refusal
from handlers.common import SlashCommand, after_ack, deps_of
from prompts.digest_views import SlackMessage, ephemeral
from prompts.render import render
from storage.org_settings_store import org_settings
from storage.portfolio import organization
from usecases.deps import Deps
from usecases.digest import load_digest


def digest_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    cmd = SlashCommand.model_validate(command)
    deps = deps_of(context)
    after_ack(context, lambda: _digest(deps, respond, cmd))


def _digest(deps: Deps, respond: Respond, cmd: SlashCommand) -> None:
    now = deps.clock.now()
    replies: list[str] = []
    message: SlackMessage | None = None
    with deps.db.transaction() as tx:
        if refusal(tx, cmd.user_id, Need.LEADERSHIP):
            replies.append(render("digest/refused.j2"))
        else:
            settings = org_settings(tx)
            problem = settings.problem("digest")
            if problem:  # said, then the digest with the default thresholds
                replies.append(render("digest/settings_error.j2", error=problem))
            text = cmd.text.strip()
            try:
                week = (
                    IsoWeek.parse(text)
                    if text
                    else week_just_ended(now, ZoneInfo(organization(tx).timezone))
                )
            except ValueError as err:
                replies.append(render("digest/bad_week.j2", error=str(err)))
            else:
                message = ephemeral(load_digest(tx, week, now, settings.digest))
    for reply in replies:
        respond(text=reply, response_type="ephemeral")
    if message is not None:
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


def register(app: App) -> None:
    registry.command(app, "/digest", digest_command, Need.LEADERSHIP)
