"""Authorization for every command, button and form (the rules: domain/access.py).

`handlers.common.gate`, a global middleware, refuses whoever is not an active person in the
portfolio — client contacts in Slack Connect channels and strangers — before any listener of a
command or interaction reads or writes anything; modals opened while Slack waits are checked by
`handlers.common.on_ack` the same way. Client-scoped listeners then call `refusal(...)` with
the client they resolved.
"""

from __future__ import annotations

import logging

from domain.access import Actor, Need, Refusal, decide
from domain.portfolio import Role
from domain.records import Client
from prompts.render import render
from storage.db import Transaction
from storage.portfolio_store import person_by_slack_id

logger = logging.getLogger(__name__)


def actor(session: Transaction, user_id: str) -> Actor:
    person = person_by_slack_id(session, user_id)
    if person is None or not person.active:
        return Actor(user_id, None)
    try:
        return Actor(user_id, Role(person.role))
    except ValueError:
        return Actor(user_id, None)


def refusal_text(reason: Refusal, client_name: str | None = None) -> str:
    return render("messages/refused.j2", reason=reason.value, client_name=client_name or "")


def refusal(
    session: Transaction, user_id: str, need: Need, client: Client | None = None
) -> str | None:
    """None when `user_id` may act (on `client`, for a client-scoped need); else the refusal
    to show them."""
    team = client.team_ids() if client is not None else set()
    reason = decide(actor(session, user_id), need, team)
    if reason is None:
        return None
    logger.info(
        "refused %s for %s (%s)", need.value, user_id, client.slug if client else "no client"
    )
    return refusal_text(reason, client.name if client else None)
