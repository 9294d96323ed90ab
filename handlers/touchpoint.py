"""/touchpoint — off-Slack touchpoints (email, call, meeting) and skipped days, with a modal."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from domain.access import Need
from domain.calendar import local_date
from domain.commands import (
    TOUCHPOINT_USAGE,
    CommandError,
    SkipRequest,
    TouchpointKind,
    TouchpointRequest,
    parse_link,
    parse_touchpoint,
    unknown_client_message,
)
from handlers import registry
from handlers.authz import refusal
from handlers.common import SlashCommand, ViewSubmission, after_ack, deps_of, on_ack
from prompts import blocks
from prompts.render import render
from storage.activity import record_exemption, record_touchpoint
from storage.portfolio import (
    active_clients,
    client_by_slug,
    client_timezone,
    clients_of,
    organization,
    people_by_id,
)
from usecases.deps import Deps
from usecases.reminders import after_logged

MODAL_CALLBACK = "touchpoint_modal"
BACKDATE_DAYS = 14


def log_touchpoint(
    deps: Deps,
    *,
    request: TouchpointRequest | SkipRequest,
    user_id: str,
    day: date | None = None,
    source: str = "command",
    dedupe_key: str | None = None,
) -> tuple[str, bool]:
    """Record a logged touchpoint or a skipped day; return what to tell the user, and whether
    anything was recorded."""
    now = deps.clock.now()
    with deps.db.transaction() as session:
        client = client_by_slug(session, request.slug)
        if client is None:
            known = [c.slug for c in active_clients(session)]
            return unknown_client_message(request.slug, known), False
        refused = refusal(session, user_id, Need.CLIENT_TEAM, client)
        if refused:
            return refused, False
        tz = client_timezone(client, people_by_id(session), organization(session))
        today = local_date(now, tz)
        day = day or today
        if isinstance(request, SkipRequest):
            new = record_exemption(
                session, client_id=client.id, day=day, reason=request.reason, by=user_id, now=now
            )
            return render(
                "messages/skip_recorded.j2", client=client, day=day, new=new, reason=request.reason
            ), True
        # A backdated touchpoint is placed at noon local time on that day.
        occurred = now if day == today else datetime.combine(day, time(12), tzinfo=tz)
        record_touchpoint(
            session,
            client_id=client.id,
            author_id=user_id,
            kind=request.kind.value,
            source=source,
            occurred_at=occurred,
            tz=tz,
            dedupe_key=dedupe_key or f"{source}:{uuid.uuid4()}",
            now=now,
            text=request.note,
            link=request.link,
        )
        return render(
            "messages/touchpoint_recorded.j2", client=client, request=request, day=day, today=today
        ), True


def touchpoint_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    cmd = SlashCommand.model_validate(command)
    try:
        request = parse_touchpoint(cmd.text)
    except CommandError as err:
        ack(text=f"{err}\n{TOUCHPOINT_USAGE}")
        return
    ack()
    deps = deps_of(context)
    if request is None:
        # trigger_id expires in 3 seconds: open the modal while Slack waits.
        on_ack(
            context,
            lambda: open_modal(deps, client, trigger_id=cmd.trigger_id, user_id=cmd.user_id),
        )
        return
    after_ack(context, lambda: _log(deps, client, cmd, request, respond))


def _log(
    deps: Deps,
    client: WebClient,
    cmd: SlashCommand,
    request: TouchpointRequest | SkipRequest,
    respond: Respond,
) -> None:
    # The trigger id is unique per invocation: a re-delivered command is recorded once.
    text, recorded = log_touchpoint(
        deps,
        request=request,
        user_id=cmd.user_id,
        dedupe_key=f"cmd:{cmd.trigger_id}" if cmd.trigger_id else None,
    )
    respond(text=text, response_type="ephemeral")
    if recorded:
        after_logged(deps, client, request, cmd.user_id)


def modal_view(
    deps: Deps, user_id: str, *, slug: str | None = None, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    with deps.db.session() as session:
        options = clients_of(session, user_id) or active_clients(session)
        choices = [(c.slug, c.name) for c in options][:100]
    client_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": {"type": "plain_text", "text": "Choose a client"},
        "options": [
            {"text": {"type": "plain_text", "text": blocks.clip(name, 75)}, "value": s}
            for s, name in choices
        ],
    }
    if slug and any(s == slug for s, _ in choices):
        client_select["initial_option"] = next(
            o for o in client_select["options"] if o["value"] == slug
        )
    kinds = [*(k.value for k in TouchpointKind)]
    today = person_today(deps, user_id)
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "private_metadata": json.dumps(metadata or {}),
        "title": {"type": "plain_text", "text": "Log a touchpoint"},
        "submit": {"type": "plain_text", "text": "Log it"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "client",
                "label": {"type": "plain_text", "text": "Client"},
                "element": client_select,
            },
            {
                "type": "input",
                "block_id": "kind",
                "label": {"type": "plain_text", "text": "Kind"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "initial_option": {
                        "text": {"type": "plain_text", "text": "email"},
                        "value": "email",
                    },
                    "options": [
                        {"text": {"type": "plain_text", "text": k}, "value": k} for k in kinds
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "label": {"type": "plain_text", "text": "What happened"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": 300,
                    "placeholder": {"type": "plain_text", "text": "Sent the attribution deck"},
                },
            },
            {
                "type": "input",
                "block_id": "link",
                "optional": True,
                "label": {"type": "plain_text", "text": "Link"},
                "element": {"type": "url_text_input", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": "day",
                "label": {"type": "plain_text", "text": "When"},
                "element": {
                    "type": "datepicker",
                    "action_id": "value",
                    "initial_date": today.isoformat(),
                },
            },
        ],
    }


def person_today(deps: Deps, user_id: str) -> date:
    """Today in the person's timezone (else the organization's)."""
    with deps.db.session() as session:
        person = people_by_id(session).get(user_id)
        name = (person.timezone if person else None) or organization(session).timezone
    return local_date(deps.clock.now(), ZoneInfo(name or "UTC"))


def open_modal(
    deps: Deps,
    client: WebClient,
    *,
    trigger_id: str,
    user_id: str,
    slug: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    client.views_open(
        trigger_id=trigger_id, view=modal_view(deps, user_id, slug=slug, metadata=metadata)
    )


def touchpoint_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    sub = ViewSubmission.model_validate(body)
    deps = deps_of(context)
    errors: dict[str, str] = {}
    slug, kind = sub.value("client"), sub.value("kind")
    note = (sub.value("note") or "").strip()
    link = sub.value("link")
    day_text = sub.value("day")
    if not slug:
        errors["client"] = "Choose a client."
    if not note:
        errors["note"] = "Say what happened, in a few words."
    if link and not parse_link(link):
        errors["link"] = "That doesn't look like a link (https://…)."
    day: date | None = None
    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        errors["day"] = "Pick a date."
    today = person_today(deps, sub.user.id)
    if day and day > today + timedelta(days=1):
        errors["day"] = "A touchpoint can't be in the future."
    elif day and day < today - timedelta(days=BACKDATE_DAYS):
        errors["day"] = f"Only the last {BACKDATE_DAYS} days can be logged."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    request = TouchpointRequest(
        slug=str(slug), kind=TouchpointKind(kind or "email"), note=note, link=link or None
    )
    view_id = str(sub.view.get("id") or uuid.uuid4())

    def work() -> None:
        text, recorded = log_touchpoint(
            deps,
            request=request,
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
    registry.command(app, "/touchpoint", touchpoint_command, Need.CLIENT_TEAM)
    registry.view(app, MODAL_CALLBACK, touchpoint_submitted, Need.CLIENT_TEAM)
