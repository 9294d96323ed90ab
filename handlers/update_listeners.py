"""/update acme morning|eod — a drafted client update, linted, sent for the CSO.

The form opens while Slack waits (with the template's draft, or a placeholder the model's draft
replaces after the ack); *Send* posts the update in the client channel as the CSO and records the
touchpoint, in one transaction.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.access import Need
from domain.calendar import local_date
from domain.client_update import UPDATE_USAGE, Slot, UpdateRequest, lint, parse_update_command
from domain.records import Client
from handlers import registry
from handlers.authz import refusal
from handlers.common import ViewSubmission, after_ack, deps_of
from handlers.inbox import describe
from handlers.slash import Call, Command, Reply, register_command
from prompts.cadence_views import CHANNEL_TOUCHPOINT
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
from storage.portfolio_store import client_by_slug, timezone_of
from usecases import update_actions as client_update
from usecases.deps import Deps
from usecases.reminders import after_touchpoint
from usecases.update_actions import PostFailed, Posting

logger = logging.getLogger(__name__)

HELP_WORDS = ("", "help", "?")


def _meta(target: Client, request: UpdateRequest) -> dict[str, Any]:
    return {
        "slug": target.slug,
        "slot": request.slot.value,
        "channel": target.client_channel,
        "client_name": target.name,
    }


def form(call: Call[UpdateRequest]) -> dict[str, Any] | None:
    """While Slack waits: the form, with the template's draft, or a placeholder the model's
    draft replaces after the ack."""
    client = call.client
    if client is None or not client.client_channel:
        return None  # the work after the ack says why
    meta = _meta(client, call.request)
    if call.deps.llm is not None:
        view = update_modal(meta, None, [])
    else:
        draft = template_draft(client_update.facts_of(call.tx, client, call.request.slot, call.now))
        view = update_modal(meta, draft, lint(draft))
    return {**view, "external_id": _external_id(call)}


def drafts(call: Call[UpdateRequest]) -> Reply:
    """After the ack: the model's draft into the open form (the template's is there already)."""
    client = call.client
    assert client is not None  # slug_of names it; the helper resolved it
    if not client.client_channel:
        return Reply(text=no_client_channel(client.name))
    model, web = call.deps.llm, call.deps.slack
    if model is None or web is None:
        return Reply()  # the template's draft is in the form already
    facts = client_update.facts_of(call.tx, client, call.request.slot, call.now)
    meta, external_id = _meta(client, call.request), _external_id(call)

    def fill_in() -> None:
        draft, source = client_update.write_draft(model, facts)
        view = update_modal(meta, draft, lint(draft), source=source)
        try:
            web.views_update(external_id=external_id, view=view)
        except SlackApiError as exc:  # closed meanwhile: nothing to fill in
            logger.info("update draft not shown (%s)", describe(exc))

    return Reply(after=fill_in)


def _external_id(call: Call[UpdateRequest]) -> str:
    return f"update-{call.trigger_id}"


UPDATE = Command(
    name="/update",
    usage=UPDATE_USAGE,
    parse=parse_update_command,
    need=Need.CLIENT_TEAM,
    works=drafts,
    slug_of=lambda request: request.slug,
    opens=form,
    help_words=HELP_WORDS,
)


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
    answered: tuple[int, date] | None = None  # the client and day the update answers
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
                if told and posting.ts:
                    answered = (target.id, local_date(deps.clock.now(), timezone_of(tx, target)))
    except PostFailed as exc:
        told = post_failed(exc.reason)
    except BaseException:
        if posting is not None:
            posting.take_back(web)
        raise
    if told:
        web.chat_postMessage(channel=user, text=told)
    if answered is not None:  # the morning update closes the morning reminder, a recap the EOD
        client_id, day = answered
        try:
            after_touchpoint(
                deps, web, client_id, day, outcome=CHANNEL_TOUCHPOINT, by=user, slots=[slot.value]
            )
        except Exception:  # the update is posted; a reminder left open is not worth a failure
            logger.exception(
                "could not close the update reminders for %s", slug, extra={"client": slug}
            )


def register(app: App) -> None:
    register_command(app, UPDATE)
    registry.view(app, MODAL_CALLBACK, update_submitted, Need.CLIENT_TEAM)
