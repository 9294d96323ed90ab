"""A client's life in the bot (docs/process.md, "Onboarding" and "Project close-out and the
asset pivot"): a new client from the modal or the portfolio file through one writer, its
onboarding checklist, the lifecycle stage, the protocol timers' messages and the close-out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from domain import records
from domain.calendar import WorkCalendar, local_date
from domain.health import Band
from domain.onboarding import (
    Catalogue,
    Closeout,
    Lifecycle,
    OnboardingError,
    Progress,
    Stage,
    StageFacts,
    default_catalogue,
    effective_catalogue,
    handoff_blockers,
    lifecycle_stage,
    plan_items,
    progress,
)
from domain.org_settings import OrgSettings
from domain.portfolio import (
    ClientSpec,
    Portfolio,
    PortfolioError,
    check_references,
)
from prompts import blocks as bk
from prompts import lifecycle_views as views
from storage import lifecycle_store as store
from storage.db import Transaction
from storage.health_store import history
from storage.portfolio_store import (
    ImportResult,
    add_client,
    client_by_slug,
    client_timezone,
    import_portfolio,
    organization,
    people_by_slack_ids,
    portfolio_of,
    timezone_of,
    timezones_of,
)
from storage.portfolio_store import (
    client_by_id as stored_client,
)
from storage.renewal_store import outcomes_by_client
from storage.support_store import add_candidate, reference_entries

logger = logging.getLogger(__name__)


# -- settings and calendars ------------------------------------------------------------------
def catalogue(tx: Transaction) -> Catalogue:
    """The organization's plans (the shipped ones where its settings don't parse)."""
    settings = OrgSettings.read(organization(tx).settings)
    try:
        return effective_catalogue(settings.onboarding)
    except OnboardingError as err:
        logger.warning("onboarding settings not valid, the shipped plans apply: %s", err)
        return default_catalogue()


def client_calendar(tx: Transaction, client: records.Client) -> WorkCalendar:
    """The client's business days: its timezone, the organization's holidays."""
    org = organization(tx)
    return WorkCalendar(
        tz=timezone_of(tx, client), country=org.holidays_country, subdiv=org.holidays_subdiv
    )


# -- one writer for a client's lifecycle --------------------------------------------------------
def start_lifecycle(
    tx: Transaction,
    client: records.Client,
    spec: ClientSpec,
    *,
    by: str,
    source: str,
    now: datetime,
) -> int:
    """THE one writer of a client's signature, handoff and onboarding checklist (the modal and
    the portfolio import both call it). Returns the items started (0: no signature, or the
    checklist already exists)."""
    if spec.signed_on is None:
        return 0
    cat = catalogue(tx)
    plan = cat.plan(spec.segment.value)
    planned = plan_items(
        plan, client_calendar(tx, client), spec.signed_on, spec.kickoff_on, cat.rules
    )
    started = store.start_onboarding(
        tx, client_id=client.id, spec=spec, planned=planned, by=by, source=source, now=now
    )
    if not started and spec.handoff is not None:
        # The sales handoff named later in the portfolio file: received now (it stops the
        # handoff timer if it is not yet due).
        store.receive_handoff(tx, client.id, spec.handoff.model_dump(), now)
    return len(planned) if started else 0


def import_clients(
    tx: Transaction, portfolio: Portfolio, *, by: str, now: datetime
) -> ImportResult:
    """`csobot portfolio import`: the upsert, then each signed client's lifecycle, once."""
    result = import_portfolio(tx, portfolio)
    for spec in portfolio.clients:
        client = client_by_slug(tx, spec.slug)
        if client is not None:
            start_lifecycle(tx, client, spec, by=by, source="portfolio", now=now)
    return result


@dataclass
class Created:
    client: records.Client | None = None
    items: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # modal block id -> message
    plan: str = ""  # the onboarding plan's name

    @property
    def text(self) -> str:
        assert self.client is not None
        return views.client_created_text(self.client.name, self.client.slug, self.items, self.plan)


# Form fields whose errors show on another block.
_BLOCK_OF = {"handoff": "stakeholders", "holidays": "timezone"}


def _block(field_name: str) -> str:
    return _BLOCK_OF.get(field_name, field_name)


def check_new_client(tx: Transaction, data: dict[str, Any]) -> ClientSpec | dict[str, str]:
    """The form's values validated as a portfolio entry: the same model and the same checks
    as the file. The entry, or the problems keyed by form field."""
    try:
        spec = ClientSpec.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            where = _block(loc[0]) if loc else "name"
            msg = str(err["msg"]).removeprefix("Value error, ")
            if msg.startswith("kickoff_on:"):
                where, msg = "signed_on", msg.split(":", 1)[1].strip()
            errors.setdefault(where, msg)
        return errors
    if spec.signed_on is None:
        return {"signed_on": "the contract's signature date starts the onboarding: pick it"}
    current = portfolio_of(tx)
    candidate = Portfolio(
        organization=current.organization,
        people=current.people,
        clients=[*current.clients, spec],
    )
    try:
        check_references(candidate)
    except PortfolioError as err:
        errors = {}
        for problem in err.problems:
            head, _, msg = problem.partition(": ")
            if not head.startswith(f"clients[{len(current.clients)}]"):
                continue
            errors.setdefault(_block(head.rsplit(".", 1)[-1]), msg)
        if errors:
            return errors
    return spec


def create_client(tx: Transaction, data: dict[str, Any], *, by: str, now: datetime) -> Created:
    """`/client new`: checked like a portfolio entry, then written like the import (the same
    client row, the same lifecycle writer). Nothing is written when a field is wrong."""
    checked = check_new_client(tx, data)
    if isinstance(checked, dict):
        return Created(errors=checked)
    client = add_client(tx, checked)
    items = start_lifecycle(tx, client, checked, by=by, source="modal", now=now)
    return Created(client=client, items=items, plan=catalogue(tx).plan(client.segment).name)


# -- the checklist ------------------------------------------------------------------------------
def owner_ids(client: records.Client, life: Lifecycle | None) -> dict[str, str]:
    """Who owns each role on this client (the CSO when the role is not filled)."""
    return {
        "cso": client.cso_id,
        "service_lead": client.service_lead_id or client.cso_id,
        "engagement_partner": client.engagement_partner_id or client.cso_id,
        "ae": (life.ae_id if life and life.ae_id else None) or client.cso_id,
    }


def owner_names(tx: Transaction, client: records.Client, life: Lifecycle | None) -> dict[str, str]:
    owners = owner_ids(client, life)
    people = people_by_slack_ids(tx, owners.values())
    out = {}
    for role, pid in owners.items():
        person = people.get(pid)
        out[role] = person.name if person else f"<@{pid}>"
    return out


def stage_of(tx: Transaction, client: records.Client, today: date) -> Stage | None:
    return stages(tx, [client], {client.id: today})[client.id]


def stages(
    tx: Transaction, clients: Sequence[records.Client], today: dict[int, date]
) -> dict[int, Stage | None]:
    """Each client's lifecycle stage today, derived from its records."""
    ids = [c.id for c in clients]
    lives = store.lifecycles(tx, ids)
    expansion = store.expansion_clients(tx, ids)
    advocacy = set(reference_entries(tx)) & set(ids)
    closed = store.closed_clients(tx, ids)
    out: dict[int, Stage | None] = {}
    for c in clients:
        life = lives.get(c.id)
        handed = life.handed_off_at.date() if life and life.handed_off_at else None
        facts = StageFacts(
            signed_on=life.signed_on if life else c.contract_start,
            onboarding=life is not None,
            handed_off_on=handed,
            expansion=c.id in expansion,
            advocacy=c.id in advocacy,
            closed=c.id in closed,
        )
        out[c.id] = lifecycle_stage(facts, today[c.id])
    return out


def lifecycle_labels(
    tx: Transaction,
    clients: Sequence[records.Client],
    now: datetime,
    *,
    people: dict[str, records.Person] | None = None,
    org: records.Organization | None = None,
) -> dict[str, str]:
    """Each client's stage as a person reads it, by slug (for /pulse and the board).
    `people` and `org`: as this transaction reads them, when the caller has them already."""
    if not clients:
        return {}
    if people is None or org is None:
        zones = timezones_of(tx, clients)
    else:
        zones = {c.id: client_timezone(c, people, org) for c in clients}
    today = {cid: local_date(now, tz) for cid, tz in zones.items()}
    found = stages(tx, clients, today)
    return {c.slug: views.stage_label(found[c.id]) for c in clients if found[c.id] is not None}


@dataclass
class Checklist:
    blocks: list[bk.Block]
    text: str


def onboarding_view(tx: Transaction, client: records.Client, now: datetime) -> Checklist:
    life = store.lifecycle_of(tx, client.id)
    if life is None:
        text = views.no_onboarding_text(client.name, client.slug)
        return Checklist([bk.section(text)], text)
    items = store.items_of(tx, [client.id]).get(client.id, [])
    cal = client_calendar(tx, client)
    stage = stage_of(tx, client, local_date(now, cal.tz))
    plan = catalogue(tx).plan(life.segment)
    blocks, text = views.onboarding_blocks(
        name=client.name,
        slug=client.slug,
        plan=plan.name,
        stage=stage,
        items=items,
        prog=progress(items, now),
        owners=owner_names(tx, client, life),
        now=now,
        kickoff_on=life.kickoff_on,
    )
    return Checklist(blocks, text)


@dataclass
class Ticked:
    text: str
    ok: bool
    client: records.Client | None = None


def tick_item(tx: Transaction, item_row_id: int, *, by: str, now: datetime) -> Ticked:
    """Tick one checklist item. The handoff item is refused while any other item is open (the
    reply lists them); ticking it completes the onboarding. Ticking the kickoff meeting with no
    kickoff scheduled records today as the kickoff."""
    found = store.item_by_id(tx, item_row_id)
    if found is None:
        return Ticked("That checklist item no longer exists: run `/onboarding` again.", False)
    client_id, _ = found
    client = stored_client(tx, client_id)
    assert client is not None
    items = store.lock_items(tx, client_id)
    item = next(i for i in items if i.id == item_row_id)
    if item.done:
        return Ticked(views.already_ticked_text(item.text), False, client)
    if item.marks == "handoff":
        blockers = handoff_blockers(items)
        if blockers:
            return Ticked(views.handoff_refused_text(client.name, blockers), False, client)
    store.mark_done(tx, item.id, by=by, now=now)
    if item.marks == "handoff":
        store.mark_handed_off(tx, client_id, now)
        return Ticked(views.handed_off_text(client.name), True, client)
    if item.marks == "kickoff":
        life = store.lifecycle_of(tx, client_id)
        if life is not None and life.kickoff_on is None:
            _reschedule(tx, client, local_date(now, client_calendar(tx, client).tz))
    after = store.items_of(tx, [client_id])[client_id]
    return Ticked(views.ticked_text(client.name, item.text, progress(after, now)), True, client)


def _reschedule(tx: Transaction, client: records.Client, day: date) -> None:
    life = store.lifecycle_of(tx, client.id)
    assert life is not None
    cat = catalogue(tx)
    cal = client_calendar(tx, client)
    planned = plan_items(cat.plan(life.segment), cal, life.signed_on, day, cat.rules)
    due = {p.item_id: (p.due_on, p.due_at) for p in planned if p.anchor == "kickoff"}
    store.set_kickoff(tx, client.id, day, due)


def schedule_kickoff(tx: Transaction, client: records.Client, day: date) -> str:
    life = store.lifecycle_of(tx, client.id)
    if life is None:
        return views.no_onboarding_text(client.name, client.slug)
    if day < life.signed_on:
        return f"The kickoff can't be before the signature ({life.signed_on}): pick a later day."
    _reschedule(tx, client, day)
    return views.kickoff_set_text(client.name, day)


def log_hours(
    tx: Transaction,
    client: records.Client,
    *,
    by: str,
    hours: float,
    now: datetime,
    request_key: str | None,
) -> str:
    if store.lifecycle_of(tx, client.id) is None:
        return views.no_onboarding_text(client.name, client.slug)
    store.log_hours(tx, client.id, by, hours, now, request_key)
    total = store.hours_by_client(tx, [client.id]).get(client.id, 0.0)
    return views.hours_logged_text(client.name, hours, total)


def home_rows(
    tx: Transaction, clients: Sequence[records.Client], now: datetime
) -> list[tuple[str, str, Progress, Stage | None]]:
    """The clients still onboarding (not handed off), for App Home."""
    ids = [c.id for c in clients]
    lives = store.lifecycles(tx, ids)
    onboarding = [c for c in clients if c.id in lives and lives[c.id].handed_off_at is None]
    items = store.items_of(tx, [c.id for c in onboarding])
    return [
        (c.name, c.slug, progress(items.get(c.id, []), now), Stage.ONBOARDING) for c in onboarding
    ]


def home_blocks(
    tx: Transaction, clients: Sequence[records.Client], now: datetime
) -> list[bk.Block]:
    return views.home_section(home_rows(tx, clients, now))


# -- close-out ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportData:
    name: str
    today: date
    segment: str
    arr: float
    signed_on: date | None
    contract_start: date | None
    contract_end: date | None
    onboarding: str
    criteria: tuple[str, ...]
    wins: tuple[str, ...]
    health: tuple[tuple[date, float, str], ...]
    renewals: tuple[str, ...]


def report_data(tx: Transaction, client: records.Client, now: datetime) -> ReportData:
    life = store.lifecycle_of(tx, client.id)
    items = store.items_of(tx, [client.id]).get(client.id, [])
    if life is None:
        onboarding = "no onboarding checklist recorded"
    else:
        prog = progress(items, now)
        handed = (
            f"handed off {life.handed_off_at:%Y-%m-%d}" if life.handed_off_at else "not handed off"
        )
        onboarding = f"{prog.done}/{prog.total} checklist items done, {handed}"
    hist = history(tx, [client.id]).get(client.id, [])
    monthly: dict[str, tuple[date, float, str]] = {}
    for day, score, band in hist:  # the month's last score
        monthly[day.strftime("%Y-%m")] = (day, float(score), Band(band).value)
    renewals = tuple(
        f"{end}: {o.outcome.value}" + (f", new end {o.new_end}" if o.new_end else "")
        for end, o in sorted(outcomes_by_client(tx, [client.id]).get(client.id, {}).items())
    )
    return ReportData(
        name=client.name,
        today=local_date(now, timezone_of(tx, client)),
        segment=client.segment,
        arr=client.arr,
        signed_on=life.signed_on if life else None,
        contract_start=client.contract_start,
        contract_end=client.contract_end,
        onboarding=onboarding,
        criteria=life.success_criteria if life else (),
        wins=tuple(store.wins_of(tx, client.id)),
        health=tuple(monthly[k] for k in sorted(monthly)),
        renewals=renewals,
    )


def impact_report(tx: Transaction, client: records.Client, now: datetime, fmt: str = "md") -> str:
    data = report_data(tx, client, now)
    if fmt == "html":
        return views.impact_report_html(r=data)
    return views.impact_report_md(r=data)


def start_closeout(
    tx: Transaction, client: records.Client, *, by: str, now: datetime, note: str | None
) -> Checklist:
    """`/closeout <client>`: the project-end checklist (started once), the impact report
    drafted from the record, and the client recorded as a case-study candidate."""
    report = impact_report(tx, client, now)
    closeout, new = store.start_closeout(
        tx,
        client_id=client.id,
        items=catalogue(tx).closeout,
        by=by,
        now=now,
        report_md=report,
        case_study_note=note,
    )
    if new:  # the reference program ranks case-study candidates first
        add_candidate(tx, client, "closeout", note, now)
    return _closeout_view(tx, client, closeout, new)


def _closeout_view(
    tx: Transaction, client: records.Client, closeout: Closeout, new: bool
) -> Checklist:
    owners = owner_names(tx, client, store.lifecycle_of(tx, client.id))
    blocks, text = views.closeout_blocks(client.name, client.slug, closeout, owners, new)
    return Checklist(blocks, text)


def tick_closeout(tx: Transaction, item_row_id: int, *, by: str, now: datetime) -> Ticked:
    found = store.closeout_item(tx, item_row_id)
    if found is None:
        return Ticked("That close-out item no longer exists: run `/closeout` again.", False)
    client_id, item = found
    client = stored_client(tx, client_id)
    assert client is not None
    if not store.tick_closeout_item(tx, item_row_id, by=by, now=now):
        return Ticked(views.already_ticked_text(item.text), False, client)
    closeout = store.closeout_of(tx, client_id)
    assert closeout is not None
    done = sum(1 for i in closeout.items if i.done_at)
    text = f"Ticked “{item.text}” for {client.name}'s close-out ({done}/{len(closeout.items)})." + (
        " The close-out is complete." if closeout.closed_at else ""
    )
    return Ticked(text, True, client)
