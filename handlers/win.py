"""/win — this week's formal value presentation and its tangible win."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from domain.access import Need
from domain.calendar import IsoWeek, local_date
from domain.commands import (
    OUTCOME_EXAMPLE,
    WIN_USAGE,
    CommandError,
    WinRequest,
    looks_like_activity_list,
    parse_win,
    unknown_client_message,
)
from handlers import registry
from handlers.access import refusal
from handlers.common import SlashCommand, after_ack, deps_of
from prompts.render import render
from storage.activity import record_win
from storage.portfolio import (
    active_clients,
    client_by_slug,
    client_timezone,
    organization,
    people_by_id,
)
from usecases.reminders import after_recorded


def win_command(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    cmd = SlashCommand.model_validate(command)
    try:
        request = parse_win(cmd.text)
    except CommandError as err:
        ack(text=f"{err}\n{WIN_USAGE}")
        return
    ack()
    after_ack(context, lambda: _record(cmd, request, respond, context))


def _record(cmd: SlashCommand, request: WinRequest, respond: Respond, context: BoltContext) -> None:
    deps = deps_of(context)
    now = deps.clock.now()
    activity = looks_like_activity_list(request.text)
    with deps.db.transaction() as session:
        client = client_by_slug(session, request.slug)
        if client is None:
            known = [c.slug for c in active_clients(session)]
            respond(text=unknown_client_message(request.slug, known), response_type="ephemeral")
            return
        refused = refusal(session, cmd.user_id, Need.CLIENT_TEAM, client)
        if refused:
            respond(text=refused, response_type="ephemeral")
            return
        tz = client_timezone(client, people_by_id(session), organization(session))
        week = IsoWeek.of(local_date(now, tz))
        record_win(
            session,
            client_id=client.id,
            week=week,
            text=request.text,
            link=request.link,
            activity_list=activity,
            by=cmd.user_id,
            now=now,
            request_key=f"cmd:{cmd.trigger_id}" if cmd.trigger_id else None,
        )
        name = client.name
    respond(
        text=render(
            "messages/win_recorded.j2",
            name=name,
            week=str(week),
            request=request,
            activity=activity,
            example=OUTCOME_EXAMPLE,
        ),
        response_type="ephemeral",
    )
    after_recorded(deps, context.client, client.id, "win", cmd.user_id)


def register(app: App) -> None:
    registry.command(app, "/win", win_command, Need.CLIENT_TEAM)
