"""/update acme morning|eod — a drafted client update, linted, sent for the CSO.

The draft comes from the bot's own record (today's touchpoints, open risk and deadline flags,
the pulse's latest update, this week's win), written by the LLM when one is configured and by
a jinja2 template otherwise. *Send* posts it in the client channel — the one place the bot
posts there, because the CSO explicitly asked — attributed to the CSO, and records the
touchpoint.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, select, update

from domain.access import Need
from domain.calendar import IsoWeek, local_date
from domain.client_update import (
    UPDATE_USAGE,
    Slot,
    UpdateFacts,
    UpdateRequest,
    parse_update_command,
    placeholder_warning,
)
from domain.commands import CommandError, unknown_client_message
from domain.flags import FlagKind
from domain.records import Client
from domain.update_lint import LintWarning, lint_update
from handlers import registry
from handlers.authz import refusal
from handlers.common import SlashCommand, ViewSubmission, after_ack, deps_of, on_ack
from handlers.inbox import describe
from llm.model_client import llm_client
from llm.update_writer import llm_draft
from prompts import blocks as bk
from prompts.flag_views import quote
from prompts.render import escape_mrkdwn, render
from storage.activity import record_touchpoint
from storage.flag_store import open_flags
from storage.models import Pulse, Touchpoint, Win
from storage.portfolio import (
    active_clients,
    client_by_slug,
    client_timezone,
    organization,
    people_by_id,
)
from usecases.deps import Deps

logger = logging.getLogger(__name__)

MODAL_CALLBACK = "client_update_modal"
MAX_DRAFT = 3000
CLIENT_SAFE_FLAGS = {FlagKind.RISK.value, FlagKind.DEADLINE_CHANGE.value}


# -- the draft ---------------------------------------------------------------------------------
def load_facts(deps: Deps, client: Client, slot: Slot) -> UpdateFacts:
    now = deps.clock.now()
    with deps.db.session() as session:
        tz = client_timezone(client, people_by_id(session), organization(session))
        today = local_date(now, tz)
        touchpoints = [
            t.excerpt
            for t in session.scalars(
                select(Touchpoint)
                .where(Touchpoint.client_id == client.id, Touchpoint.local_date == today)
                .order_by(Touchpoint.occurred_at)
            )
            if t.excerpt and t.source != "update"
        ]
        risks = [
            quote(f.excerpt) for f in open_flags(session, client.id) if f.kind in CLIENT_SAFE_FLAGS
        ]
        latest = session.scalars(
            select(Pulse.update)
            .where(Pulse.client_id == client.id, Pulse.update.is_not(None))
            .order_by(Pulse.created_at.desc())
        ).first()
        win = session.scalars(
            select(Win.text)
            .where(Win.client_id == client.id, Win.iso_week == str(IsoWeek.of(today)))
            .order_by(Win.created_at.desc())
        ).first()
    return UpdateFacts(
        client_name=client.name,
        slot=slot,
        today=[quote(t) for t in touchpoints[-5:]],
        risks=risks[:5],
        latest_update=latest,
        win=win,
    )


def template_draft(facts: UpdateFacts) -> str:
    return render(
        "messages/client_update_draft.j2",
        client_name=facts.client_name,
        slot=facts.slot.value,
        today=facts.today,
        risks=facts.risks,
        latest_update=facts.latest_update,
        win=facts.win,
    )


def write_draft(deps: Deps, facts: UpdateFacts) -> tuple[str, str]:
    """(draft, who wrote it): the LLM when configured and answering, else the template."""
    llm = llm_client(deps)
    if llm is not None:
        try:
            return llm_draft(llm, facts), "llm"
        except Exception as exc:  # any failure: the template draft, never no draft
            logger.warning("LLM update draft failed, using the template: %s", exc)
    return template_draft(facts), "template"


def lint(text: str) -> list[LintWarning]:
    warnings = lint_update(text)
    placeholder = placeholder_warning(text)
    return [placeholder, *warnings] if placeholder else warnings


# -- the modal ---------------------------------------------------------------------------------
def warning_blocks(warnings: list[LintWarning]) -> list[bk.Block]:
    return [bk.context(f":warning: {w.message}\n*Better:* _{w.example}_") for w in warnings[:8]]


def modal(
    meta: dict[str, Any],
    draft: str | None,
    warnings: list[LintWarning],
    *,
    send_anyway: bool = False,
    source: str = "template",
) -> dict[str, Any]:
    slot = "morning" if meta["slot"] == Slot.MORNING.value else "EOD"
    head = bk.section(
        f"*{meta['client_name']} — {slot} update.* Edit the draft; *Send* posts it in"
        f" <#{meta['channel']}> as you."
    )
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "private_metadata": json.dumps(meta),
        "title": {"type": "plain_text", "text": "Client update"},
        "close": {"type": "plain_text", "text": "Cancel"},
    }
    if draft is None:
        view["blocks"] = [head, bk.context(":hourglass_flowing_sand: Drafting your update…")]
        return view
    body: list[bk.Block] = [
        head,
        {
            "type": "input",
            "block_id": "draft",
            "label": {"type": "plain_text", "text": "Status / Risks / Asks / Next"},
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": MAX_DRAFT,
                "initial_value": draft[:MAX_DRAFT],
            },
        },
    ]
    if warnings:
        body.extend(warning_blocks(warnings))
    else:
        body.append(bk.context(":white_check_mark: Reads well: outcomes, risks, asks, next."))
    if source == "llm":
        body.append(bk.context("Drafted by the LLM from the bot's record: check every fact."))
    if send_anyway:
        body.append(
            {
                "type": "input",
                "block_id": "send_anyway",
                "optional": True,
                "label": {"type": "plain_text", "text": "Still want to send it as it is?"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Send anyway"}, "value": "yes"}
                    ],
                },
            }
        )
    view["blocks"] = body
    view["submit"] = {"type": "plain_text", "text": "Send"}
    return view


# -- listeners ---------------------------------------------------------------------------------
def update_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    cmd = SlashCommand.model_validate(command)
    if cmd.text.strip().lower() in ("", "help", "?"):
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
        # The trigger id expires in 3 seconds: open the modal now; the LLM drafts after.
        problem, target = _target(deps, request, cmd.user_id)
        if target is None:
            respond(text=problem, response_type="ephemeral")
            return
        meta = _meta(target, request)
        if not drafting:
            draft = template_draft(load_facts(deps, target, request.slot))
            view = modal(meta, draft, lint(draft))
        else:
            view = modal(meta, None, [])
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
    """Replace the open modal's placeholder with the LLM's (or the template's) draft."""
    _, target = _target(deps, request, user)
    if target is None:
        return  # refused or unknown while Slack waited: the modal never opened
    meta = _meta(target, request)
    draft, source = write_draft(deps, load_facts(deps, target, request.slot))
    try:
        client.views_update(
            external_id=external_id, view=modal(meta, draft, lint(draft), source=source)
        )
    except SlackApiError as exc:  # closed meanwhile: nothing to fill in
        logger.info("update draft not shown (%s)", describe(exc))


def _target(deps: Deps, request: UpdateRequest, user: str) -> tuple[str, Client | None]:
    with deps.db.session() as session:
        target = client_by_slug(session, request.slug)
        if target is None:
            known = [c.slug for c in active_clients(session)]
            return unknown_client_message(request.slug, known), None
        refused = refusal(session, user, Need.CLIENT_TEAM, target)
    if refused:
        return refused, None
    if not target.client_channel:
        return f"{target.name} has no client channel in the portfolio: add `client_channel`.", None
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
        ack(
            response_action="errors",
            errors={"draft": "This form is out of date: run /update again."},
        )
        return
    text = (sub.value("draft") or "").strip()
    if not text:
        ack(response_action="errors", errors={"draft": "Write the update first."})
        return
    anyway = bool((sub.values.get("send_anyway") or {}).get("selected_options"))
    warnings = lint(text)
    if warnings and not anyway:
        ack(response_action="update", view=modal(meta, text, warnings, send_anyway=True))
        return
    ack()
    deps = deps_of(context)
    view_id = str(sub.view.get("id") or uuid.uuid4())
    after_ack(context, lambda: send_update(deps, client, sub.user.id, slug, slot, text, view_id))


def send_update(
    deps: Deps, web: WebClient, user: str, slug: str, slot: Slot, text: str, view_id: str
) -> None:
    now = deps.clock.now()
    key = f"update:{view_id}"
    with deps.db.transaction() as session:
        target = client_by_slug(session, slug)
        refused = refusal(session, user, Need.CLIENT_TEAM, target) if target else None
        if target is None or refused or not target.client_channel:
            web.chat_postMessage(
                channel=user,
                text=refused or f"Your update for {slug} was not sent: it has no client channel.",
            )
            return
        tz = client_timezone(target, people_by_id(session), organization(session))
        # Claim the submission first: a repeated submission is posted once.
        claimed = record_touchpoint(
            session,
            client_id=target.id,
            author_id=user,
            kind="slack",
            source="update",
            occurred_at=now,
            tz=tz,
            dedupe_key=key,
            now=now,
            text=text,
            channel=target.client_channel,
        )
    if not claimed:
        return
    channel = str(target.client_channel)
    try:
        safe = escape_mrkdwn(text)  # typed text never notifies the client's channel
        resp = web.chat_postMessage(
            channel=channel,
            text=bk.fallback(safe),
            blocks=[bk.section(safe), bk.context(f"Posted by <@{user}> via csobot")],
        )
    except (SlackApiError, OSError) as exc:
        with deps.db.transaction() as session:
            session.execute(delete(Touchpoint).where(Touchpoint.dedupe_key == key))
        reason = exc.response.get("error", "") if isinstance(exc, SlackApiError) else ""
        web.chat_postMessage(channel=user, text=render("messages/post_failed.j2", reason=reason))
        return
    with deps.db.transaction() as session:
        session.execute(
            update(Touchpoint).where(Touchpoint.dedupe_key == key).values(message_ts=resp.get("ts"))
        )
    web.chat_postMessage(
        channel=user,
        text=render(
            "messages/client_update_posted.j2",
            slot=slot.value,
            channel=channel,
            permalink=None,
            client_name=target.name,
        ),
    )


def register(app: App) -> None:
    registry.command(app, "/update", update_command, Need.CLIENT_TEAM)
    registry.view(app, MODAL_CALLBACK, update_submitted, Need.CLIENT_TEAM)
