"""/update acme morning|eod — a drafted client update, linted, sent for the CSO.

The form opens while Slack waits (with the template's draft, or a placeholder the model's draft
replaces after the ack); *Send* posts the update in the client channel as the CSO and records the
touchpoint, in one transaction.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.access import Need
from domain.client_update import UPDATE_USAGE, Slot, UpdateRequest, lint, parse_update_command
from domain.commands import CommandError, unknown_client_message
from domain.records import Client
from handlers import registry
from handlers.access import refusal
from handlers.common import SlashCommand, ViewSubmission, after_ack, deps_of, on_ack
from handlers.inbox import describe
from llm.runtime import llm_client
from prompts.update_views import (
    EMPTY_DRAFT,
    FORM_OUT_OF_DATE,
    MODAL_CALLBACK,
    no_client_channel,
    not_sent_no_channel,
    post_failed,
    template_draft,
    update_modal,
)
from storage.db import Transaction
from storage.portfolio import active_clients, client_by_slug
from usecases import client_update
from usecases.client_update import PostFailed, Posting
from usecases.deps import Deps

logger = logging.getLogger(__name__)

HELP_WORDS = ("", "help", "?")


def update_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    cmd = SlashCommand.model_validate(command)
    if cmd.text.strip().lower() in HELP_WORDS:
        ack(text=UPDATE_USAGE)
        return
    try:
        request = parse_update_command(cmd.text)
    except CommandError as err:
        ack(text=f"{err}\n{UPDATE_USAGE}")
        return
    ack()
    deps = deps_of(context)
    external_id = f"update-{cmd.trigger_id}"
    drafting = llm_client(deps) is not None

    def open_form() -> None:
        # The trigger id expires in 3 seconds: open the form now; the model drafts after.
        with deps.db.session() as tx:
            problem, target = _target(tx, request, cmd.user_id)
            if target is None:
                respond(text=problem, response_type="ephemeral")
                return
            meta = _meta(target, request)
            if drafting:
                view = update_modal(meta, None, [])
            else:
                facts = client_update.facts_of(tx, target, request.slot, deps.clock.now())
                draft = template_draft(facts)
                view = update_modal(meta, draft, lint(draft))
        client.views_open(trigger_id=cmd.trigger_id, view={**view, "external_id": external_id})

    on_ack(context, open_form)
    if drafting:
        after_ack(context, lambda: _draft_into(deps, client, request, cmd.user_id, external_id))


def _meta(target: Client, request: UpdateRequest) -> dict[str, Any]:
    return {
        "slug": target.slug,
        "slot": request.slot.value,
        "channel": target.client_channel,
        "client_name": target.name,
    }


def _draft_into(
    deps: Deps, client: WebClient, request: UpdateRequest, user: str, external_id: str
) -> None:
    """Replace the open form's placeholder with the model's (or the template's) draft."""
    with deps.db.session() as tx:
        _, target = _target(tx, request, user)
        if target is None:
            return  # refused or unknown while Slack waited: the form never opened
        facts = client_update.facts_of(tx, target, request.slot, deps.clock.now())
    draft, source = client_update.write_draft(llm_client(deps), facts)
    view = update_modal(_meta(target, request), draft, lint(draft), source=source)
    try:
        client.views_update(external_id=external_id, view=view)
    except SlackApiError as exc:  # closed meanwhile: nothing to fill in
        logger.info("update draft not shown (%s)", describe(exc))


def _target(tx: Transaction, request: UpdateRequest, user: str) -> tuple[str, Client | None]:
    target = client_by_slug(tx, request.slug)
    if target is None:
        known = [c.slug for c in active_clients(tx)]
        return unknown_client_message(request.slug, known), None
    refused = refusal(tx, user, Need.CLIENT_TEAM, target)
    if refused:
        return refused, None
    if not target.client_channel:
        return no_client_channel(target.name), None
    return "", target


def update_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    sub = ViewSubmission.model_validate(body)
    try:
        meta = json.loads(sub.private_metadata)
        slug, slot = str(meta["slug"]), Slot(meta["slot"])
        _ = str(meta["client_name"]), meta["channel"]
    except (ValueError, KeyError, TypeError):
        ack(response_action="errors", errors={"draft": FORM_OUT_OF_DATE})
        return
    text = (sub.value("draft") or "").strip()
    if not text:
        ack(response_action="errors", errors={"draft": EMPTY_DRAFT})
        return
    anyway = bool((sub.values.get("send_anyway") or {}).get("selected_options"))
    warnings = lint(text)
    if warnings and not anyway:
        ack(response_action="update", view=update_modal(meta, text, warnings, send_anyway=True))
        return
    ack()
    deps = deps_of(context)
    view_id = str(sub.view.get("id") or uuid.uuid4())
    after_ack(context, lambda: send(deps, client, sub.user.id, slug, slot, text, view_id))


def send(
    deps: Deps, web: WebClient, user: str, slug: str, slot: Slot, text: str, view_id: str
) -> None:
    """The click's one transaction: the client, its team's say-so, the post and its
    touchpoint. Nothing is recorded unless the post went out, and a post whose record did not
    commit is taken back."""
    posting: Posting | None = None
    told: str | None
    try:
        with deps.db.transaction() as tx:
            target = client_by_slug(tx, slug)
            refused = refusal(tx, user, Need.CLIENT_TEAM, target) if target else None
            if target is None or refused or not target.client_channel:
                told = refused or not_sent_no_channel(slug)
            else:
                posting = Posting(str(target.client_channel))
                told = client_update.send_update(
                    tx,
                    web,
                    posting,
                    client=target,
                    user=user,
                    slot=slot,
                    text=text,
                    view_id=view_id,
                    now=deps.clock.now(),
                )
    except PostFailed as exc:
        told = post_failed(exc.reason)
    except BaseException:
        if posting is not None:
            posting.take_back(web)
        raise
    if told:
        web.chat_postMessage(channel=user, text=told)


def register(app: App) -> None:
    registry.command(app, "/update", update_command, Need.CLIENT_TEAM)
    registry.view(app, MODAL_CALLBACK, update_submitted, Need.CLIENT_TEAM)
