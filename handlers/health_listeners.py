"""/health, /nps, /playbook, /renewal, /qbr, the signals modal, the buttons and the App Home
(the Internal Health Board). Each listener: ack → parse → authorize → one transaction → use
case → reply."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.access import Need
from domain.commands import unknown_client_message
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
from handlers.support_listeners import with_open_support
from prompts import blocks as bk
from prompts import health_views as views
from storage.db import Transaction
from storage.health_store import org_model
from storage.portfolio_store import active_clients, client_by_slug
from usecases import health_actions as health
from usecases import story_actions
from usecases.deps import Deps

logger = logging.getLogger(__name__)


def _ephemeral(respond: Respond, text: str, blocks: list[bk.Block] | None = None) -> None:
    if blocks is None:
        respond(text=text, response_type="ephemeral")
    else:
        respond(text=text, blocks=blocks, response_type="ephemeral")


@dataclass
class Found:
    """The client a click names, or why the work stops there."""

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
    view = health.board_view(tx, user_id, deps.clock.now())
    return with_open_support(view, tx, user_id, deps.clock.now())  # the open-support part


def publish_home(client: WebClient | None, user_id: str, view: dict[str, Any]) -> None:
    if client is None:
        return
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as err:
        logger.warning("home view not published: %s", err.response.get("error"))


def _client_of(call: Call[Any]) -> Client:
    assert call.client is not None  # slug_of names it; the helper resolved and checked it
    return call.client


# -- /health --------------------------------------------------------------------------------------


def _health(call: Call[HealthRequest]) -> Reply:
    client = _client_of(call)
    try:
        if call.request.edit:  # the modal opened while Slack waited
            org_model(call.tx)
            return Reply()
        out, text = health.breakdown(call.tx, client)
        out = out + story_actions.health_blocks(call.tx, client, call.now)
    except HealthModelError as err:
        return Reply(text=views.MODEL_INVALID.format(error=err))
    return Reply(text=text, blocks=out)


def _signals_form(call: Call[HealthRequest]) -> dict[str, Any] | None:
    if not call.request.edit or call.client is None:
        return None
    try:
        return health.signals_form(call.tx, call.client)
    except HealthModelError:
        return None  # the work after the ack says why


HEALTH = Command(
    name="/health",
    usage=HEALTH_USAGE,
    parse=parse_health,
    need=Need.CLIENT_TEAM,
    works=_health,
    slug_of=lambda request: request.slug,
    opens=_signals_form,
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


def _nps(call: Call[NpsRequest]) -> Reply:
    key = f"nps:{call.trigger_id or uuid.uuid4()}"
    text = health.record_nps(
        call.tx, _client_of(call), call.request, by=call.user_id, now=call.now, request_key=key
    )
    return Reply(text=text)


NPS = Command(
    name="/nps",
    usage=NPS_USAGE,
    parse=parse_nps,
    need=Need.CLIENT_TEAM,
    works=_nps,
    slug_of=lambda request: request.slug,
)


# -- /playbook and the checklist ------------------------------------------------------------------


def _playbook(call: Call[PlaybookRequest]) -> Reply:
    client, tx = _client_of(call), call.tx
    if call.request.playbook_id is None:
        rendered = health.running_checklists(tx, client)
        if not rendered:
            return Reply(text=f"No playbook is running for {client.name}. {PLAYBOOK_HELP}")
        listed = [b for blocks_, _ in rendered for b in blocks_]
        return Reply(text="\n\n".join(t for _, t in rendered), blocks=bk.fit(listed))
    text, out = health.start_playbook(
        tx, client, call.request.playbook_id, by=call.user_id, now=call.now, trigger="command"
    )
    home = _home(call.deps, tx, call.user_id)
    slack, user = call.deps.slack, call.user_id
    return Reply(text=text, blocks=out, after=lambda: publish_home(slack, user, home))


PLAYBOOK_HELP = PLAYBOOK_USAGE.format(ids=", ".join(playbook_ids()))
PLAYBOOK = Command(
    name="/playbook",
    usage=PLAYBOOK_HELP,
    parse=parse_playbook,
    need=Need.CLIENT_TEAM,
    works=_playbook,
    slug_of=lambda request: request.slug,
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


def _renewal(call: Call[RenewalRequest]) -> Reply:
    text = health.record_renewal(
        call.tx, _client_of(call), call.request, by=call.user_id, now=call.now, usage=RENEWAL_USAGE
    )
    return Reply(text=text)


RENEWAL = Command(
    name="/renewal",
    usage=RENEWAL_USAGE,
    parse=parse_renewal,
    need=Need.CLIENT_TEAM,
    works=_renewal,
    slug_of=lambda request: request.slug,
)


# -- /qbr -----------------------------------------------------------------------------------------

# A bare "Q4" means the latest Q4 by the day the command runs: the ack only checks the words
# (with a day late enough for any quarter), the work parses them again with the day it runs.
SYNTAX_CHECK_DAY = date(2999, 12, 31)


def _send_qbr(slack: WebClient, user_id: str, request: QbrRequest, c: Client, document: str) -> str:
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
    return views.qbr_sent_text(request.quarter, c.name, c.cso_id, user_id)


def _qbr(call: Call[QbrText]) -> Reply:
    client = _client_of(call)
    request = parse_qbr(call.request.raw, call.now.date())
    document = health.qbr(call.tx, client, request, by=call.user_id, now=call.now)
    if document is None:
        return Reply(text=views.qbr_held_text(request.quarter, client.name))
    if call.deps.slack is None:
        return Reply(text=views.qbr_not_sent_text("Slack is not configured"))
    # The file goes before the commit: the reply says whether it arrived.
    return Reply(text=_send_qbr(call.deps.slack, call.user_id, request, client, document))


class QbrText(BaseModel):
    slug: str
    raw: str


def _parse_qbr(text: str) -> QbrText:
    return QbrText(slug=parse_qbr(text, SYNTAX_CHECK_DAY).slug, raw=text)


QBR = Command(
    name="/qbr",
    usage=QBR_USAGE,
    parse=_parse_qbr,
    need=Need.CLIENT_TEAM,
    works=_qbr,
    slug_of=lambda request: request.slug,
)


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
    for command in (HEALTH, NPS, PLAYBOOK, RENEWAL, QBR):
        register_command(app, command)
    registry.view(app, views.MODAL_CALLBACK, signals_submitted, Need.CLIENT_TEAM)
    registry.action(app, views.EDIT_ACTION, edit_clicked, Need.CLIENT_TEAM)
    registry.action(app, views.VIEW_ACTION, view_clicked, Need.CLIENT_TEAM)
    registry.action(app, views.START_ACTION, start_clicked, Need.CLIENT_TEAM)
    registry.action(app, views.STEP_ACTION, step_clicked, Need.CLIENT_TEAM)
    registry.event(app, "app_home_opened", home_opened)
