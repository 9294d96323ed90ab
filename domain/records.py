"""The core nouns as plain records: what storage hands to the layers above it.

Storage maps its rows onto these (only `storage/` knows the tables); listeners, jobs and use
cases read them and never hold a database row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Organization:
    id: int = 1
    name: str = "Our team"
    timezone: str = "UTC"
    holidays_country: str = ""
    holidays_subdiv: str | None = None
    leadership_channel: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Person:
    id: int
    slack_id: str
    name: str
    role: str
    timezone: str | None = None
    email: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Client:
    id: int
    slug: str
    name: str
    cso_id: str
    service_lead_id: str | None = None
    engagement_partner_id: str | None = None
    client_channel: str | None = None
    internal_channel: str | None = None
    segment: str = "mid_market"
    arr: float = 0.0
    contract_start: date | None = None
    contract_end: date | None = None
    timezone: str | None = None
    contacts: tuple[str, ...] = ()
    licensed_seats: int | None = None
    active: bool = True

    def team_ids(self) -> set[str]:
        return {i for i in (self.cso_id, self.service_lead_id, self.engagement_partner_id) if i}


def clients_of_person(clients: Iterable[Client], slack_id: str) -> list[Client]:
    """The clients a person owns as CSO; failing that, the ones they serve on."""
    clients = list(clients)
    owned = [c for c in clients if c.cso_id == slack_id]
    return owned or [c for c in clients if slack_id in c.team_ids()]
