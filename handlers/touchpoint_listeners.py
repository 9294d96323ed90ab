"""/touchpoint — off-Slack touchpoints (email, call, meeting) and skipped days, with a form."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from domain.access import Need
from domain.commands import (
    TOUCHPOINT_USAGE,
    SkipRequest,
    TouchpointRequest,
    parse_touchpoint,
    read_touchpoint_form,
    unknown_client_message,
)
from handlers import registry
from handlers.authz import refusal
from handlers.common import ViewSubmission, after_ack, deps_of
from handlers.slash import Call, Command, Reply, register_command
from prompts.touchpoint_views import MODAL_CALLBACK
from storage.portfolio_store import active_clients, client_by_slug
from usecases import touchpoint_log
from usecases.deps import Deps
from usecases.reminders import after_logged

TouchpointText = TouchpointRequest | SkipRequest | None  # None: no text, the form


def works(call: Call[TouchpointText]) -> Reply:
    request, client = call.request, call.client
    if request is None:
        return Reply()  # the form was opened while Slack waited
    assert client is not None  # slug_of names it; the helper resolved it
    logged = touchpoint_log.log_touchpoint(
        call.tx,
        client=client,
        request=request,
        user_id=call.user_id,
        now=call.now,
        # The trigger id is unique per invocation: a re-delivered command is recorded once.
        dedupe_key=call.request_key,
    )
    deps, user = call.deps, call.user_id
    return Reply(
        text=logged.text,
        after=lambda: after_logged(deps, deps.slack, request, user, logged.day),
    )


def opens(call: Call[TouchpointText]) -> dict[str, Any] | None:
    if call.request is not None:
        return None
    return touchpoint_log.touchpoint_form(call.tx, call.user_id, call.now)


TOUCHPOINT = Command(
    name="/touchpoint",
    usage=TOUCHPOINT_USAGE,
    parse=parse_touchpoint,
    need=Need.CLIENT_TEAM,
    works=works,
    slug_of=lambda request: request.slug if request is not None else None,
    opens=opens,
    help_words=(),
)


def log(
    deps: Deps,
    request: TouchpointRequest | SkipRequest,
    *,
    user_id: str,
    day: date | None = None,
    source: str = "command",
    dedupe_key: str | None = None,
) -> tuple[str, date | None]:
    """One transaction: the client, its team's say-so, the record. (What to tell the person,
    the day recorded — None when nothing was.)"""
    with deps.db.transaction() as tx:
        client = client_by_slug(tx, request.slug)
        if client is None:
            known = [c.slug for c in active_clients(tx)]
            return unknown_client_message(request.slug, known), None
        refused = refusal(tx, user_id, Need.CLIENT_TEAM, client)
        if refused:
            return refused, None
        logged = touchpoint_log.log_touchpoint(
            tx,
            client=client,
            request=request,
            user_id=user_id,
            now=deps.clock.now(),
            day=day,
            source=source,
            dedupe_key=dedupe_key,
        )
    return logged.text, logged.day


def open_modal(
    deps: Deps,
    client: WebClient,
    *,
    trigger_id: str,
    user_id: str,
    slug: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Open the form (also from a reminder's button, with the client preselected)."""
    with deps.db.session() as tx:
        view = touchpoint_log.touchpoint_form(
            tx, user_id, deps.clock.now(), slug=slug, metadata=metadata
        )
    client.views_open(trigger_id=trigger_id, view=view)


def touchpoint_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    sub = ViewSubmission.model_validate(body)
    deps = deps_of(context)
    with deps.db.session() as tx:
        today = touchpoint_log.person_today(tx, sub.user.id, deps.clock.now())
    form = read_touchpoint_form(
        slug=sub.value("client"),
        kind=sub.value("kind"),
        note=sub.value("note"),
        link=sub.value("link"),
        day_text=sub.value("day"),
        today=today,
    )
    if form.request is None:
        ack(response_action="errors", errors=form.errors)
        return
    ack()
    request, day = form.request, form.day
    view_id = str(sub.view.get("id") or uuid.uuid4())

    def work() -> None:
        text, recorded = log(
            deps,
            request,
            user_id=sub.user.id,
            day=day,
            source="modal",
            dedupe_key=f"modal:{view_id}",
        )
        client.chat_postMessage(channel=sub.user.id, text=text)
        if recorded:
            after_logged(deps, client, request, sub.user.id, day)

    after_ack(context, work)


def register(app: App) -> None:
    register_command(app, TOUCHPOINT)
    registry.view(app, MODAL_CALLBACK, touchpoint_submitted, Need.CLIENT_TEAM)
