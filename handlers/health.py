"""/health, /nps, /playbook, /renewal, /qbr, the signals modal, the buttons, and the App Home
Internal Health Board."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.access import Need
from domain.commands import CommandError, unknown_client_message
from domain.health import SIGNAL_MAX, SIGNAL_MIN, Band, HealthModelError
from domain.health_commands import (
    HEALTH_USAGE,
    NPS_USAGE,
    PLAYBOOK_USAGE,
    QBR_USAGE,
    RENEWAL_USAGE,
    parse_health,
    parse_nps,
    parse_playbook,
    parse_qbr,
    parse_renewal,
)
from domain.playbooks import get_playbook, playbook_ids
from domain.portfolio import LEADERSHIP_ROLES, Role
from domain.renewals import Outcome
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
from handlers.health_views import (
    EDIT_ACTION,
    MODAL_CALLBACK,
    START_ACTION,
    STEP_ACTION,
    VIEW_ACTION,
    breakdown_blocks,
    breakdown_modal,
    checklist_blocks,
    home_view,
    signals_modal,
)
from prompts import blocks as bk
from scheduling.health_nudges import close_renewal_nudges, close_step_nudge
from storage.board import client_days, load_board, load_breakdown, org_model
from storage.health import (
    active_runs,
    derive_signals,
    latest_snapshot,
    mark_qbr,
    outcomes_by_client,
    record_nps,
    record_renewal,
    refresh_derived,
    renewal_target,
    save_manual,
    start_playbook,
    tick_step,
)
from storage.models import PlaybookRun, PlaybookRunStep
from storage.portfolio import active_clients, client_by_id, client_by_slug, clients_of, people_by_id
from storage.qbr import render_qbr
from usecases.deps import Deps

logger = logging.getLogger(__name__)


def _unknown(deps: Deps, slug: str) -> str:
    with deps.db.session() as session:
        return unknown_client_message(slug, [c.slug for c in active_clients(session)])


def _ephemeral(respond: Respond, text: str, blocks: list[bk.Block] | None = None) -> None:
    if blocks is None:
        respond(text=text, response_type="ephemeral")
    else:
        respond(text=text, blocks=blocks, response_type="ephemeral")


def _refused(deps: Deps, user_id: str, slug: str) -> str | None:
    """None when `user_id` may act on the client `slug` (or it doesn't exist: the listener
    then says so); else the refusal."""
    with deps.db.session() as session:
        target = client_by_slug(session, slug)
        return refusal(session, user_id, Need.CLIENT_TEAM, target) if target else None


def _checked_ephemeral(deps: Deps, respond: Respond, user_id: str, slug: str, work: Any) -> None:
    refused = _refused(deps, user_id, slug)
    if refused:
        _ephemeral(respond, refused)
        return
    work()


# -- /health --------------------------------------------------------------------------------------


def breakdown_for(deps: Deps, slug: str) -> tuple[list[bk.Block], str] | None:
    with deps.db.session() as session:
        client = client_by_slug(session, slug)
        if client is None:
            return None
        b = load_breakdown(session, client)
        return breakdown_blocks(
            name=client.name,
            slug=client.slug,
            model=b.model,
            result=b.result,
            state=b.state,
            day=b.day.isoformat() if b.day else None,
            changed_by=b.changed_by,
            suggestion=b.suggestion,
        )


def open_signals_modal(
    deps: Deps, client: WebClient, slug: str, trigger_id: str, *, push: bool = False
) -> str | None:
    """Open the modal; a message for the user when it can't be."""
    with deps.db.session() as session:
        target = client_by_slug(session, slug)
        if target is None:
            return unknown_client_message(slug, [c.slug for c in active_clients(session)])
        b = load_breakdown(session, target)
        view = signals_modal(name=target.name, slug=target.slug, model=b.model, state=b.state)
    if push:
        client.views_push(trigger_id=trigger_id, view=view)
    else:
        client.views_open(trigger_id=trigger_id, view=view)
    return None


def health_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    cmd = SlashCommand.model_validate(command)
    try:
        request = parse_health(cmd.text)
    except CommandError as err:
        ack(text=f"{err}\n{HEALTH_USAGE}")
        return
    ack()
    deps = deps_of(context)
    if request.edit:

        def open_form() -> None:
            refused = _refused(deps, cmd.user_id, request.slug)
            if refused:
                _ephemeral(respond, refused)
                return
            try:
                problem = open_signals_modal(deps, client, request.slug, cmd.trigger_id)
            except HealthModelError as err:
                problem = f"The health model in the portfolio settings is not valid: {err}"
            if problem:
                _ephemeral(respond, problem)

        on_ack(context, open_form)
        return
    after_ack(
        context,
        lambda: _checked_ephemeral(
            deps, respond, cmd.user_id, request.slug, lambda: _show(deps, respond, request.slug)
        ),
    )


def _show(deps: Deps, respond: Respond, slug: str) -> None:
    try:
        shown = breakdown_for(deps, slug)
    except HealthModelError as err:
        _ephemeral(respond, f"The health model in the portfolio settings is not valid: {err}")
        return
    if shown is None:
        _ephemeral(respond, _unknown(deps, slug))
        return
    out, text = shown
    _ephemeral(respond, text, out)


STALE_FORM = "This form is out of date: close it and run `/health <client> edit` again."


def stale_view(text: str = STALE_FORM) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Health signals"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [bk.section(text)],
    }


def signals_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    sub = ViewSubmission.model_validate(body)
    deps = deps_of(context)
    try:  # a stale or forged view: its own answer, never a 500
        meta = json.loads(sub.private_metadata or "{}")
        slug = str(meta.get("slug", "")) if isinstance(meta, dict) else ""
    except ValueError:
        slug = ""
    if not slug:
        ack(response_action="update", view=stale_view())
        return
    with deps.db.session() as session:
        model = org_model(session)
    manual: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    for name in model.signal_names:
        if name not in sub.values:
            continue
        raw = (sub.value(name) or "").strip()
        if not raw:
            manual[name] = None
            continue
        try:
            value = float(raw)
        except ValueError:
            errors[name] = "Type a number from 0 to 10."
            continue
        if not SIGNAL_MIN <= value <= SIGNAL_MAX:
            errors[name] = f"{value:g} is outside 0–10."
            continue
        manual[name] = value
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if not any(v is not None for v in manual.values()):
        present = [n for n in model.signal_names if n in sub.values]
        if not present:
            ack(response_action="update", view=stale_view())
            return
        ack(response_action="errors", errors={present[0]: "Give at least one signal a value."})
        return
    ack()
    view_id = str(sub.view.get("id") or uuid.uuid4())
    after_ack(context, lambda: _save_signals(deps, client, sub.user.id, slug, manual, view_id))


def _save_signals(
    deps: Deps,
    client: WebClient,
    user_id: str,
    slug: str,
    manual: dict[str, float | None],
    view_id: str,
) -> None:
    now = deps.clock.now()
    with deps.db.transaction() as session:
        target = client_by_slug(session, slug)
        if target is None:
            client.chat_postMessage(channel=user_id, text=f'Unknown client "{slug}".')
            return
        refused = refusal(session, user_id, Need.CLIENT_TEAM, target)
        if refused:
            client.chat_postMessage(channel=user_id, text=refused)
            return
        model = org_model(session)
        day = client_days(session, [target], now)[target.id]
        written = save_manual(
            session,
            target,
            model,
            manual,
            by=user_id,
            now=now,
            day=day,
            dedupe_key=f"modal:{view_id}",
        )
        name = target.name
    if written.result is None:
        return
    changed = ", ".join(f"{c.signal} {_num(c.before)} → {_num(c.after)}" for c in written.changes)
    text = (
        f"Health for *{name}* saved: {written.result.score:g} "
        f"{written.result.band.value.capitalize()}."
        + (f" Changed: {changed}." if changed else " No signal changed.")
    )
    client.chat_postMessage(channel=user_id, text=text)
    publish_home(deps, client, user_id)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


# -- /nps -----------------------------------------------------------------------------------------


def nps_command(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    cmd = SlashCommand.model_validate(command)
    try:
        request = parse_nps(cmd.text)
    except CommandError as err:
        ack(text=f"{err}\n{NPS_USAGE}")
        return
    ack()
    deps = deps_of(context)
    after_ack(context, lambda: _nps(deps, respond, cmd, request))


def _nps(deps: Deps, respond: Respond, cmd: SlashCommand, request: Any) -> None:
    now = deps.clock.now()
    with deps.db.transaction() as session:
        target = client_by_slug(session, request.slug)
        if target is None:
            known = [c.slug for c in active_clients(session)]
            _ephemeral(respond, unknown_client_message(request.slug, known))
            return
        refused = refusal(session, cmd.user_id, Need.CLIENT_TEAM, target)
        if refused:
            _ephemeral(respond, refused)
            return
        new = record_nps(
            session,
            client_id=target.id,
            score=request.score,
            comment=request.comment,
            by=cmd.user_id,
            now=now,
            dedupe_key=f"nps:{cmd.trigger_id or uuid.uuid4()}",
        )
        session.flush()
        written = refresh_derived(
            session, [target], org_model(session), now, client_days(session, [target], now)
        )
        signal = derive_signals(session, [target], now)[target.id]["nps"]
        name = target.name
    kind = "promoter" if request.score >= 9 else "passive" if request.score >= 7 else "detractor"
    text = (
        f"NPS {request.score} ({kind}) recorded for *{name}*"
        + (f": “{request.comment}”" if request.comment else "")
        + (f". The NPS signal is now {signal:g}/10." if signal is not None else ".")
    )
    if written and written[0].result is not None:
        text += f" Health: {written[0].result.score:g} {written[0].result.band.value.capitalize()}."
    if not new:
        text = "That answer was already recorded."
    _ephemeral(respond, text)


# -- /playbook and the checklist ------------------------------------------------------------------


def _start(
    deps: Deps, slug: str, playbook_id: str, user_id: str, trigger: str | None
) -> tuple[str, list[bk.Block] | None]:
    now = deps.clock.now()
    with deps.db.transaction() as session:
        target = client_by_slug(session, slug)
        if target is None:
            return unknown_client_message(slug, [c.slug for c in active_clients(session)]), None
        start = client_days(session, [target], now)[target.id]
        run, created = start_playbook(
            session, target, playbook_id, by=user_id, now=now, start=start, trigger=trigger
        )
        out, text = checklist_blocks(run, target.name)
    if not created:
        text = "Already running — " + text
        out = [bk.context("This playbook is already running for this client."), *out]
    return text, out


def playbook_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    cmd = SlashCommand.model_validate(command)
    try:
        request = parse_playbook(cmd.text)
    except CommandError as err:
        ack(text=f"{err}\n{PLAYBOOK_USAGE.format(ids=', '.join(playbook_ids()))}")
        return
    ack()
    deps = deps_of(context)
    after_ack(
        context,
        lambda: _checked_ephemeral(
            deps,
            respond,
            cmd.user_id,
            request.slug,
            lambda: _playbook(deps, respond, client, cmd, request),
        ),
    )


def _playbook(
    deps: Deps, respond: Respond, client: WebClient, cmd: SlashCommand, request: Any
) -> None:
    if request.playbook_id is None:
        with deps.db.session() as session:
            target = client_by_slug(session, request.slug)
            if target is None:
                known = [c.slug for c in active_clients(session)]
                _ephemeral(respond, unknown_client_message(request.slug, known))
                return
            runs = active_runs(session, [target.id]).get(target.id, [])
            rendered = [checklist_blocks(r, target.name) for r in runs]
            name = target.name
        if not rendered:
            usage = PLAYBOOK_USAGE.format(ids=", ".join(playbook_ids()))
            _ephemeral(respond, f"No playbook is running for {name}. {usage}")
            return
        listed = [b for blocks_, _ in rendered for b in blocks_]
        _ephemeral(respond, "\n\n".join(t for _, t in rendered), bk.fit(listed))
        return
    text, out = _start(deps, request.slug, request.playbook_id, cmd.user_id, "command")
    _ephemeral(respond, text, out)
    publish_home(deps, client, cmd.user_id)


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


def _in_modal(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "modal"


def start_clicked(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    actions = BlockActions.model_validate(body)
    deps = deps_of(context)
    slug = (actions.action.value or "").partition(":")[0]
    after_ack(
        context,
        lambda: _checked_tell(
            deps,
            context,
            actions.user.id,
            slug,
            lambda: _start_clicked(deps, body, respond, client),
        ),
    )


def _checked_tell(deps: Deps, context: BoltContext, user_id: str, slug: str, work: Any) -> None:
    refused = _refused(deps, user_id, slug)
    if refused:
        tell(context, refused)
        return
    work()


def _start_clicked(deps: Deps, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    actions = BlockActions.model_validate(body)
    value = actions.action.value or ""
    slug, _, playbook_id = value.partition(":")
    if not playbook_id:
        with deps.db.session() as session:
            target = client_by_slug(session, slug)
            suggestion = load_breakdown(session, target).suggestion if target else None
        playbook_id = suggestion or "low-engagement"
    get_playbook(playbook_id)
    text, out = _start(deps, slug, playbook_id, actions.user.id, "button")
    if actions.response_url and not _from_home(body) and not _in_modal(body):
        respond(text=text, blocks=out, response_type="ephemeral", replace_original=False)
    else:
        client.chat_postMessage(channel=actions.user.id, text=text, blocks=out)
    publish_home(deps, client, actions.user.id)


def step_clicked(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    after_ack(context, lambda: _step_clicked(deps, body, respond, client, context))


def _step_clicked(
    deps: Deps, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    actions = BlockActions.model_validate(body)
    raw, _, origin = (actions.action.value or "").partition(":")
    try:
        step_id = int(raw)
    except ValueError:
        return
    now = deps.clock.now()
    with deps.db.transaction() as session:
        found = session.get(PlaybookRunStep, step_id)
        owner = session.get(PlaybookRun, found.run_id) if found else None
        owner_client = client_by_id(session, owner.client_id) if owner else None
        if owner_client is not None:
            refused = refusal(session, actions.user.id, Need.CLIENT_TEAM, owner_client)
            if refused:
                tell(context, refused)
                return
        step = tick_step(session, step_id, by=actions.user.id, now=now)
        run = session.get(PlaybookRun, step.run_id) if step else None
        target = client_by_id(session, run.client_id) if run else None
        if step is None or run is None or target is None:
            return
        close_step_nudge(session, target.cso_id, step.id, by=actions.user.id, now=now)
        session.refresh(run)
        out, text = checklist_blocks(run, target.name)
        step_text = step.text
    container = actions.container or {}
    if origin == "nudge":
        client.chat_postMessage(channel=actions.user.id, text=f"Done: {step_text}", blocks=out)
    elif container.get("is_ephemeral") and actions.response_url:
        respond(text=text, blocks=out, replace_original=True)
    elif actions.channel_id and actions.message_ts and not _from_home(body):
        client.chat_update(channel=actions.channel_id, ts=actions.message_ts, text=text, blocks=out)
    publish_home(deps, client, actions.user.id)


# -- buttons that open things ---------------------------------------------------------------------


def edit_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    actions = BlockActions.model_validate(body)
    deps = deps_of(context)
    slug = actions.action.value or ""

    def open_form() -> None:
        refused = _refused(deps, actions.user.id, slug)
        problem = refused or open_signals_modal(
            deps, client, slug, actions.trigger_id, push=_in_modal(body)
        )
        if problem:
            client.chat_postMessage(channel=actions.user.id, text=problem)

    on_ack(context, open_form)


def view_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    actions = BlockActions.model_validate(body)
    deps = deps_of(context)
    slug = actions.action.value or ""

    def open_breakdown() -> None:
        refused = _refused(deps, actions.user.id, slug)
        if refused:
            client.chat_postMessage(channel=actions.user.id, text=refused)
            return
        shown = breakdown_for(deps, slug)
        if shown is not None:
            client.views_open(trigger_id=actions.trigger_id, view=breakdown_modal(shown[0]))

    on_ack(context, open_breakdown)


# -- /renewal -------------------------------------------------------------------------------------


def renewal_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    cmd = SlashCommand.model_validate(command)
    try:
        request = parse_renewal(cmd.text)
    except CommandError as err:
        ack(text=f"{err}\n{RENEWAL_USAGE}")
        return
    ack()
    deps = deps_of(context)
    after_ack(context, lambda: _renewal(deps, respond, cmd, request))


def _renewal(deps: Deps, respond: Respond, cmd: SlashCommand, request: Any) -> None:
    now = deps.clock.now()
    with deps.db.transaction() as session:
        target = client_by_slug(session, request.slug)
        if target is None:
            known = [c.slug for c in active_clients(session)]
            _ephemeral(respond, unknown_client_message(request.slug, known))
            return
        refused = refusal(session, cmd.user_id, Need.CLIENT_TEAM, target)
        if refused:
            _ephemeral(respond, refused)
            return
        outcomes = outcomes_by_client(session, [target.id]).get(target.id, {})
        end = renewal_target(target, outcomes, client_days(session, [target], now)[target.id])
        if end is None:
            _ephemeral(
                respond,
                f"{target.name} has no contract end in the portfolio: add `contract_end` to "
                "its entry and import it again.",
            )
            return
        if request.new_end is not None and request.new_end <= end:
            _ephemeral(
                respond,
                f"The new end date must be after the current one ({end}). {RENEWAL_USAGE}",
            )
            return
        snap = latest_snapshot(session, target.id)
        row, created = record_renewal(
            session,
            target,
            contract_end=end,
            outcome=request.outcome,
            new_end=request.new_end,
            arr_after=request.arr,
            band=Band(snap.band) if snap else None,
            by=cmd.user_id,
            now=now,
        )
        close_renewal_nudges(session, target, end, by=cmd.user_id, now=now)
        name = target.name
    verb = {
        Outcome.SIGNED: "signed",
        Outcome.EXTENDED: "extended",
        Outcome.CHURNED: "churned",
    }[request.outcome]
    text = f"Recorded: *{name}* {verb} (the contract ending {end})"
    if request.new_end:
        text += f"; the new contract runs to {request.new_end}, ARR {row.arr_after:,.0f}"
    text += "." if created else ". (This corrects the outcome recorded before.)"
    _ephemeral(respond, text)


# -- /qbr -----------------------------------------------------------------------------------------


def qbr_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    cmd = SlashCommand.model_validate(command)
    deps = deps_of(context)
    now = deps.clock.now()
    try:
        request = parse_qbr(cmd.text, now.date())
    except CommandError as err:
        ack(text=f"{err}\n{QBR_USAGE}")
        return
    ack()
    after_ack(context, lambda: _qbr(deps, respond, client, cmd, request))


def _qbr(deps: Deps, respond: Respond, client: WebClient, cmd: SlashCommand, request: Any) -> None:
    now = deps.clock.now()
    with deps.db.transaction() as session:
        target = client_by_slug(session, request.slug)
        if target is None:
            known = [c.slug for c in active_clients(session)]
            _ephemeral(respond, unknown_client_message(request.slug, known))
            return
        refused = refusal(session, cmd.user_id, Need.CLIENT_TEAM, target)
        if refused:
            _ephemeral(respond, refused)
            return
        cso, name, slug = target.cso_id, target.name, target.slug
        document = ""
        if request.delivered:
            mark_qbr(session, target.id, request.quarter, by=cmd.user_id, now=now, delivered=True)
        else:
            document = render_qbr(session, target, request.start, request.end, now=now, fmt="md")
            mark_qbr(session, target.id, request.quarter, by=cmd.user_id, now=now, delivered=False)
    if request.delivered:
        _ephemeral(respond, f"QBR {request.quarter} for *{name}* recorded as held.")
        return
    try:
        dm = client.conversations_open(users=cso)
        channel = str((dm.get("channel") or {}).get("id") or cso)
        client.files_upload_v2(
            channel=channel,
            content=document,
            filename=f"qbr-{slug}-{request.quarter}.md",
            title=f"QBR {request.quarter} — {name}",
            initial_comment=f"QBR {request.quarter} for {name}, drafted from what was recorded.",
        )
    except SlackApiError as err:
        reason = err.response.get("error", "") if err.response is not None else ""
        _ephemeral(respond, f"I couldn't send the QBR file ({reason or 'Slack error'}).")
        return
    where = "your DM" if cso == cmd.user_id else f"<@{cso}>'s DM"
    _ephemeral(respond, f"The {request.quarter} QBR for *{name}* is in {where}.")


# -- App Home: the Internal Health Board ----------------------------------------------------------


def board_view(deps: Deps, user_id: str) -> dict[str, Any]:
    now = deps.clock.now()
    with deps.db.session() as session:
        people = people_by_id(session)
        viewer = people.get(user_id)
        leadership = viewer is not None and Role(viewer.role) in LEADERSHIP_ROLES
        clients = active_clients(session) if leadership else clients_of(session, user_id)
        rows = load_board(session, clients, now)
        names = {pid: p.name for pid, p in people.items()} if leadership else None
    return home_view(rows, grouped=names, now=now)


def publish_home(deps: Deps, client: WebClient, user_id: str) -> None:
    try:
        client.views_publish(user_id=user_id, view=board_view(deps, user_id))
    except SlackApiError as err:
        logger.warning("home view not published: %s", err.response.get("error"))


def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    deps = deps_of(context)
    after_ack(context, lambda: publish_home(deps, client, str(event["user"])))


def register(app: App) -> None:
    registry.command(app, "/health", health_command, Need.CLIENT_TEAM)
    registry.command(app, "/nps", nps_command, Need.CLIENT_TEAM)
    registry.command(app, "/playbook", playbook_command, Need.CLIENT_TEAM)
    registry.command(app, "/renewal", renewal_command, Need.CLIENT_TEAM)
    registry.command(app, "/qbr", qbr_command, Need.CLIENT_TEAM)
    registry.view(app, MODAL_CALLBACK, signals_submitted, Need.CLIENT_TEAM)
    registry.action(app, EDIT_ACTION, edit_clicked, Need.CLIENT_TEAM)
    registry.action(app, VIEW_ACTION, view_clicked, Need.CLIENT_TEAM)
    registry.action(app, START_ACTION, start_clicked, Need.CLIENT_TEAM)
    registry.action(app, STEP_ACTION, step_clicked, Need.CLIENT_TEAM)
    registry.event(app, "app_home_opened", home_opened)
