"""/intervention acme "reason" — record a founder intervention by hand; *Not an intervention*
on the DM that says one was recorded dismisses it (the founder or the head of delivery)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from domain.access import Need
from domain.commands import CommandError
from handlers import registry
from handlers.authz import refusal
from handlers.common import BlockActions, after_ack, deps_of
from handlers.slash import Call, Command, Reply, register_command
from prompts.intervention_views import (
    DISMISS_ACTION,
    INTERVENTION_USAGE,
    dismissed,
    recorded_reply,
)
from storage.intervention_store import dismiss_intervention, intervention_by_id
from usecases.intervention_actions import record_by_hand


@dataclass(frozen=True)
class InterventionRequest:
    slug: str
    reason: str


def parse_intervention(text: str) -> InterventionRequest:
    try:
        words = shlex.split(text.strip())
    except ValueError:
        raise CommandError("Close the quotes around the reason.") from None
    if len(words) < 2:
        raise CommandError("Name the client and say why a founder stepped in.")
    return InterventionRequest(slug=words[0].lower(), reason=" ".join(words[1:]))


def record(call: Call[InterventionRequest]) -> Reply:
    assert call.client is not None
    new = record_by_hand(
        call.tx,
        call.client,
        call.request.reason,
        by=call.user_id,
        now=call.now,
        request_key=call.request_key,
    )
    return Reply(text=recorded_reply(call.client.name, call.request.reason, new))


INTERVENTION = Command(
    name="/intervention",
    usage=INTERVENTION_USAGE,
    parse=parse_intervention,
    need=Need.CLIENT_TEAM,
    works=record,
    slug_of=lambda request: request.slug,
)


def on_dismiss(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """One click: not an intervention. For leadership (the founder, the head of delivery)."""
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)

    def work() -> None:
        raw = act.action.value or ""
        with deps.db.transaction() as tx:
            refused = refusal(tx, act.user.id, Need.LEADERSHIP)
            row = intervention_by_id(tx, int(raw)) if raw.isdigit() else None
            done = (
                False
                if refused or row is None
                else dismiss_intervention(tx, row.id, by=act.user.id, now=deps.clock.now())
            )
        respond(text=refused or dismissed(done), response_type="ephemeral", replace_original=False)

    after_ack(context, work)


def register(app: App) -> None:
    register_command(app, INTERVENTION)
    registry.action(app, DISMISS_ACTION, on_dismiss, Need.LEADERSHIP)
