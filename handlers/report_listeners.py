"""The weekly Client Health Report's buttons (docs/process.md, "Client Health Report"): *Post*
posts the draft to the client's internal channel; *Edit and post* opens it in a form whose
submission posts the edited text. Each click: one transaction, the client's team only."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from domain.access import Need
from handlers import registry
from handlers.authz import refusal
from handlers.common import BlockActions, ViewSubmission, after_ack, deps_of, on_ack
from prompts import report_views as views
from storage import report_store
from storage.portfolio_store import client_by_id
from usecases import report_actions


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
        if found is None or client is None:
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
        with deps.db.session() as tx:
            found = report_store.get(tx, report_id) if report_id is not None else None
            target = client_by_id(tx, found.client_id) if found is not None else None
            if found is None or target is None:
                return
            if refusal(tx, actions.user.id, Need.CLIENT_TEAM, target):
                return
            view = views.edit_modal(found.id, target.name, found.text)
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


def register(app: App) -> None:
    registry.action(app, views.POST_ACTION, post_clicked, Need.CLIENT_TEAM)
    registry.action(app, views.EDIT_ACTION, edit_clicked, Need.CLIENT_TEAM)
    registry.view(app, views.EDIT_CALLBACK, edit_submitted, Need.CLIENT_TEAM)
