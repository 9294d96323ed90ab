"""Portfolio persistence: an idempotent upsert in one transaction, and look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.portfolio import ClientSpec, OrganizationSpec, PersonSpec, Portfolio
from storage.models import Client, Organization, Person


@dataclass
class ImportResult:
    people_added: int = 0
    people_updated: int = 0
    clients_added: int = 0
    clients_updated: int = 0

    def summary(self) -> str:
        return (
            f"people: {self.people_added} added, {self.people_updated} updated; "
            f"clients: {self.clients_added} added, {self.clients_updated} updated"
        )


def _apply(row: object, values: dict[str, object]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def _org_values(org: OrganizationSpec) -> dict[str, object]:
    return {
        "name": org.name,
        "timezone": org.timezone,
        "holidays_country": org.holidays,
        "holidays_subdiv": org.holidays_subdiv,
        "leadership_channel": org.leadership_channel,
        "settings": org.settings,
    }


def _person_values(p: PersonSpec) -> dict[str, object]:
    return {
        "name": p.name,
        "role": p.role.value,
        "timezone": p.timezone,
        "email": p.email,
        "active": True,
    }


def _client_values(c: ClientSpec) -> dict[str, object]:
    return {
        "name": c.name,
        "cso_id": c.cso,
        "service_lead_id": c.service_lead,
        "engagement_partner_id": c.engagement_partner,
        "client_channel": c.client_channel,
        "internal_channel": c.internal_channel,
        "segment": c.segment.value,
        "arr": float(c.arr),
        "contract_start": c.contract_start,
        "contract_end": c.contract_end,
        "timezone": c.timezone,
        "contacts": list(c.contacts),
        "licensed_seats": c.licensed_seats,
        "active": True,
    }


def import_portfolio(session: Session, portfolio: Portfolio) -> ImportResult:
    """Upsert organization, people and clients. The caller owns the transaction."""
    result = ImportResult()
    org = session.get(Organization, 1)
    if org is None:
        org = Organization(id=1)
        session.add(org)
    _apply(org, _org_values(portfolio.organization))

    people = {p.slack_id: p for p in session.scalars(select(Person))}
    for spec in portfolio.people:
        row = people.get(spec.slack_id)
        if row is None:
            session.add(Person(slack_id=spec.slack_id, **_person_values(spec)))
            result.people_added += 1
        elif _apply(row, _person_values(spec)):
            result.people_updated += 1

    clients = {c.slug: c for c in session.scalars(select(Client))}
    updates: list[tuple[Client, dict[str, object]]] = []
    for cspec in portfolio.clients:
        values = _client_values(cspec)
        crow = clients.get(cspec.slug)
        if crow is None:
            continue
        if any(getattr(crow, k) != v for k, v in values.items()):
            result.clients_updated += 1
            updates.append((crow, values))
    # Release changed channel ids first, so that moving a channel between clients never
    # trips the unique constraint half-way through the transaction.
    for crow, values in updates:
        if crow.client_channel != values["client_channel"]:
            crow.client_channel = None
    session.flush()
    for crow, values in updates:
        _apply(crow, values)
    for cspec in portfolio.clients:
        if cspec.slug not in clients:
            session.add(Client(slug=cspec.slug, **_client_values(cspec)))
            result.clients_added += 1
    session.flush()
    return result


class NoOrganization(LookupError):
    """No portfolio was imported yet: there is no organization to report on."""


def organization(session: Session) -> Organization:
    """The organization, or a stand-in with defaults (UTC, no holidays) before any import."""
    org = session.get(Organization, 1)
    return org if org is not None else Organization(id=1, timezone="UTC", holidays_country="")


def require_organization(session: Session) -> Organization:
    """The imported organization; NoOrganization when no portfolio was imported yet."""
    org = session.get(Organization, 1)
    if org is None:
        raise NoOrganization
    return org


def client_timezone(client: Client, people: dict[str, Person], org: Organization) -> ZoneInfo:
    """The client's own timezone, else its CSO's, else the organization's."""
    cso = people.get(client.cso_id)
    name = client.timezone or (cso.timezone if cso else None) or org.timezone or "UTC"
    return ZoneInfo(name)


def people_by_id(session: Session) -> dict[str, Person]:
    return {p.slack_id: p for p in session.scalars(select(Person))}


def active_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).where(Client.active).order_by(Client.slug)))


def client_by_slug(session: Session, slug: str) -> Client | None:
    return session.scalars(select(Client).where(Client.slug == slug.lower())).first()


def client_by_channel(session: Session, channel: str) -> Client | None:
    return session.scalars(
        select(Client).where(Client.client_channel == channel, Client.active)
    ).first()


def clients_of(session: Session, slack_id: str) -> list[Client]:
    """Clients a person owns as CSO; failing that, the ones they serve on."""
    clients = active_clients(session)
    owned = [c for c in clients if c.cso_id == slack_id]
    return owned or [c for c in clients if slack_id in c.team_ids()]


def format_portfolio(session: Session) -> str:
    org = organization(session)
    people = people_by_id(session)
    lines = [
        f"{org.name} — timezone {org.timezone}, holidays {org.holidays_country or 'none'}, "
        f"leadership channel {org.leadership_channel or '-'}",
        "",
        "People:",
    ]
    for p in sorted(people.values(), key=lambda p: (p.role, p.name)):
        lines.append(f"  {p.slack_id:<12} {p.name:<24} {p.role:<20} {p.timezone or '-'}")
    lines += ["", "Clients:"]
    for c in active_clients(session):
        cso = people.get(c.cso_id)
        end = c.contract_end.isoformat() if c.contract_end else "-"
        lines.append(
            f"  {c.slug:<14} {c.name:<24} CSO {cso.name if cso else c.cso_id:<18} "
            f"{c.segment:<11} ARR {c.arr:>12,.0f}  ends {end}  channel {c.client_channel or '-'}"
        )
    if len(lines) == 5:
        lines.append("  (none yet: run `csobot portfolio import FILE.yaml`)")
    return "\n".join(lines)
