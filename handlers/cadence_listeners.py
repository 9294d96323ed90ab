"""The reminder buttons (Log touchpoint, Skip today, Snooze 1h, Done) and `/cso` (prefs, ooo).

Each click runs in one transaction: whatever it writes is written whole, or not at all; the
messages it closes are re-rendered after the commit."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from domain.access import Need
from domain.commands import CommandError
from domain.prefs import (
    CSO_USAGE,
    CancelOoo,
    CsoRequest,
    SetPref,
    ShowOoo,
    ShowPrefs,
    from_today,
    parse_cso,
)
from handlers import registry
from handlers.authz import refusal
from handlers.common import (
    BlockActions,
    ViewSubmission,
    after_ack,
    deps_of,
    on_ack,
    tell,
)
from handlers.slash import Call, Command, Reply, register_command
from handlers.touchpoint_listeners import open_modal
from prompts import cadence_views as views
from storage.cadence_store import Message, NudgeRecord
from storage.db import Transaction
from storage.portfolio_store import client_by_id
from usecases import cadence_actions as cadence
from usecases.deps import Deps

logger = logging.getLogger(__name__)


def _key(tx: Transaction, act: BlockActions) -> str | None:
    """The nudge a click is about: a button's value is its key; an overflow menu's option
    (long lists, one line per client) is `verb:<nudge id>`."""
    option = act.action.selected_option
    if not option:
        return act.action.value
    _, _, raw = str(option.get("value", "")).partition(":")
    return cadence.nudge_key(tx, int(raw)) if raw.isdigit() else None


def _refused(tx: Transaction, user_id: str, nudge: NudgeRecord | None) -> str | None:
    """A nudge about a client is for that client's team (and leadership)."""
    if nudge is None or nudge.client_id is None:
        return None
    client = client_by_id(tx, nudge.client_id)
    return refusal(tx, user_id, Need.CLIENT_TEAM, client) if client else None


def _gone(respond: Respond, act: BlockActions) -> None:
    if act.response_url:
        respond(text=views.GONE, response_type="ephemeral", replace_original=False)


# -- Log touchpoint: the touchpoint form, prefilled with the client ------------------------------
def on_log(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)

    def open_form() -> None:
        with deps.db.session() as tx:
            nudge = cadence.open_nudge(tx, _key(tx, act))
            refused = _refused(tx, act.user.id, nudge)
        if nudge is None:
            _gone(respond, act)
            return
        if refused:
            tell(context, refused)
            return
        open_modal(
            deps,
            client,
            trigger_id=act.trigger_id,
            user_id=act.user.id,
            slug=nudge.data.get("slug"),
            metadata={"nudge": nudge.key},
        )

    on_ack(context, open_form)


# -- Skip today: ask the reason, record an exemption ---------------------------------------------
def on_skip(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)

    def open_form() -> None:
        with deps.db.session() as tx:
            nudge = cadence.open_nudge(tx, _key(tx, act))
            refused = _refused(tx, act.user.id, nudge)
        if nudge is None or nudge.client_id is None:
            _gone(respond, act)
            return
        if refused:
            tell(context, refused)
            return
        meta = json.dumps({"nudge": nudge.key})
        client.views_open(trigger_id=act.trigger_id, view=views.skip_view(nudge.data, meta))

    on_ack(context, open_form)


def on_skip_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    sub = ViewSubmission.model_validate(body)
    reason = (sub.value("reason") or "").strip()
    if not reason:
        ack(response_action="errors", errors={"reason": views.SKIP_NEEDS_REASON})
        return
    ack()
    deps = deps_of(context)
    after_ack(context, lambda: _skip(deps, client, sub, reason))


def _skip(deps: Deps, client: WebClient, sub: ViewSubmission, reason: str) -> None:
    try:
        meta = json.loads(sub.private_metadata or "{}")
        key = meta.get("nudge") if isinstance(meta, dict) else None
    except ValueError:
        key = None
    user = sub.user.id
    messages: set[tuple[str, str]] = set()
    with deps.db.transaction() as tx:
        nudge = cadence.find_nudge(tx, key if isinstance(key, str) else None)
        if nudge is None or nudge.client_id is None:
            reply: str | None = views.SKIP_GONE
        else:
            reply = _refused(tx, user, nudge)
            if reply is None:
                messages = cadence.skip_day(tx, nudge, by=user, reason=reason, now=deps.clock.now())
    if reply is not None:
        client.chat_postMessage(channel=user, text=reply)
        return
    cadence.refresh_messages(deps.db, client, messages)


# -- Snooze 1h, Done (cadences closed by a click) ----------------------------------------------
def _nudge_button(
    change: Callable[..., set[Message] | None],
) -> Callable[[Ack, dict[str, Any], WebClient, Respond, BoltContext], None]:
    """A button that changes one nudge: ack, then (after the ack) `_change`."""

    def listener(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        act = BlockActions.model_validate(body)
        deps = deps_of(context)
        after_ack(context, lambda: _change(deps, client, respond, act, change))

    return listener


def _change(
    deps: Deps,
    client: WebClient,
    respond: Respond,
    act: BlockActions,
    change: Callable[..., set[Message] | None],
) -> None:
    """One transaction: the nudge, who may click it, the change; then the messages."""
    with deps.db.transaction() as tx:
        nudge = cadence.find_nudge(tx, _key(tx, act))
        refused = _refused(tx, act.user.id, nudge)
        messages = None
        if nudge is not None and not refused:
            messages = change(tx, nudge, by=act.user.id, now=deps.clock.now())
    if refused:
        respond(text=refused, response_type="ephemeral", replace_original=False)
    elif messages is None:
        _gone(respond, act)
    else:
        cadence.refresh_messages(deps.db, client, messages)


on_snooze = _nudge_button(cadence.snooze)  # Snooze 1h: again in an hour, once
on_done = _nudge_button(cadence.mark_done)  # Done: closed for everyone it was sent to


# -- /cso prefs | ooo ----------------------------------------------------------------------------
def cso(call: Call[CsoRequest]) -> Reply:
    """`/cso prefs …` and `/cso ooo …`, in the person's own timezone."""
    tx, request, user = call.tx, call.request, call.user_id
    person, tz = cadence.person_zone(tx, user)
    if person is None:  # the authorization refuses people outside the portfolio before this
        return Reply()
    now, today = call.now, call.now.astimezone(tz).date()
    if isinstance(request, ShowPrefs | SetPref):
        change = request if isinstance(request, SetPref) else None
        prefs = cadence.prefs(tx, user, change, now)
        return Reply(text=views.describe_prefs(prefs, tz.key, saved=change is not None))
    if isinstance(request, CancelOoo):
        return Reply(text=cadence.cancel_ooo(tx, user, today, now))
    if isinstance(request, ShowOoo):
        return Reply(text=cadence.show_ooo(tx, user, today))
    try:
        ooo = from_today(request, today)
    except CommandError as err:
        return Reply(text=f"{err}\n{CSO_USAGE}")
    done = cadence.set_ooo(tx, person, ooo.start, ooo.end, now)
    deps, slack = call.deps, call.deps.slack
    if not done.heads_up or slack is None:
        return Reply(text=done.reply)
    return Reply(text=done.reply, after=lambda: cadence.deliver_heads_up(deps, slack, now))


CSO = Command(
    name="/cso",
    usage=CSO_USAGE,
    parse=parse_cso,
    need=Need.MEMBER,
    works=cso,
    help_words=(),  # `/cso help` says what it can change, with the usage
)


def on_menu(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """The overflow menu of a long overdue list: the same three actions as the buttons."""
    act = BlockActions.model_validate(body)
    verb = str((act.action.selected_option or {}).get("value", "")).partition(":")[0]
    handler = {"log": on_log, "skip": on_skip, "snooze": on_snooze}.get(verb)
    if handler is None:
        ack()
        return
    handler(ack, body, client, respond, context)


def register(app: App) -> None:
    registry.action(app, "cadence_menu", on_menu, Need.CLIENT_TEAM)
    registry.action(app, "cadence_log", on_log, Need.CLIENT_TEAM)
    registry.action(app, "cadence_skip", on_skip, Need.CLIENT_TEAM)
    registry.action(app, "cadence_snooze", on_snooze, Need.CLIENT_TEAM)
    registry.action(app, "cadence_done", on_done, Need.CLIENT_TEAM)
    registry.view(app, views.SKIP_CALLBACK, on_skip_submitted, Need.CLIENT_TEAM)
    register_command(app, CSO)
