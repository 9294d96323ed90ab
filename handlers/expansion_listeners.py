"""/expansion acme [add 30000 "EMEA analytics seats" [next: "…"]] and the stage buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from domain.access import Need
from domain.commands import CommandError
from domain.expansion import (
    EXPANSION_USAGE,
    AddOpportunity,
    ExpansionRequest,
    Stage,
    parse_expansion,
)
from handlers import registry
from handlers.authz import refusal
from handlers.common import BlockActions, after_ack, deps_of
from handlers.slash import Call, Command, Reply, register_command
from prompts import expansion_views as views
from storage import expansion_store
from storage.expansion_store import pulse_hooks
from storage.portfolio_store import client_by_id
from usecases import expansion_actions as expansion


def parse(text: str) -> ExpansionRequest:
    try:
        return parse_expansion(text)
    except ValueError as err:
        raise CommandError(f"{str(err).capitalize()}.") from None


def works(call: Call[ExpansionRequest]) -> Reply:
    client, request = call.client, call.request
    assert client is not None
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


def register(app: App) -> None:
    register_command(app, EXPANSION)
    registry.action(app, views.STAGE_ACTION, on_stage, Need.CLIENT_TEAM)
