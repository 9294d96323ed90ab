"""/expansion acme [add 30000 "EMEA analytics seats" [next: "…"]] and the stage buttons."""

from __future__ import annotations

import json
import logging
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
    parse_expansion,
)
from handlers import registry
from handlers.authz import refusal
from handlers.common import BlockActions, ViewSubmission, after_ack, deps_of
from handlers.slash import Call, Command, Reply, register_command
from prompts import expansion_views as views
from storage import expansion_store
from storage.expansion_store import pulse_hooks
from storage.portfolio_store import client_by_id, client_by_slug
from usecases import expansion_actions as expansion

logger = logging.getLogger(__name__)


def parse(text: str) -> ExpansionRequest:
    try:
        return parse_expansion(text)
    except ValueError as err:
        raise CommandError(f"{str(err).capitalize()}.") from None


def _meta(client_slug: str, call: Call[ExpansionRequest]) -> dict[str, str]:
    return {"slug": client_slug, "key": call.trigger_id or "note"}


def form(call: Call[ExpansionRequest]) -> dict[str, Any] | None:
    """While Slack waits: the note's form — the template's draft, or a placeholder the
    model's draft replaces after the ack."""
    client = call.client
    if client is None or not isinstance(call.request, NoteRequest):
        return None
    if call.deps.llm is not None:
        view = views.note_modal(_meta(client.slug, call), None)
    else:
        facts = expansion.note_facts(call.tx, client, call.now)
        view = views.note_modal(_meta(client.slug, call), views.template_note(facts))
    return {**view, "external_id": f"expansion-note-{call.trigger_id}"}


def _fill_in(call: Call[ExpansionRequest]) -> Reply:
    """After the ack: the model's draft into the open form (the template's is there already)."""
    model, web, client = call.deps.llm, call.deps.slack, call.client
    if model is None or web is None or client is None:
        return Reply()
    facts = expansion.note_facts(call.tx, client, call.now)
    meta, external_id = _meta(client.slug, call), f"expansion-note-{call.trigger_id}"

    def fill_in() -> None:
        draft, source = expansion.write_note(model, facts)
        try:
            web.views_update(external_id=external_id, view=views.note_modal(meta, draft, source))
        except SlackApiError as exc:  # closed meanwhile: nothing to fill in
            logger.info("expansion note not shown (%s)", exc.response.get("error", ""))

    return Reply(after=fill_in)


def works(call: Call[ExpansionRequest]) -> Reply:
    client, request = call.client, call.request
    assert client is not None
    if isinstance(request, NoteRequest):
        return _fill_in(call)
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
                moved = expansion.move_stage(tx, found.id, Stage(raw_stage), deps.clock.now())
        text = refused or (views.moved(moved) if moved else views.cannot_move(raw_stage))
        respond(text=text, response_type="ephemeral", replace_original=False)

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


def register(app: App) -> None:
    register_command(app, EXPANSION)
    registry.view(app, views.NOTE_CALLBACK, on_note_submitted, Need.CLIENT_TEAM)
    registry.action(app, views.STAGE_ACTION, on_stage, Need.CLIENT_TEAM)
