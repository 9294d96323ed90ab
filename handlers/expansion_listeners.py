"""/expansion acme [add 30000 "EMEA analytics seats" [next: "…"]] and the stage buttons."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.access import Need
from domain.commands import CommandError
from domain.expansion import (
    EXPANSION_USAGE,
    AddOpportunity,
    ExpansionRequest,
    NoteRequest,
    Stage,
    parse_amount,
    parse_expansion,
)
from domain.records import Client
from handlers import registry
from handlers.authz import refusal
from handlers.common import BlockActions, ViewSubmission, after_ack, deps_of, on_ack, tell
from handlers.slash import Call, Command, Reply, register_command
from prompts import expansion_views as views
from storage import expansion_store
from storage.db import Transaction
from storage.expansion_store import pulse_hooks
from storage.portfolio_store import client_by_id, client_by_slug
from usecases import cadence_actions
from usecases import expansion_actions as expansion
from usecases.deps import Deps

logger = logging.getLogger(__name__)


def parse(text: str) -> ExpansionRequest:
    try:
        return parse_expansion(text)
    except ValueError as err:
        raise CommandError(f"{str(err).capitalize()}.") from None


def _note_view(deps: Deps, tx: Transaction, client: Client, key: str) -> dict[str, Any]:
    """While Slack waits: the note's form — the template's draft, or a placeholder the
    model's draft replaces after the ack."""
    meta = {"slug": client.slug, "key": key}
    if deps.llm is not None:
        view = views.note_modal(meta, None)
    else:
        facts = expansion.note_facts(tx, client, deps.clock.now())
        view = views.note_modal(meta, views.template_note(facts))
    return {**view, "external_id": f"expansion-note-{key}"}


def _note_draft(deps: Deps, tx: Transaction, client: Client, key: str) -> Callable[[], None]:
    """After the ack: the model's draft into the open form (the template's is there already)."""
    model, web = deps.llm, deps.slack
    if model is None or web is None:
        return lambda: None
    facts = expansion.note_facts(tx, client, deps.clock.now())
    meta, external_id = {"slug": client.slug, "key": key}, f"expansion-note-{key}"

    def fill_in() -> None:
        draft, source = expansion.write_note(model, facts)
        try:
            web.views_update(external_id=external_id, view=views.note_modal(meta, draft, source))
        except SlackApiError as exc:  # closed meanwhile: nothing to fill in
            logger.info("expansion note not shown (%s)", exc.response.get("error", ""))

    return fill_in


def form(call: Call[ExpansionRequest]) -> dict[str, Any] | None:
    client = call.client
    if client is None or not isinstance(call.request, NoteRequest):
        return None
    return _note_view(call.deps, call.tx, client, call.trigger_id or "note")


def works(call: Call[ExpansionRequest]) -> Reply:
    client, request = call.client, call.request
    assert client is not None
    if isinstance(request, NoteRequest):
        return Reply(after=_note_draft(call.deps, call.tx, client, call.trigger_id or "note"))
    if isinstance(request, AddOpportunity):
        made = expansion.add(
            call.tx, client, value=request.value, title=request.title,
            next_step=request.next_step, by=call.user_id, now=call.now,
            request_key=call.request_key,
        )  # fmt: skip
        return Reply(text=views.added(client.name, made))
    opportunities = expansion_store.opportunities_of(call.tx, client.id)
    since = call.now - timedelta(days=90)
    hooks = [h for h in pulse_hooks(call.tx, [client.id], since).get(client.id, []) if h]
    text, blocks = views.opportunities_blocks(client.name, opportunities, hooks)
    return Reply(text=text, blocks=blocks)


EXPANSION = Command(
    name="/expansion",
    usage=EXPANSION_USAGE,
    parse=parse,
    need=Need.CLIENT_TEAM,
    works=works,
    slug_of=lambda request: request.slug,
    opens=form,
)


def on_stage(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """A stage button: one transaction — the opportunity's client, its team's say-so, the move."""
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)

    def work() -> None:
        raw_id, _, raw_stage = (act.action.value or "").partition(":")
        with deps.db.transaction() as tx:
            found = expansion_store.opportunity_by_id(tx, int(raw_id)) if raw_id.isdigit() else None
            client = client_by_id(tx, found.client_id) if found else None
            refused = refusal(tx, act.user.id, Need.CLIENT_TEAM, client) if client else None
            moved = None
            if found and not refused and raw_stage in {s.value for s in Stage}:
                moved = expansion.move_stage(
                    tx, found.id, Stage(raw_stage), by=act.user.id, now=deps.clock.now()
                )
        text = refused or (
            views.moved(moved.opportunity, moved.said) if moved else views.cannot_move(raw_stage)
        )
        respond(text=text, response_type="ephemeral", replace_original=False)
        if moved and moved.said:
            deps.kick()

    after_ack(context, work)


def on_note_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Post to leadership: one transaction — the client, its team's say-so, the outbox."""
    sub = ViewSubmission.model_validate(body)
    text = (sub.value("note") or "").strip()
    if not text:
        ack(response_action="errors", errors={"note": "Write the note, or cancel."})
        return
    ack()
    deps = deps_of(context)
    meta = json.loads(sub.private_metadata or "{}")
    slug, key = str(meta.get("slug", "")), str(meta.get("key", "")) or str(sub.view.get("id"))

    def work() -> None:
        with deps.db.transaction() as tx:
            target = client_by_slug(tx, slug)
            refused = refusal(tx, sub.user.id, Need.CLIENT_TEAM, target) if target else None
            if target is None or refused:
                told = refused or views.note_not_posted(f"no client {slug}")
            else:
                try:
                    channel = expansion.post_note(
                        tx, deps.channel_guard(client), target, text, by=sub.user.id,
                        now=deps.clock.now(), key=key,
                    )  # fmt: skip
                    told = views.note_queued(target.name, channel)
                except expansion.LeadershipRefused as err:
                    told = views.note_not_posted(str(err))
        client.chat_postMessage(channel=sub.user.id, text=told)
        deps.kick()

    after_ack(context, work)


# -- the Friday reminder's buttons: Add opportunity, Draft a note to leadership ----------------
def _reminder_client(tx: Transaction, act: BlockActions) -> tuple[Client | None, str | None]:
    """The client of the reminder a button is on, and why the clicker may not act on it."""
    nudge = cadence_actions.find_nudge(tx, act.action.value)
    client = client_by_id(tx, nudge.client_id) if nudge and nudge.client_id else None
    if client is None:
        return None, None
    return client, refusal(tx, act.user.id, Need.CLIENT_TEAM, client)


def on_add_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """*Add opportunity*: the form (value, what, next step) for the reminder's client."""
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)

    def open_form() -> None:
        with deps.db.session() as tx:
            target, refused = _reminder_client(tx, act)
        if target is None or refused:
            tell(context, refused or views.REMINDER_GONE)
            return
        meta = {"slug": target.slug, "nudge": act.action.value or ""}
        client.views_open(trigger_id=act.trigger_id, view=views.add_modal(meta, target.name))

    on_ack(context, open_form)


def on_add_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Record it exactly as `/expansion acme add …` does: one transaction — the client, its
    team's say-so, the opportunity (once, however often the form is retried)."""
    sub = ViewSubmission.model_validate(body)
    title = (sub.value("title") or "").strip()
    next_step = (sub.value("next_step") or "").strip()
    try:
        value = parse_amount(sub.value("value") or "")
    except ValueError as err:
        ack(response_action="errors", errors={"value": f"{str(err).capitalize()}."})
        return
    if not title:
        ack(response_action="errors", errors={"title": views.ADD_NEEDS_TITLE})
        return
    ack()
    deps = deps_of(context)
    meta = json.loads(sub.private_metadata or "{}")
    slug = str(meta.get("slug", ""))
    key = f"view:{sub.view.get('id') or meta.get('nudge', '')}"

    def work() -> None:
        with deps.db.transaction() as tx:
            target = client_by_slug(tx, slug)
            refused = refusal(tx, sub.user.id, Need.CLIENT_TEAM, target) if target else None
            if target is None or refused:
                told = refused or views.REMINDER_GONE
            else:
                made = expansion.add(
                    tx, target, value=value, title=title, next_step=next_step, by=sub.user.id,
                    now=deps.clock.now(), request_key=key,
                )  # fmt: skip
                told = views.added(target.name, made)
        client.chat_postMessage(channel=sub.user.id, text=told)

    after_ack(context, work)


def on_note_clicked(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """*Draft a note to leadership*: the same form and draft as `/expansion acme note`."""
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)
    key = act.trigger_id or act.action.value or "note"

    def open_form() -> None:
        with deps.db.session() as tx:
            target, refused = _reminder_client(tx, act)
            view = _note_view(deps, tx, target, key) if target and not refused else None
        if view is None:
            tell(context, refused or views.REMINDER_GONE)
        elif context.client is not None:
            context.client.views_open(trigger_id=act.trigger_id, view=view)

    def draft() -> None:
        with deps.db.session() as tx:
            target, refused = _reminder_client(tx, act)
            fill_in = _note_draft(deps, tx, target, key) if target and not refused else None
        if fill_in is not None:
            fill_in()

    on_ack(context, open_form)
    after_ack(context, draft)


def register(app: App) -> None:
    register_command(app, EXPANSION)
    registry.view(app, views.NOTE_CALLBACK, on_note_submitted, Need.CLIENT_TEAM)
    registry.action(app, views.STAGE_ACTION, on_stage, Need.CLIENT_TEAM)
    registry.action(app, views.ADD_ACTION, on_add_clicked, Need.CLIENT_TEAM)
    registry.view(app, views.ADD_CALLBACK, on_add_submitted, Need.CLIENT_TEAM)
    registry.action(app, views.NOTE_ACTION, on_note_clicked, Need.CLIENT_TEAM)
