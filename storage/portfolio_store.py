"""Portfolio persistence: an idempotent upsert in one transaction, and look-ups."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from domain import records
from domain.portfolio import ClientSpec, OrganizationSpec, PersonSpec, Portfolio
from storage.connector_store import save_sources
from storage.models import Client, Organization, Person
from storage.org_settings_store import organization_row
from storage.qbr_store import save_success_plans


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
    org = organization_row(session)
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
    save_sources(session, {c.slug: c.connector_sources() for c in portfolio.clients})
    save_success_plans(session, {c.slug: c.success_criteria for c in portfolio.clients})
    return result


def add_client(session: Session, spec: ClientSpec) -> records.Client:
    """Insert one client, with the same values the import writes. The caller validated it
    against the portfolio (domain.portfolio.check_references) and owns the transaction."""
    row = Client(slug=spec.slug, **_client_values(spec))
    session.add(row)
    session.flush()
    save_sources(session, {spec.slug: spec.connector_sources()})
    save_success_plans(session, {spec.slug: spec.success_criteria})
    return client_record(row)


def portfolio_of(session: Session) -> Portfolio:
    """The stored portfolio as the file's schema: what a new client is checked against."""
    org = organization(session)
    people = [
        PersonSpec(slack_id=p.slack_id, name=p.name, role=p.role, timezone=p.timezone)
        for p in people_by_id(session).values()
        if p.active
    ]
    clients = [
        ClientSpec(
            slug=c.slug,
            name=c.name,
            cso=c.cso_id,
            service_lead=c.service_lead_id,
            engagement_partner=c.engagement_partner_id,
            client_channel=c.client_channel,
            internal_channel=c.internal_channel,
        )
        for c in (client_record(r) for r in session.scalars(select(Client)))
    ]
    return Portfolio(organization=OrganizationSpec(name=org.name), people=people, clients=clients)


class NoOrganization(LookupError):
    """No portfolio was imported yet: there is no organization to report on."""


def organization_record(row: Organization) -> records.Organization:
    return records.Organization(
        id=row.id,
        name=row.name,
        timezone=row.timezone or "UTC",
        holidays_country=row.holidays_country or "",
        holidays_subdiv=row.holidays_subdiv,
        leadership_channel=row.leadership_channel,
        settings=row.settings if row.settings is not None else {},
    )


def person_record(row: Person) -> records.Person:
    return records.Person(
        id=row.id,
        slack_id=row.slack_id,
        name=row.name,
        role=row.role,
        timezone=row.timezone,
        email=row.email,
        active=row.active,
    )


# records.Client's fields, in order: the columns `active_clients` reads, taken by position.
_CLIENT_FIELDS = tuple(f.name for f in dataclass_fields(records.Client))
_ARR, _CONTACTS = _CLIENT_FIELDS.index("arr"), _CLIENT_FIELDS.index("contacts")


def client_record(row: Client | Row[Any]) -> records.Client:
    """The record of a client, from its mapped object or a row of its table's columns."""
    return _client([getattr(row, name) for name in _CLIENT_FIELDS])


def _client(values: list[Any]) -> records.Client:
    """A client record from its columns in `_CLIENT_FIELDS` order."""
    values[_ARR] = float(values[_ARR] or 0)
    values[_CONTACTS] = tuple(values[_CONTACTS] or ())
    return records.Client(*values)


def organization(session: Session) -> records.Organization:
    """The organization, or a stand-in with defaults (UTC, no holidays) before any import."""
    org = organization_row(session)
    return organization_record(org) if org is not None else records.Organization()


def require_organization(session: Session) -> records.Organization:
    """The imported organization; NoOrganization when no portfolio was imported yet."""
    org = organization_row(session)
    if org is None:
        raise NoOrganization
    return organization_record(org)


def client_timezone(
    client: records.Client, people: dict[str, records.Person], org: records.Organization
) -> ZoneInfo:
    """The client's own timezone, else its CSO's, else the organization's."""
    cso = people.get(client.cso_id)
    name = client.timezone or (cso.timezone if cso else None) or org.timezone or "UTC"
    return ZoneInfo(name)


def timezone_of(session: Session, client: records.Client) -> ZoneInfo:
    """`client_timezone`, with the client's CSO and the organization read here."""
    return timezones_of(session, [client])[client.id]


def timezones_of(session: Session, clients: Collection[records.Client]) -> dict[int, ZoneInfo]:
    """Each client's `client_timezone`, by id: the CSOs of those without a timezone of their
    own, and the organization, read here."""
    csos = people_by_slack_ids(session, {c.cso_id for c in clients if not c.timezone})
    org = organization(session)
    return {c.id: client_timezone(c, csos, org) for c in clients}


def person_timezone(session: Session, slack_id: str) -> ZoneInfo:
    """The person's timezone, else the organization's, else UTC."""
    person = person_by_slack_id(session, slack_id)
    name = (person.timezone if person else None) or organization(session).timezone
    return ZoneInfo(name or "UTC")


def people_by_id(session: Session) -> dict[str, records.Person]:
    return {p.slack_id: person_record(p) for p in session.scalars(select(Person))}


# More Slack ids than this are read as all the people (the drivers bind each id separately).
MANY_PEOPLE = 500


def people_by_slack_ids(session: Session, slack_ids: Collection[str]) -> dict[str, records.Person]:
    """Only these people (those of them on record), by Slack id: what one request needs,
    without reading the whole organization's people."""
    wanted = sorted(set(slack_ids))
    if not wanted:
        return {}
    if len(wanted) > MANY_PEOPLE:  # a whole portfolio's CSOs: one read of all, no long list
        everyone = people_by_id(session)
        return {i: everyone[i] for i in wanted if i in everyone}
    rows = session.scalars(select(Person).where(Person.slack_id.in_(wanted)))
    return {p.slack_id: person_record(p) for p in rows}


def person_by_slack_id(session: Session, slack_id: str) -> records.Person | None:
    row = session.scalars(select(Person).where(Person.slack_id == slack_id)).first()
    return person_record(row) if row is not None else None


def active_clients(session: Session) -> list[records.Client]:
    """Every active client, by slug: read as plain rows (the digest and the tick read all of
    them; loading each into the session as an object cost more than the query)."""
    columns = [Client.__table__.c[name] for name in _CLIENT_FIELDS]
    rows = session.execute(select(*columns).where(Client.active).order_by(Client.slug))
    return [_client(list(row)) for row in rows]


def client_by_id(session: Session, client_id: int) -> records.Client | None:
    row = session.get(Client, client_id)
    return client_record(row) if row is not None else None


def client_by_slug(session: Session, slug: str) -> records.Client | None:
    row = session.scalars(select(Client).where(Client.slug == slug.lower())).first()
    return client_record(row) if row is not None else None


def client_by_channel(session: Session, channel: str) -> records.Client | None:
    row = session.scalars(
        select(Client).where(Client.client_channel == channel, Client.active)
    ).first()
    return client_record(row) if row is not None else None


def clients_of(session: Session, slack_id: str) -> list[records.Client]:
    """Clients a person owns as CSO; failing that, the ones they serve on."""
    return records.clients_of_person(active_clients(session), slack_id)
