"""/audit acme [2026-11] (docs/process.md, "QBR/EBR and the Value Realization Audit"), and the
weekly Client Health Report's buttons (docs/process.md, "Client Health Report"): *Post* posts
the draft to the client's internal channel; *Edit and post* opens it in a form whose
submission posts the edited text. Each click: one transaction, the client's team only."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.access import Need
from domain.value import AUDIT_USAGE, AuditRequest, parse_audit
from handlers import registry
from handlers.authz import refusal
from handlers.common import BlockActions, ViewSubmission, after_ack, deps_of, on_ack
from handlers.slash import Call, Command, Reply, register_command
from prompts import report_views as views
from storage import report_store
from storage.portfolio_store import client_by_id, timezone_of
from usecases import qbr_actions, report_actions


def _id(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _post(
    context: BoltContext, web: WebClient, user: str, report_id: int | None, text: str | None
) -> None:
    deps = deps_of(context)
    with deps.db.transaction() as tx:
        found = report_store.get(tx, report_id) if report_id is not None else None
        client = client_by_id(tx, found.client_id) if found is not None else None
        outsider = refusal(tx, user, Need.MEMBER)
        if outsider:
            told = outsider
        elif found is None or client is None:
            told = "That report is gone."
        else:
            told = (
                refusal(tx, user, Need.CLIENT_TEAM, client)
                or report_actions.post(
                    tx, deps, web, client, found.id, by=user, now=deps.clock.now(), text=text
                ).text
            )
    web.chat_postMessage(channel=user, text=told)


def post_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    actions = BlockActions.model_validate(body)
    report_id = _id(actions.action.value)
    after_ack(context, lambda: _post(context, client, actions.user.id, report_id, None))


def edit_clicked(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    actions = BlockActions.model_validate(body)
    deps = deps_of(context)
    report_id = _id(actions.action.value)

    def open_form() -> None:
        user = actions.user.id
        with deps.db.session() as tx:
            found = report_store.get(tx, report_id) if report_id is not None else None
            target = client_by_id(tx, found.client_id) if found is not None else None
            refused = refusal(tx, user, Need.CLIENT_TEAM, target) if target else None
            refused = refused or refusal(tx, user, Need.MEMBER)
            view = views.edit_modal(found.id, target.name, found.text) if found and target else None
        if refused:
            client.chat_postMessage(channel=user, text=refused)
        elif view is None:
            client.chat_postMessage(channel=user, text="That report is gone.")
        else:
            client.views_open(trigger_id=actions.trigger_id, view=view)

    on_ack(context, open_form)


def edit_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    sub = ViewSubmission.model_validate(body)
    text = (sub.value("report") or "").strip()
    if not text:
        ack(response_action="errors", errors={"report": "The report is empty."})
        return
    ack()
    report_id = _id(sub.private_metadata)
    after_ack(context, lambda: _post(context, client, sub.user.id, report_id, text))


def _audit(call: Call[AuditRequest]) -> Reply:
    client = call.client
    assert client is not None  # slug_of names it; the helper resolved and checked it
    tz = timezone_of(call.tx, client)
    today = call.now.astimezone(tz).date()
    year, month = call.request.month or (today.year, today.month)
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    document = qbr_actions.audit_document(call.tx, client, start, end, "md", call.now)
    label = f"{start:%Y-%m}"
    web = call.deps.slack
    if web is None:
        return Reply(text=views.audit_not_sent("Slack is not configured"))
    try:
        dm = web.conversations_open(users=client.cso_id)
        channel = str((dm.get("channel") or {}).get("id") or client.cso_id)
        web.files_upload_v2(
            channel=channel,
            content=document,
            filename=f"audit-{client.slug}-{label}.md",
            title=f"Value Realization Audit {label} — {client.name}",
            initial_comment=f"Value Realization Audit {label} for {client.name}, from the record.",
        )
    except SlackApiError as err:
        reason = err.response.get("error", "") if err.response is not None else ""
        return Reply(text=views.audit_not_sent(str(reason)))
    return Reply(text=views.audit_sent(label, client.name, client.cso_id, call.user_id))


AUDIT = Command(
    name="/audit",
    usage=AUDIT_USAGE,
    parse=parse_audit,
    need=Need.CLIENT_TEAM,
    works=_audit,
    slug_of=lambda request: request.slug,
)


def register(app: App) -> None:
    register_command(app, AUDIT)
    registry.action(app, views.POST_ACTION, post_clicked, Need.CLIENT_TEAM)
    registry.action(app, views.EDIT_ACTION, edit_clicked, Need.CLIENT_TEAM)
    registry.view(app, views.EDIT_CALLBACK, edit_submitted, Need.CLIENT_TEAM)
