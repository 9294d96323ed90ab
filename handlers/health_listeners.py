"""/health, /nps, /playbook, /renewal, /qbr, the signals modal, the buttons and the App Home
(the Internal Health Board). Each listener: ack → parse → authorize → one transaction → use
case → reply."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.access import Need
from domain.commands import CommandError, unknown_client_message
from domain.health import HealthModelError
from domain.health_commands import (
    HEALTH_USAGE,
    NPS_USAGE,
    PLAYBOOK_USAGE,
    QBR_USAGE,
    RENEWAL_USAGE,
    HealthRequest,
    NpsRequest,
    PlaybookRequest,
    QbrRequest,
    RenewalRequest,
    parse_health,
    parse_nps,
    parse_playbook,
    parse_qbr,
    parse_renewal,
)
from domain.playbooks import get_playbook, playbook_ids
from domain.records import Client
from handlers import registry
from handlers.access import refusal
from handlers.common import (
    BlockActions,
    SlashCommand,
    ViewSubmission,
    after_ack,
    deps_of,
    on_ack,
    tell,
)
from prompts import blocks as bk
from prompts import health_views as views
from storage.db import Transaction
from storage.health_store import org_model
from storage.portfolio import active_clients, client_by_slug
from usecases import health
from usecases.deps import Deps

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=BaseModel)


def _ephemeral(respond: Respond, text: str, blocks: list[bk.Block] | None = None) -> None:
    if blocks is None:
        respond(text=text, response_type="ephemeral")
    else:
        respond(text=text, blocks=blocks, response_type="ephemeral")


@dataclass
class Reply:
    text: str | None = None
    blocks: list[bk.Block] | None = None
    home_for: str | None = None  # publish this user's App Home after the commit
    after: Callable[[], Reply | None] | None = None  # Slack work after the commit


@dataclass
class Found:
    """The client a request names, or why the work stops there."""

    client: Client | None = None
    stop: str | None = None


def _find(tx: Transaction, user_id: str, slug: str) -> Found:
    """Unknown client → did-you-mean; then the CLIENT_TEAM check against it."""
    target = client_by_slug(tx, slug)
    if target is None:
        return Found(stop=unknown_client_message(slug, [c.slug for c in active_clients(tx)]))
    refused = refusal(tx, user_id, Need.CLIENT_TEAM, target)
    return Found(stop=refused) if refused else Found(client=target)


def _home(deps: Deps, tx: Transaction, user_id: str) -> dict[str, Any]:
    return health.board_view(tx, user_id, deps.clock.now())


def publish_home(client: WebClient, user_id: str, view: dict[str, Any]) -> None:
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as err:
        logger.warning("home view not published: %s", err.response.get("error"))


def _client_command(
    name: str,
    parse: Callable[[SlashCommand, Deps], R],
    usage: Callable[[], str],
    works: Callable[[Deps, Transaction, SlashCommand, R, Client], Reply],
) -> Callable[..., None]:
    """A command about one client: ack (usage on a parse error) → after the ack, one
    transaction: the client (did-you-mean), the team check, the work → the ephemeral reply
    → the App Home."""

    def listener(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        cmd = SlashCommand.model_validate(command)
        deps = deps_of(context)
        try:
            request = parse(cmd, deps)
        except CommandError as err:
            ack(text=f"{err}\n{usage()}")
            return
        ack()

        def run() -> None:
            home: dict[str, Any] | None = None
            with deps.db.transaction() as tx:
                found = _find(tx, cmd.user_id, str(getattr(request, "slug", "")))
                if found.client is None:
                    reply = Reply(text=found.stop)
                else:
                    reply = works(deps, tx, cmd, request, found.client)
                    if reply.home_for:
                        home = _home(deps, tx, reply.home_for)
            if reply.after is not None:
                reply = reply.after() or reply
            if reply.text is not None:
                _ephemeral(respond, reply.text, reply.blocks)
            if home is not None and reply.home_for:
                publish_home(client, reply.home_for, home)

        after_ack(context, run)

    listener.__name__ = name
    return listener


# -- /health --------------------------------------------------------------------------------------


def _health(
    deps: Deps, tx: Transaction, cmd: SlashCommand, request: HealthRequest, c: Client
) -> Reply:
    try:
        out, text = health.breakdown(tx, c)
    except HealthModelError as err:
        return Reply(text=views.MODEL_INVALID.format(error=err))
    return Reply(text=text, blocks=out)


_show_health = _client_command(
    "health_show", lambda cmd, _deps: parse_health(cmd.text), lambda: HEALTH_USAGE, _health
)


def open_signals_modal(
    deps: Deps, client: WebClient, user_id: str, slug: str, trigger_id: str, *, push: bool = False
) -> str | None:
    """Open the modal (while Slack waits); a message for the user when it can't be."""
    with deps.db.transaction() as tx:
        found = _find(tx, user_id, slug)
        if found.client is None:
            return found.stop
        try:
            view = health.signals_form(tx, found.client)
        except HealthModelError as err:
            return views.MODEL_INVALID.format(error=err)
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
    if not request.edit:
        _show_health(ack, command, respond, client, context)
        return
    ack()
    deps = deps_of(context)

    def open_form() -> None:
        problem = open_signals_modal(deps, client, cmd.user_id, request.slug, cmd.trigger_id)
        if problem:
            _ephemeral(respond, problem)

    on_ack(context, open_form)


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
        ack(response_action="update", view=views.stale_view())
        return
    with deps.db.session() as session:
        model = org_model(session)
    form = health.read_signals(
        model, {n: sub.value(n) for n in model.signal_names if n in sub.values}
    )
    if not form.present:
        ack(response_action="update", view=views.stale_view())
        return
    if form.errors:
        ack(response_action="errors", errors=form.errors)
        return
    ack()
    view_id = str(sub.view.get("id") or uuid.uuid4())
    after_ack(context, lambda: _save_signals(deps, client, sub.user.id, slug, form.manual, view_id))


def _save_signals(
    deps: Deps,
    client: WebClient,
    user_id: str,
    slug: str,
    manual: dict[str, float | None],
    view_id: str,
) -> None:
    now = deps.clock.now()
    with deps.db.transaction() as tx:
        target = client_by_slug(tx, slug)
        if target is None:
            text: str | None = f'Unknown client "{slug}".'
            home = None
        else:
            text = refusal(tx, user_id, Need.CLIENT_TEAM, target)
            home = None
            if text is None:
                text = health.save_signals(
                    tx, target, manual, by=user_id, now=now, request_key=f"modal:{view_id}"
                )
                home = _home(deps, tx, user_id) if text else None
    if text:
        client.chat_postMessage(channel=user_id, text=text)
    if home is not None:
        publish_home(client, user_id, home)


# -- /nps -----------------------------------------------------------------------------------------


def _nps(deps: Deps, tx: Transaction, cmd: SlashCommand, request: NpsRequest, c: Client) -> Reply:
    key = f"nps:{cmd.trigger_id or uuid.uuid4()}"
    now = deps.clock.now()
    return Reply(text=health.record_nps(tx, c, request, by=cmd.user_id, now=now, request_key=key))


nps_command = _client_command(
    "nps_command", lambda cmd, _d: parse_nps(cmd.text), lambda: NPS_USAGE, _nps
)


# -- /playbook and the checklist ------------------------------------------------------------------


def _playbook_usage() -> str:
    return PLAYBOOK_USAGE.format(ids=", ".join(playbook_ids()))


def _playbook(
    deps: Deps, tx: Transaction, cmd: SlashCommand, request: PlaybookRequest, c: Client
) -> Reply:
    if request.playbook_id is None:
        rendered = health.running_checklists(tx, c)
        if not rendered:
            return Reply(text=f"No playbook is running for {c.name}. {_playbook_usage()}")
        listed = [b for blocks_, _ in rendered for b in blocks_]
        return Reply(text="\n\n".join(t for _, t in rendered), blocks=bk.fit(listed))
    text, out = health.start_playbook(
        tx, c, request.playbook_id, by=cmd.user_id, now=deps.clock.now(), trigger="command"
    )
    return Reply(text=text, blocks=out, home_for=cmd.user_id)


playbook_command = _client_command(
    "playbook_command", lambda cmd, _d: parse_playbook(cmd.text), _playbook_usage, _playbook
)


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
    after_ack(context, lambda: _start_clicked(deps, body, actions, respond, client, context))


def _start_clicked(
    deps: Deps,
    body: dict[str, Any],
    actions: BlockActions,
    respond: Respond,
    client: WebClient,
    context: BoltContext,
) -> None:
    slug, _, playbook_id = (actions.action.value or "").partition(":")
    user = actions.user.id
    out: list[bk.Block] | None = None
    with deps.db.transaction() as tx:
        found = _find(tx, user, slug)
        if found.client is None and client_by_slug(tx, slug) is not None:
            tell(context, found.stop or "")
            return
        book = get_playbook(playbook_id or health.suggested_or_default(tx, found.client))
        if found.client is None:
            text = found.stop or ""
        else:
            text, out = health.start_playbook(
                tx, found.client, book.id, by=user, now=deps.clock.now(), trigger="button"
            )
        home = _home(deps, tx, user)
    if actions.response_url and not _from_home(body) and not _in_modal(body):
        respond(text=text, blocks=out, response_type="ephemeral", replace_original=False)
    else:
        client.chat_postMessage(channel=user, text=text, blocks=out)
    publish_home(client, user, home)


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
    user = actions.user.id
    with deps.db.transaction() as tx:
        owner = health.client_of_step(tx, step_id)
        if owner is not None:
            refused = refusal(tx, user, Need.CLIENT_TEAM, owner)
            if refused:
                tell(context, refused)
                return
        ticked = health.tick_step(tx, step_id, by=user, now=deps.clock.now())
        if ticked is None:
            return
        home = _home(deps, tx, user)
    container = actions.container or {}
    if origin == "nudge":
        client.chat_postMessage(
            channel=user, text=f"Done: {ticked.step_text}", blocks=ticked.blocks
        )
    elif container.get("is_ephemeral") and actions.response_url:
        respond(text=ticked.text, blocks=ticked.blocks, replace_original=True)
    elif actions.channel_id and actions.message_ts and not _from_home(body):
        client.chat_update(
            channel=actions.channel_id,
            ts=actions.message_ts,
            text=ticked.text,
            blocks=ticked.blocks,
        )
    publish_home(client, user, home)


# -- buttons that open things ---------------------------------------------------------------------


def edit_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    actions = BlockActions.model_validate(body)
    deps = deps_of(context)
    slug = actions.action.value or ""

    def open_form() -> None:
        problem = open_signals_modal(
            deps, client, actions.user.id, slug, actions.trigger_id, push=_in_modal(body)
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
        with deps.db.transaction() as tx:
            found = _find(tx, actions.user.id, slug)
            if found.client is None:
                if client_by_slug(tx, slug) is not None and found.stop:
                    client.chat_postMessage(channel=actions.user.id, text=found.stop)
                return
            out, _ = health.breakdown(tx, found.client)
        client.views_open(trigger_id=actions.trigger_id, view=views.breakdown_modal(out))

    on_ack(context, open_breakdown)


# -- /renewal -------------------------------------------------------------------------------------


def _renewal(
    deps: Deps, tx: Transaction, cmd: SlashCommand, request: RenewalRequest, c: Client
) -> Reply:
    text = health.record_renewal(
        tx, c, request, by=cmd.user_id, now=deps.clock.now(), usage=RENEWAL_USAGE
    )
    return Reply(text=text)


renewal_command = _client_command(
    "renewal_command", lambda cmd, _d: parse_renewal(cmd.text), lambda: RENEWAL_USAGE, _renewal
)


# -- /qbr -----------------------------------------------------------------------------------------


def _send_qbr(
    slack: WebClient, cmd: SlashCommand, request: QbrRequest, c: Client, document: str
) -> str:
    try:
        dm = slack.conversations_open(users=c.cso_id)
        channel = str((dm.get("channel") or {}).get("id") or c.cso_id)
        slack.files_upload_v2(
            channel=channel,
            content=document,
            filename=f"qbr-{c.slug}-{request.quarter}.md",
            title=f"QBR {request.quarter} — {c.name}",
            initial_comment=f"QBR {request.quarter} for {c.name}, drafted from what was recorded.",
        )
    except SlackApiError as err:
        reason = err.response.get("error", "") if err.response is not None else ""
        return views.qbr_not_sent_text(reason)
    return views.qbr_sent_text(request.quarter, c.name, c.cso_id, cmd.user_id)


def qbr_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    def works(
        deps: Deps, tx: Transaction, cmd: SlashCommand, request: QbrRequest, c: Client
    ) -> Reply:
        document = health.qbr(tx, c, request, by=cmd.user_id, now=deps.clock.now())
        if document is None:
            return Reply(text=views.qbr_held_text(request.quarter, c.name))
        return Reply(after=lambda: Reply(text=_send_qbr(client, cmd, request, c, document)))

    listener = _client_command(
        "qbr_command",
        lambda cmd, deps: parse_qbr(cmd.text, deps.clock.now().date()),
        lambda: QBR_USAGE,
        works,
    )
    listener(ack, command, respond, client, context)


# -- App Home: the Internal Health Board ----------------------------------------------------------


def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    deps = deps_of(context)
    user = str(event["user"])

    def publish() -> None:
        with deps.db.transaction() as tx:
            view = _home(deps, tx, user)
        publish_home(client, user, view)

    after_ack(context, publish)


def register(app: App) -> None:
    registry.command(app, "/health", health_command, Need.CLIENT_TEAM)
    registry.command(app, "/nps", nps_command, Need.CLIENT_TEAM)
    registry.command(app, "/playbook", playbook_command, Need.CLIENT_TEAM)
    registry.command(app, "/renewal", renewal_command, Need.CLIENT_TEAM)
    registry.command(app, "/qbr", qbr_command, Need.CLIENT_TEAM)
    registry.view(app, views.MODAL_CALLBACK, signals_submitted, Need.CLIENT_TEAM)
    registry.action(app, views.EDIT_ACTION, edit_clicked, Need.CLIENT_TEAM)
    registry.action(app, views.VIEW_ACTION, view_clicked, Need.CLIENT_TEAM)
    registry.action(app, views.START_ACTION, start_clicked, Need.CLIENT_TEAM)
    registry.action(app, views.STEP_ACTION, step_clicked, Need.CLIENT_TEAM)
    registry.event(app, "app_home_opened", home_opened)
