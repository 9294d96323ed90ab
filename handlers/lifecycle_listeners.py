"""/client new (the modal), /onboarding (the checklist and its buttons) and /closeout (the
project-end checklist and the drafted impact report)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from domain.access import Need
from domain.lifecycle_commands import (
    CLIENT_USAGE,
    CLOSEOUT_USAGE,
    ONBOARDING_USAGE,
    CloseoutRequest,
    NewClient,
    OnboardingRequest,
    client_form_data,
    parse_client,
    parse_closeout,
    parse_onboarding,
)
from handlers import registry
from handlers.authz import refusal
from handlers.common import BlockActions, ViewSubmission, after_ack, deps_of, tell
from handlers.slash import Call, Command, Reply, register_command
from prompts import lifecycle_views as views
from storage import lifecycle_store
from storage.portfolio_store import client_by_id, clients_of
from usecases import lifecycle_actions as lifecycle
from usecases.deps import Deps

logger = logging.getLogger(__name__)


# -- /client new -------------------------------------------------------------------------------
def client_works(call: Call[NewClient]) -> Reply:
    return Reply()  # the form was opened while Slack waited


def client_opens(call: Call[NewClient]) -> dict[str, Any] | None:
    if refusal(call.tx, call.user_id, Need.CLIENT_CREATOR):
        return None  # the work after the ack says why
    return views.new_client_modal()


CLIENT = Command(
    name="/client",
    usage=CLIENT_USAGE,
    parse=parse_client,
    need=Need.CLIENT_CREATOR,
    works=client_works,
    opens=client_opens,
)


def _form_values(sub: ViewSubmission) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block_id, element in sub.values.items():
        if element.get("selected_users") is not None:
            values[block_id] = list(element["selected_users"])
        else:
            values[block_id] = sub.value(block_id)
    return values


def client_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    sub = ViewSubmission.model_validate(body)
    deps = deps_of(context)
    user = sub.user.id
    data = client_form_data(_form_values(sub))
    with deps.db.session() as tx:
        refused = refusal(tx, user, Need.CLIENT_CREATOR)
        checked = None if refused else lifecycle.check_new_client(tx, data)
    if isinstance(checked, dict):
        ack(response_action="errors", errors=checked)
        return
    ack()

    def work() -> None:
        if refused:
            tell(context, refused)
            return
        with deps.db.transaction() as tx:
            created = lifecycle.create_client(tx, data, by=user, now=deps.clock.now())
        if created.client is None:  # added meanwhile by someone else: say what clashed
            text = "The client was not created: " + "; ".join(
                f"{k}: {v}" for k, v in created.errors.items()
            )
        else:
            text = created.text
        client.chat_postMessage(channel=user, text=text)

    after_ack(context, work)


# -- /onboarding --------------------------------------------------------------------------------
def onboarding_works(call: Call[OnboardingRequest]) -> Reply:
    request = call.request
    if call.client is None:
        rows = lifecycle.home_rows(call.tx, clients_of(call.tx, call.user_id), call.now)
        if not rows:
            return Reply(text="None of your clients is onboarding. " + ONBOARDING_USAGE)
        lines = [
            f"• {name} ({slug}): {p.done}/{p.total}, {len(p.overdue)} overdue"
            for name, slug, p, _ in rows
        ]
        return Reply(text="Onboarding now:\n" + "\n".join(lines))
    if request.action == "kickoff":
        assert request.day is not None
        return Reply(text=lifecycle.schedule_kickoff(call.tx, call.client, request.day))
    if request.action == "hours":
        assert request.hours is not None
        text = lifecycle.log_hours(
            call.tx,
            call.client,
            by=call.user_id,
            hours=request.hours,
            now=call.now,
            request_key=call.request_key,
        )
        return Reply(text=text)
    view = lifecycle.onboarding_view(call.tx, call.client, call.now)
    return Reply(text=view.text, blocks=view.blocks)


ONBOARDING = Command(
    name="/onboarding",
    usage=ONBOARDING_USAGE,
    parse=parse_onboarding,
    need=Need.CLIENT_TEAM,
    works=onboarding_works,
    slug_of=lambda request: request.slug,
)


def _clicked_item(body: dict[str, Any]) -> tuple[BlockActions, int | None]:
    actions = BlockActions.model_validate(body)
    try:
        return actions, int(actions.action.value or "")
    except ValueError:
        return actions, None


def tick_clicked(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    after_ack(context, lambda: _tick(deps, body, respond, context, closeout=False))


def closeout_tick_clicked(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    after_ack(context, lambda: _tick(deps, body, respond, context, closeout=True))


def _tick(
    deps: Deps, body: dict[str, Any], respond: Respond, context: BoltContext, *, closeout: bool
) -> None:
    """One click, one transaction: whose client it is, their say-so, the tick."""
    actions, item_id = _clicked_item(body)
    user = actions.user.id
    with deps.db.transaction() as tx:
        found: tuple[int, Any] | None = None
        if item_id is not None:
            found = (
                lifecycle_store.closeout_item(tx, item_id)
                if closeout
                else lifecycle_store.item_by_id(tx, item_id)
            )
        owner = client_by_id(tx, found[0]) if found else None
        if owner is None or item_id is None:
            tell(context, "That item no longer exists: run the command again.")
            return
        refused = refusal(tx, user, Need.CLIENT_TEAM, owner)
        if refused:
            tell(context, refused)
            return
        now = deps.clock.now()
        tick = lifecycle.tick_closeout if closeout else lifecycle.tick_item
        ticked = tick(tx, item_id, by=user, now=now)
        view = lifecycle.onboarding_view(tx, owner, now) if ticked.ok and not closeout else None
    ephemeral = bool((actions.container or {}).get("is_ephemeral"))
    if view is not None and actions.response_url and ephemeral:
        respond(text=view.text, blocks=view.blocks, replace_original=True)
    tell(context, ticked.text)


# -- /closeout ----------------------------------------------------------------------------------
def closeout_works(call: Call[CloseoutRequest]) -> Reply:
    assert call.client is not None
    view = lifecycle.start_closeout(
        call.tx, call.client, by=call.user_id, now=call.now, note=call.request.note
    )
    return Reply(text=view.text, blocks=view.blocks)


CLOSEOUT = Command(
    name="/closeout",
    usage=CLOSEOUT_USAGE,
    parse=parse_closeout,
    need=Need.CLIENT_TEAM,
    works=closeout_works,
    slug_of=lambda request: request.slug,
)


def register(app: App) -> None:
    for command in (CLIENT, ONBOARDING, CLOSEOUT):
        register_command(app, command)
    registry.view(app, views.NEW_CLIENT_CALLBACK, client_submitted, Need.CLIENT_CREATOR)
    registry.action(app, views.TICK_ACTION, tick_clicked, Need.CLIENT_TEAM)
    registry.action(app, views.CLOSEOUT_TICK_ACTION, closeout_tick_clicked, Need.CLIENT_TEAM)
