"""/win — this week's formal value presentation and its tangible win."""

from __future__ import annotations

from slack_bolt import App

from domain.access import Need
from domain.calendar import IsoWeek, local_date
from domain.commands import (
    OUTCOME_EXAMPLE,
    WIN_USAGE,
    WinRequest,
    looks_like_activity_list,
    parse_win,
)
from handlers.slash import Call, Command, Reply, register_command
from prompts.render import render
from storage.activity_store import record_win
from storage.portfolio_store import client_timezone, organization, people_by_id
from usecases.reminders import after_recorded


def record(call: Call[WinRequest]) -> Reply:
    request, client, tx = call.request, call.client, call.tx
    assert client is not None  # slug_of names it; the helper resolved it
    activity = looks_like_activity_list(request.text)
    tz = client_timezone(client, people_by_id(tx), organization(tx))
    week = IsoWeek.of(local_date(call.now, tz))
    record_win(
        tx,
        client_id=client.id,
        week=week,
        text=request.text,
        link=request.link,
        activity_list=activity,
        by=call.user_id,
        now=call.now,
        request_key=call.request_key,
    )
    deps, user = call.deps, call.user_id

    def close_reminders() -> None:
        # The weekly presentation's reminder closes once the win is committed.
        after_recorded(deps, deps.slack, client.id, "win", user)

    return Reply(
        text=render(
            "messages/win_recorded.j2",
            name=client.name,
            week=str(week),
            request=request,
            activity=activity,
            example=OUTCOME_EXAMPLE,
        ),
        after=close_reminders,
    )


WIN = Command(
    name="/win",
    usage=WIN_USAGE,
    parse=parse_win,
    need=Need.CLIENT_TEAM,
    works=record,
    slug_of=lambda request: request.slug,
)


def register(app: App) -> None:
    register_command(app, WIN)
