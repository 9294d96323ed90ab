"""The portfolio file: organization, people and clients, validated with clear errors."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.calendar import validate_holiday_country
from domain.delivery import ConnectorSources, LinearSource, check_repos
from domain.value import SuccessCriterion


class Role(StrEnum):
    CSO = "cso"
    SERVICE_LEAD = "service_lead"
    ENGAGEMENT_PARTNER = "engagement_partner"
    HEAD_OF_DELIVERY = "head_of_delivery"
    FOUNDER = "founder"


LEADERSHIP_ROLES = frozenset({Role.HEAD_OF_DELIVERY, Role.FOUNDER})


class Segment(StrEnum):
    ENTERPRISE = "enterprise"
    MID_MARKET = "mid_market"
    SMB = "smb"


_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _check_tz(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'unknown timezone "{value}" (use an IANA name like America/New_York)'
        ) from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganizationSpec(_Strict):
    name: str = "Our team"
    timezone: str = "UTC"
    holidays: str = Field(default="", description="ISO country code for public holidays")
    holidays_subdiv: str | None = None
    leadership_channel: str | None = None
    # Later features keep their overrides here (cadences, health models, flag maps...).
    settings: dict[str, Any] = Field(default_factory=dict)

    _tz = field_validator("timezone")(_check_tz)

    @model_validator(mode="after")
    def _holidays_known(self) -> OrganizationSpec:
        validate_holiday_country(self.holidays, self.holidays_subdiv)
        return self


class PersonSpec(_Strict):
    slack_id: str
    name: str
    role: Role
    timezone: str | None = None
    email: str | None = None

    _tz = field_validator("timezone")(_check_tz)


class HandoffSpec(_Strict):
    """The sales handoff (AE -> CSO): who is who, why they bought, when things happen."""

    stakeholders: str = ""  # the stakeholder map: name, title, role in the deal
    deal_context: str = ""
    timeline: str = ""  # the implementation timeline agreed in the sale


class ClientSpec(_Strict):
    slug: str
    name: str
    cso: str
    service_lead: str | None = None
    engagement_partner: str | None = None
    client_channel: str | None = None
    internal_channel: str | None = None
    segment: Segment = Segment.MID_MARKET
    arr: float = Field(default=0, ge=0)
    contract_start: date | None = None
    contract_end: date | None = None
    timezone: str | None = None
    contacts: list[str] = Field(default_factory=list)
    licensed_seats: int | None = Field(default=None, ge=0)
    # The lifecycle (docs/process.md, "Onboarding"): a client with a signature date gets an
    # onboarding checklist for its segment when it is added.
    signed_on: date | None = None
    kickoff_on: date | None = None
    ae: str | None = None  # the account executive's Slack id
    handoff: HandoffSpec | None = None
    # The delivery board (docs/process.md, "Linear and GitHub"): `linear: {team: KEY,
    # project: ...}` and `github: [owner/repo, ...]`.
    linear: LinearSource | None = None
    github: list[str] = Field(default_factory=list)
    # What the client bought us for, `success_criteria: [{goal, metric, target}]` (or plain
    # goals, one string each): the handoff, the QBR, the EBR and the audit read them —
    # docs/process.md, "QBR/EBR and the Value Realization Audit".
    success_criteria: list[SuccessCriterion] = Field(default_factory=list)

    _tz = field_validator("timezone")(_check_tz)

    _repos = field_validator("github")(check_repos)

    @model_validator(mode="after")
    def _dates(self) -> ClientSpec:
        if self.signed_on and self.kickoff_on and self.kickoff_on < self.signed_on:
            raise ValueError("kickoff_on: must not be before signed_on")
        return self

    def connector_sources(self) -> ConnectorSources:
        return ConnectorSources(linear=self.linear, github=self.github)

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError(f'"{v}" is not a slug: use lowercase letters, digits, - and _')
        return v

    def team(self) -> dict[str, str]:
        team = {"cso": self.cso}
        if self.service_lead:
            team["service_lead"] = self.service_lead
        if self.engagement_partner:
            team["engagement_partner"] = self.engagement_partner
        return team


class Portfolio(_Strict):
    organization: OrganizationSpec = Field(default_factory=OrganizationSpec)
    people: list[PersonSpec] = Field(default_factory=list)
    clients: list[ClientSpec] = Field(default_factory=list)


class PortfolioError(ValueError):
    """A bad portfolio file: each problem names the entry and the field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _entry_label(data: Any, loc: tuple[Any, ...]) -> str:
    """Turn a pydantic error location into `clients[1] (beta).contract_end`."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            entry = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(entry, dict):
                key = entry.get("slug") or entry.get("slack_id")
                if key:
                    label += f" ({key})"
            parts.append(label)
            node = entry
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings: pydantic parses them and names the field."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def parse_portfolio(text: str) -> Portfolio:
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise PortfolioError([f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    if not isinstance(data, dict):
        raise PortfolioError(["the file must be a mapping with organization, people and clients"])
    try:
        portfolio = Portfolio.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{_entry_label(data, tuple(err['loc']))}: {msg}")
        raise PortfolioError(problems) from None
    # Imported here: the settings' modules (cadence, health) import this one.
    from domain.org_settings import OrgSettingsError, parse_org_settings

    try:
        parse_org_settings(portfolio.organization.settings)
    except OrgSettingsError as err:
        raise PortfolioError([f"organization.{p}" for p in err.problems]) from None
    check_references(portfolio)
    return portfolio


def check_references(portfolio: Portfolio) -> None:
    problems: list[str] = []
    people = {}
    for i, person in enumerate(portfolio.people):
        if person.slack_id in people:
            problems.append(f"people[{i}] ({person.slack_id}).slack_id: listed twice")
        people[person.slack_id] = person
    slugs: set[str] = set()
    channels: dict[str, str] = {}
    for i, client in enumerate(portfolio.clients):
        label = f"clients[{i}] ({client.slug})"
        if client.slug in slugs:
            problems.append(f"{label}.slug: listed twice")
        slugs.add(client.slug)
        for field, slack_id in client.team().items():
            if slack_id not in people:
                problems.append(f"{label}.{field}: {slack_id} is not in people")
        if client.cso in people and people[client.cso].role not in (Role.CSO, *LEADERSHIP_ROLES):
            problems.append(
                f"{label}.cso: {client.cso} has role {people[client.cso].role.value}, not cso"
            )
        for field in ("client_channel", "internal_channel"):
            channel = getattr(client, field)
            if channel:
                if channel in channels:
                    problems.append(
                        f"{label}.{field}: {channel} is already used by {channels[channel]}"
                    )
                channels[channel] = client.slug
        if client.client_channel and client.client_channel == client.internal_channel:
            problems.append(f"{label}.internal_channel: must differ from client_channel")
    if problems:
        raise PortfolioError(problems)
