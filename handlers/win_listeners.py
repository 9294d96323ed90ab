"""/win — this week's formal value presentation and its tangible win."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from domain.access import Need
from domain.calendar import IsoWeek, local_date
from domain.commands import (
    WIN_USAGE,
    WinRequest,
    looks_like_activity_list,
    parse_win,
)
from handlers import registry
from handlers.authz import refusal
from handlers.common import BlockActions, ViewSubmission, after_ack, deps_of, on_ack, tell
from handlers.slash import Call, Command, Reply, register_command
from prompts.render import render
from prompts.win_views import EDIT_ACTION, EDIT_CALLBACK, edit_modal, win_reply
from storage.activity_store import edit_win, record_win, win_by_id, win_by_request
from storage.portfolio_store import client_by_id, timezone_of
from usecases.reminders import after_recorded


def record(call: Call[WinRequest]) -> Reply:
    request, client, tx = call.request, call.client, call.tx
    assert client is not None  # slug_of names it; the helper resolved it
    activity = looks_like_activity_list(request.text)
    tz = timezone_of(tx, client)
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
    win = win_by_request(tx, call.request_key)

    def close_reminders() -> None:
        # The weekly presentation's reminder closes once the win is committed.
        after_recorded(deps, deps.slack, client.id, "win", user)

    text, blocks = win_reply(
        name=client.name,
        week=str(week),
        text=request.text,
        link=request.link,
        activity=activity,
        win_id=win.id if win else None,
    )
    return Reply(text=text, blocks=blocks, after=close_reminders)


# -- Edit the win: from the outcome-language nudge ---------------------------------------------
def on_edit(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)

    def open_form() -> None:
        raw = act.action.value or ""
        with deps.db.session() as tx:
            win = win_by_id(tx, int(raw)) if raw.isdigit() else None
            owner = client_by_id(tx, win.client_id) if win else None
            refused = refusal(tx, act.user.id, Need.CLIENT_TEAM, owner) if owner else None
        if win is None or owner is None:
            tell(context, render("messages/win_gone.j2"))
            return
        if refused:
            tell(context, refused)
            return
        client.views_open(trigger_id=act.trigger_id, view=edit_modal(win.id, win.text, owner.name))

    on_ack(context, open_form)


def on_edit_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    sub = ViewSubmission.model_validate(body)
    text = (sub.value("text") or "").strip()
    if not text:
        ack(response_action="errors", errors={"text": "Write the week's win."})
        return
    ack()
    deps = deps_of(context)
    raw = str(json.loads(sub.private_metadata or "{}").get("win", ""))

    def work() -> None:
        activity = looks_like_activity_list(text)
        with deps.db.transaction() as tx:
            win = win_by_id(tx, int(raw)) if raw.isdigit() else None
            owner = client_by_id(tx, win.client_id) if win else None
            if win is None or owner is None:
                reply, blocks = render("messages/win_gone.j2"), None
            elif refused := refusal(tx, sub.user.id, Need.CLIENT_TEAM, owner):
                reply, blocks = refused, None
            else:
                edit_win(tx, win.id, text=text, activity_list=activity)
                reply, blocks = win_reply(
                    name=owner.name, week=win.iso_week, text=text, link=None,
                    activity=activity, win_id=win.id,
                )  # fmt: skip
        client.chat_postMessage(channel=sub.user.id, text=reply, blocks=blocks)

    after_ack(context, work)


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
    registry.action(app, EDIT_ACTION, on_edit, Need.CLIENT_TEAM)
    registry.view(app, EDIT_CALLBACK, on_edit_submitted, Need.CLIENT_TEAM)
