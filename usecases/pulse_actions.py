"""What /pulse does: record what the CSO says about a client at stand-up, and assemble the
cards of the person's clients (docs/process.md, "Partnership Pulse")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.pulse import PulseCard, PulseUpdate
from domain.records import Client, clients_of_person
from storage.activity_store import record_pulse
from storage.db import Transaction
from storage.portfolio_store import active_clients, organization, people_by_slack_ids
from storage.pulse_store import load_cards
from usecases.lifecycle_actions import lifecycle_labels


def record_update(
    tx: Transaction,
    *,
    client: Client,
    update: PulseUpdate,
    by: str,
    now: datetime,
    request_key: str | None = None,
) -> bool:
    """Record a pulse; a replayed request (same key) is recorded once. True when new."""
    return record_pulse(
        tx,
        client_id=client.id,
        sentiment=update.sentiment.value,
        hook=update.hook,
        update=update.update,
        note=update.note,
        by=by,
        now=now,
        request_key=request_key,
    )


@dataclass(frozen=True)
class Cards:
    cards: list[PulseCard]
    client_channels: frozenset[str]  # never shared into: the clients would read them


def cards_of(tx: Transaction, user_id: str, now: datetime) -> Cards:
    """The cards of the person's own clients (the clients, people and organization read once
    for the cards and their stages)."""
    clients = active_clients(tx)
    mine = clients_of_person(clients, user_id)
    channels = frozenset(c.client_channel for c in clients if c.client_channel)
    # The people read are those the cards need: each client's CSO (its timezone).
    people, org = people_by_slack_ids(tx, {c.cso_id for c in mine}), organization(tx)
    stages = lifecycle_labels(tx, mine, now, people=people, org=org)
    cards = [
        c.model_copy(update={"stage": stages.get(c.slug)})
        for c in load_cards(tx, mine, now, people=people, org=org)
    ]
    return Cards(cards, channels)
