"""The reminder buttons (Log touchpoint, Skip today, Snooze 1h, Done) and `/cso` (prefs, ooo)."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import select

from domain.access import Need
from domain.commands import CommandError
from domain.prefs import (
    CSO_USAGE,
    CancelOoo,
    SetOoo,
    SetPref,
    ShowOoo,
    ShowPrefs,
    parse_cso,
)
from domain.records import Person
from handlers import registry
from handlers.authz import refusal
from handlers.common import (
    BlockActions,
    SlashCommand,
    ViewSubmission,
    after_ack,
    deps_of,
    on_ack,
    tell,
)
from handlers.touchpoint_listeners import open_modal
from prompts import blocks as bk
from scheduling.cadences import (
    SNOOZE,
    Prefs,
    after_touchpoint,
    close_nudges,
    make_gate,
    mark_done,
    person_tz,
    refresh_message,
    render_batch,
)
from storage.activity import record_exemption
from storage.cadence import add_ooo, cancel_ooo, clients_by_service_lead, current_ooo, set_pref
from storage.models import Nudge, PersonPrefs
from storage.portfolio import client_by_id, organization, people_by_id, person_by_slack_id
from usecases.deps import Deps
from usecases.outbox import NudgeSpec, deliver_due, enqueue

logger = logging.getLogger(__name__)

SKIP_CALLBACK = "cadence_skip_modal"
HEADS_UP = "ooo-heads-up"


def _nudge(deps: Deps, key: str | None) -> Nudge | None:
    if not key:
        return None
    with deps.db.session() as session:
        return session.scalars(select(Nudge).where(Nudge.key == key)).first()


def _key(deps: Deps, act: BlockActions) -> str | None:
    """The nudge a click is about: a button's value is its key; an overflow menu's option
    (long lists, one line per client) is `verb:<nudge id>`."""
    option = act.action.selected_option
    if not option:
        return act.action.value
    _, _, raw = str(option.get("value", "")).partition(":")
    if not raw.isdigit():
        return None
    with deps.db.session() as session:
        row = session.get(Nudge, int(raw))
        return row.key if row else None


def _refused(deps: Deps, user_id: str, nudge: Nudge) -> str | None:
    """A nudge about a client is for that client's team (and leadership)."""
    if nudge.client_id is None:
        return None
    with deps.db.session() as session:
        client = client_by_id(session, nudge.client_id)
        return refusal(session, user_id, Need.CLIENT_TEAM, client) if client else None


def _gone(respond: Respond, act: BlockActions) -> None:
    if act.response_url:
        respond(
            text="That reminder is no longer open (it was closed or has expired).",
            response_type="ephemeral",
            replace_original=False,
        )


# -- Log touchpoint: the touchpoint form, prefilled with the client ------------------------------
def on_log(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)

    def open_form() -> None:
        nudge = _nudge(deps, _key(deps, act))
        if nudge is None or nudge.status not in ("sent", "pending"):
            _gone(respond, act)
            return
        refused = _refused(deps, act.user.id, nudge)
        if refused:
            tell(context, refused)
            return
        open_modal(
            deps,
            client,
            trigger_id=act.trigger_id,
            user_id=act.user.id,
            slug=(nudge.data or {}).get("slug"),
            metadata={"nudge": nudge.key},
        )

    on_ack(context, open_form)


# -- Skip today: ask the reason, record an exemption ---------------------------------------------
def skip_view(nudge: Nudge) -> dict[str, Any]:
    d = nudge.data or {}
    return {
        "type": "modal",
        "callback_id": SKIP_CALLBACK,
        "private_metadata": json.dumps({"nudge": nudge.key}),
        "title": {"type": "plain_text", "text": "Skip today"},
        "submit": {"type": "plain_text", "text": "Skip"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            bk.section(
                f"No touchpoint is expected from *{d.get('client', 'this client')}* on "
                f"{d.get('day', 'today')}. The reason is kept with the KPI."
            ),
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why not today?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": 200,
                    "placeholder": {"type": "plain_text", "text": "Client offsite"},
                },
            },
        ],
    }


def on_skip(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)

    def open_form() -> None:
        nudge = _nudge(deps, _key(deps, act))
        if nudge is None or nudge.status not in ("sent", "pending") or nudge.client_id is None:
            _gone(respond, act)
            return
        refused = _refused(deps, act.user.id, nudge)
        if refused:
            tell(context, refused)
            return
        client.views_open(trigger_id=act.trigger_id, view=skip_view(nudge))

    on_ack(context, open_form)


def on_skip_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    sub = ViewSubmission.model_validate(body)
    reason = (sub.value("reason") or "").strip()
    if not reason:
        ack(response_action="errors", errors={"reason": "Say why, in a few words."})
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
    nudge = _nudge(deps, key if isinstance(key, str) else None)
    if nudge is None or nudge.client_id is None:
        client.chat_postMessage(
            channel=sub.user.id, text="That reminder is gone; nothing was skipped."
        )
        return
    refused = _refused(deps, sub.user.id, nudge)
    if refused:
        client.chat_postMessage(channel=sub.user.id, text=refused)
        return
    now = deps.clock.now()
    day = date.fromisoformat(str((nudge.data or {}).get("day")))
    with deps.db.transaction() as session:
        record_exemption(
            session, client_id=nudge.client_id, day=day, reason=reason, by=sub.user.id, now=now
        )
    after_touchpoint(
        deps,
        client,
        nudge.client_id,
        day,
        outcome=f":zzz: Skipped {day.isoformat()} by <@{sub.user.id}>: {reason}",
        by=sub.user.id,
    )


# -- Snooze 1h -----------------------------------------------------------------------------------
def on_snooze(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)
    after_ack(context, lambda: _snooze(deps, client, respond, act))


def _snooze(deps: Deps, client: WebClient, respond: Respond, act: BlockActions) -> None:
    now = deps.clock.now()
    found = _nudge(deps, _key(deps, act))
    refused = _refused(deps, act.user.id, found) if found is not None else None
    if refused:
        respond(text=refused, response_type="ephemeral", replace_original=False)
        return
    with deps.db.transaction() as session:
        nudge = session.scalars(select(Nudge).where(Nudge.key == _key(deps, act))).first()
        if nudge is None or nudge.status != "sent":
            nudge = None
        else:
            person = person_by_slack_id(session, nudge.target)
            tz = person_tz(person, organization(session))
            due = now + SNOOZE
            data = dict(nudge.data or {})
            root = str(data.get("snoozed_from") or nudge.key)
            count = int(data.get("snoozes", 0)) + 1
            enqueue(
                session,
                NudgeSpec(
                    cadence_id=nudge.cadence_id,
                    period=nudge.period,
                    target=nudge.target,
                    person_id=nudge.person_id,
                    client_id=nudge.client_id,
                    text=nudge.text,
                    due_at=due,
                    expires_at=due + timedelta(hours=1),
                    data={**data, "snoozed_from": root, "snoozes": count},
                    key=f"{root}:snooze{count}",
                ),
                now,
            )
            outcome = f":zzz: Snoozed until {due.astimezone(tz):%H:%M}."
            messages = close_nudges(session, [nudge], by=act.user.id, outcome=outcome, now=now)
    if nudge is None:
        _gone(respond, act)
        return
    for channel, ts in sorted(messages):
        refresh_message(deps, client, channel, ts)


# -- Done (cadences closed by a click) -----------------------------------------------------------
def on_done(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)
    after_ack(context, lambda: _done(deps, client, respond, act))


def _done(deps: Deps, client: WebClient, respond: Respond, act: BlockActions) -> None:
    now = deps.clock.now()
    found = _nudge(deps, _key(deps, act))
    refused = _refused(deps, act.user.id, found) if found is not None else None
    if refused:
        respond(text=refused, response_type="ephemeral", replace_original=False)
        return
    with deps.db.transaction() as session:
        nudge = session.scalars(select(Nudge).where(Nudge.key == _key(deps, act))).first()
        if nudge is None:
            messages: set[tuple[str, str]] = set()
        else:
            clicker = person_by_slack_id(session, act.user.id)
            tz = person_tz(clicker, organization(session))
            _, messages = mark_done(session, nudge, by=act.user.id, now=now, tz=tz)
    if nudge is None:
        _gone(respond, act)
        return
    for channel, ts in sorted(messages):
        refresh_message(deps, client, channel, ts)


# -- /cso prefs | ooo ----------------------------------------------------------------------------
def _fmt(t: Any) -> str:
    return t.strftime("%H:%M")


def describe_prefs(prefs: Prefs, tz: str) -> str:
    standup = _fmt(prefs.standup) if prefs.standup else "09:30 (default)"
    cutoff = _fmt(prefs.cutoff) if prefs.cutoff else "15:00 (default)"
    return (
        f"*Your nudges* (times in {tz}):\n"
        f"• Stand-up pulse reminder: {standup}\n"
        f"• Touchpoint cutoff (the overdue-touchpoint DM): {cutoff}\n"
        f"• Quiet hours: {_fmt(prefs.quiet_start)}-{_fmt(prefs.quiet_end)}, weekends and "
        f"holidays — nothing is sent then\n"
        f"• At most {prefs.daily_cap} DMs a day (nudges due together come as one message)\n"
        "Change one: `/cso prefs cutoff 16:00`, `/cso prefs standup 09:30`, "
        "`/cso prefs quiet 18:00-09:00`, `/cso prefs cap 4` (`default` resets it)."
    )


def cso_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    cmd = SlashCommand.model_validate(command)
    deps = deps_of(context)
    now = deps.clock.now()
    with deps.db.session() as session:
        person = person_by_slack_id(session, cmd.user_id)
        tz = person_tz(person, organization(session))
    today = now.astimezone(tz).date()
    try:
        request = parse_cso(cmd.text, today)
    except CommandError as err:
        ack(text=f"{err}\n{CSO_USAGE}")
        return
    ack()
    after_ack(context, lambda: _cso(deps, client, respond, cmd, request, person, tz))


def _cso(
    deps: Deps,
    client: WebClient,
    respond: Respond,
    cmd: SlashCommand,
    request: Any,
    person: Person | None,
    tz: Any,
) -> None:
    if person is None:  # the gate refuses people outside the portfolio before this
        return
    now = deps.clock.now()
    today = now.astimezone(tz).date()
    if isinstance(request, ShowPrefs | SetPref):
        with deps.db.transaction() as session:
            if isinstance(request, SetPref):
                row: PersonPrefs | None = set_pref(session, cmd.user_id, request, now)
            else:
                row = session.get(PersonPrefs, cmd.user_id)
            prefs = Prefs.of(row)
        saved = ":white_check_mark: Saved. " if isinstance(request, SetPref) else ""
        respond(text=saved + describe_prefs(prefs, tz.key), response_type="ephemeral")
        return
    if isinstance(request, SetOoo):
        text = _set_ooo(deps, client, person, request, now)
    elif isinstance(request, CancelOoo):
        with deps.db.transaction() as session:
            n = cancel_ooo(session, cmd.user_id, today, now)
        text = (
            ":wave: Welcome back — out of office cancelled; nudges resume."
            if n
            else "You had no out-of-office set."
        )
    else:
        assert isinstance(request, ShowOoo)
        with deps.db.session() as session:
            ranges = current_ooo(session, cmd.user_id, today)
        text = (
            "Out of office: "
            + ", ".join(f"{r.start_day} → {r.end_day}" for r in ranges)
            + ". `/cso ooo cancel` cancels it."
            if ranges
            else "No out-of-office set. `/cso ooo 2026-12-24 2026-12-31` sets one."
        )
    respond(text=text, response_type="ephemeral")


def _set_ooo(deps: Deps, client: WebClient, person: Person, req: SetOoo, now: datetime) -> str:
    period = f"{req.start}..{req.end}"
    with deps.db.transaction() as session:
        add_ooo(session, person.slack_id, req.start, req.end, by=person.slack_id, now=now)
        people = people_by_id(session)
        by_sl = clients_by_service_lead(session, person.slack_id)
        for sl, clients in by_sl.items():
            names = ", ".join(f"*{c.name}*" for c in clients)
            text = (
                f":palm_tree: Heads-up: {person.name} (CSO) is out of office {req.start} → "
                f"{req.end}. You're Plan B for {names}: the daily touchpoint and any client "
                "question in those channels."
            )
            enqueue(
                session,
                NudgeSpec(
                    cadence_id=HEADS_UP,
                    period=period,
                    target=sl,
                    person_id=sl,
                    text=text,
                    due_at=now,
                    expires_at=now + timedelta(days=1),
                    batch=False,
                    key=f"{HEADS_UP}:{sl}:{person.slack_id}:{period}",
                    blocks=[
                        bk.section(text),
                        bk.context(
                            "Why: always have a Plan B — no single point of failure.",
                            "You get this because you're the Service Lead on these clients.",
                        ),
                    ],
                ),
                now,
            )
    if by_sl:
        deliver_due(
            deps.db,
            client,
            now,
            gate=make_gate(deps, client),
            batcher=render_batch,
            cadences={HEADS_UP},
        )
    told = ", ".join(people[sl].name if sl in people else sl for sl in by_sl)
    return (
        f":palm_tree: You're out of office {req.start} → {req.end}: no nudges and no touchpoint "
        "expectation for your clients on those days."
        + (f" Heads-up to {told} (your clients' Service Lead)." if told else "")
        + " `/cso ooo cancel` if plans change."
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
    registry.view(app, SKIP_CALLBACK, on_skip_submitted, Need.CLIENT_TEAM)
    registry.command(app, "/cso", cso_command, Need.MEMBER)
