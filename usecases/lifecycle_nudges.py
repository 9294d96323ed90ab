"""The lifecycle's timers, written to the outbox in the tick's transaction (docs/process.md,
"Onboarding"). Natural keys make each go out once:

* item due: `onboarding_item:<item>:due` — to the item's owner, the morning of its due day;
* stall: `onboarding_stall:<person>:<item>:<level>` — an item in weeks 2-4 overdue 48 h to the
  Service Lead, 96 h to the head of delivery (founders when there is none);
* kickoff: `kickoff:<client>:<person>:<nudge|escalate>` — no kickoff scheduled on the
  deadline (signature + 5 business days) to the CSO, a business day later to the Service Lead
  and the head of delivery;
* sales handoff: `sales_handoff:<client>:<person>` — no handoff received 24 clock hours after
  the signature (counted from the end of the signature day) to the account executive and the
  CSO, once;
* renewal forecast: `renewal_forecast:<client>:<contract end>` — 120 days before the end, the
  prefilled forecast to the Sales Ops channel when one is set (never a client or Slack Connect
  channel), and `renewal_forecast_cso:…` to the CSO;
* the lifecycle stage is recorded when it changes (the day it began).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.calendar import WorkCalendar, local_date
from domain.health import Band
from domain.onboarding import (
    Catalogue,
    Item,
    Lifecycle,
    Stage,
    forecast_due,
    kickoff_deadline,
    kickoff_timer,
    local_morning,
    sales_handoff_deadline,
    sales_handoff_late,
    stall_levels,
)
from domain.org_settings import OrgSettings
from domain.records import Client, Organization, Person
from domain.renewals import effective_contract_end
from prompts import blocks as bk
from prompts import lifecycle_views as views
from prompts.render import plural
from storage import lifecycle_store as store
from storage.db import Transaction
from storage.flag_store import open_flag_counts
from storage.health_store import latest_snapshots
from storage.portfolio_store import (
    active_clients,
    client_by_id,
    client_timezone,
    organization,
    people_by_id,
)
from storage.renewal_store import outcomes_by_client
from usecases.health_nudges import escalation_targets
from usecases.lifecycle_actions import catalogue, owner_ids, stages
from usecases.outbox import NudgeSpec, enqueue
from usecases.privacy import ChannelGuard

logger = logging.getLogger(__name__)

GRACE = timedelta(days=2)
USAGE_WORDS = ("login", "adoption", "usage", "seat", "active")


def _calendar(client: Client, people: dict[str, Person], org: Organization) -> WorkCalendar:
    return WorkCalendar(
        tz=client_timezone(client, people, org),
        country=org.holidays_country,
        subdiv=org.holidays_subdiv,
    )


def write_due(tx: Transaction, now: datetime, guard: ChannelGuard | None) -> int:
    """Every lifecycle nudge due at `now`, and the stages; returns how many nudges are new."""
    clients = active_clients(tx)
    if not clients:
        return 0
    people = people_by_id(tx)
    org = organization(tx)
    cat = catalogue(tx)
    cals = {c.id: _calendar(c, people, org) for c in clients}
    today = {c.id: local_date(now, cals[c.id].tz) for c in clients}
    lives = store.lifecycles(tx, [c.id for c in clients])
    onboarding = [c for c in clients if c.id in lives and lives[c.id].handed_off_at is None]
    items = store.items_of(tx, [c.id for c in onboarding])
    n = 0
    for c in onboarding:
        life, cal = lives[c.id], cals[c.id]
        for item in items.get(c.id, []):
            n += _item_nudges(tx, c, life, item, cal, today[c.id], people, cat, now)
        n += _kickoff_nudges(tx, c, life, items.get(c.id, []), cal, today[c.id], people, cat, now)
        n += _sales_handoff_nudges(tx, c, life, cal, cat, now)
    _record_stages(tx, clients, today, now)
    n += _forecasts(tx, clients, people, org, cat, today, now, guard)
    return n


def _item_nudges(
    tx: Transaction,
    c: Client,
    life: Lifecycle,
    item: Item,
    cal: WorkCalendar,
    today: date,
    people: dict[str, Person],
    cat: Catalogue,
    now: datetime,
) -> int:
    if item.done or item.due_on > today:
        return 0
    n = 0
    owner = owner_ids(c, life)[item.owner]
    text = views.item_due_text(c.name, item)
    due_at = local_morning(cal, item.due_on, now)
    n += enqueue(
        tx,
        NudgeSpec(
            cadence_id="onboarding_item",
            period=str(item.id),
            target=owner,
            person_id=owner,
            client_id=c.id,
            text=text,
            blocks=[bk.section(text, accessory=bk.button("Done", views.TICK_ACTION, str(item.id)))],
            due_at=due_at,
            expires_at=max(due_at, now) + GRACE,
            key=f"onboarding_item:{item.id}:due",
        ),
        now,
    )
    hours = item.overdue_hours(now)
    owner_name = people[owner].name if owner in people else owner
    for level in stall_levels(item, now, cat.rules):
        if level == "service_lead" and c.service_lead_id:
            targets = [c.service_lead_id]
        else:
            targets = escalation_targets(people)
        text = views.stall_text(c.name, item, hours, owner_name, level)
        for person in targets:
            n += enqueue(
                tx,
                NudgeSpec(
                    cadence_id="onboarding_stall",
                    period=f"{item.id}:{level}",
                    target=person,
                    person_id=person,
                    client_id=c.id,
                    text=text,
                    blocks=[bk.section(text)],
                    due_at=now,
                    expires_at=now + timedelta(days=3),
                    key=f"onboarding_stall:{person}:{item.id}:{level}",
                    batch=False,
                ),
                now,
            )
    return n


def _kickoff_nudges(
    tx: Transaction,
    c: Client,
    life: Lifecycle,
    items: list[Item],
    cal: WorkCalendar,
    today: date,
    people: dict[str, Person],
    cat: Catalogue,
    now: datetime,
) -> int:
    done = any(i.marks == "kickoff" and i.done for i in items)
    timer = kickoff_timer(cal, life.signed_on, life.kickoff_on, done, today, cat.rules)
    if timer is None:
        return 0
    deadline = kickoff_deadline(cal, life.signed_on, cat.rules)
    targets = [c.cso_id]
    if timer == "escalate":
        targets = [*([c.service_lead_id] if c.service_lead_id else []), *escalation_targets(people)]
    text = views.kickoff_text(c.name, c.slug, life.signed_on, deadline, timer == "escalate")
    n = 0
    for person in dict.fromkeys(targets):
        due_at = local_morning(cal, today, now)
        n += enqueue(
            tx,
            NudgeSpec(
                cadence_id="onboarding_kickoff",
                period=timer,
                target=person,
                person_id=person,
                client_id=c.id,
                text=text,
                blocks=[bk.section(text)],
                due_at=due_at,
                expires_at=due_at + GRACE,
                key=f"kickoff:{c.id}:{person}:{timer}",
                batch=timer == "nudge",
            ),
            now,
        )
    return n


def _sales_handoff_nudges(
    tx: Transaction, c: Client, life: Lifecycle, cal: WorkCalendar, cat: Catalogue, now: datetime
) -> int:
    """No sales handoff within `handoff_within_hours` of the signature: the AE and the CSO,
    once each."""
    if not sales_handoff_late(cal, life.signed_on, life.handoff_received_at, now, cat.rules):
        return 0
    due = sales_handoff_deadline(cal, life.signed_on, cat.rules)
    text = views.sales_handoff_text(
        name=c.name,
        slug=c.slug,
        signed_on=life.signed_on,
        due=due,
        hours=cat.rules.handoff_within_hours,
        ae=life.ae_id,
        cso=c.cso_id,
    )
    n = 0
    for person in dict.fromkeys([*([life.ae_id] if life.ae_id else []), c.cso_id]):
        n += enqueue(
            tx,
            NudgeSpec(
                cadence_id="sales_handoff",
                period=str(life.signed_on),
                target=person,
                person_id=person,
                client_id=c.id,
                text=text,
                blocks=[bk.section(text)],
                due_at=now,
                expires_at=now + GRACE,
                key=f"sales_handoff:{c.id}:{person}",
                batch=False,
            ),
            now,
        )
    return n


def _record_stages(
    tx: Transaction, clients: list[Client], today: dict[int, date], now: datetime
) -> None:
    current = store.current_stages(tx, [c.id for c in clients])
    for cid, stage in stages(tx, clients, today).items():
        if stage is None:
            continue
        if cid not in current or current[cid][0] != stage.value:
            store.record_stage(tx, cid, stage.value, today[cid], now)


def _forecasts(
    tx: Transaction,
    clients: list[Client],
    people: dict[str, Person],
    org: Organization,
    cat: Catalogue,
    today: dict[int, date],
    now: datetime,
    guard: ChannelGuard | None,
) -> int:
    ids = [c.id for c in clients]
    outcomes = outcomes_by_client(tx, ids)
    due: list[tuple[Client, date]] = []
    for c in clients:
        end, _ = effective_contract_end(c.contract_end, outcomes.get(c.id, {}))
        recorded = end in outcomes.get(c.id, {})
        if end is not None and not recorded and forecast_due(end, today[c.id], cat.rules):
            due.append((c, end))
    channel = OrgSettings.read(org.settings).sales_ops_channel
    if not due or not channel:
        return 0  # no Sales Ops channel set: forecasts are off (the renewal nudges remain)
    refused = _refusal(channel, guard, {c.client_channel for c in clients if c.client_channel})
    snaps = latest_snapshots(tx, [c.id for c, _ in due])
    flags = open_flag_counts(tx, [c.id for c, _ in due])
    stage_now = stages(tx, [c for c, _ in due], today)
    n = 0
    for c, end in due:
        snap = snaps.get(c.id)
        risks = []
        if snap is not None and snap.band is not Band.GREEN:
            risks.append(f"health {snap.band.value}")
        if flags.get(c.id):
            risks.append(plural(flags[c.id], "open flag"))
        if stage_now.get(c.id) is Stage.ONBOARDING:
            risks.append("still onboarding")
        usage = sorted(
            (k, v)
            for k, v in (snap.values.items() if snap else ())
            if any(w in k for w in USAGE_WORDS)
        )
        text = views.forecast_text(
            name=c.name,
            contract_end=end,
            days_left=(end - today[c.id]).days,
            arr=c.arr,
            stage=stage_now.get(c.id),
            score=snap.score if snap else None,
            band=snap.band.value if snap else None,
            usage=usage,
            open_flags=flags.get(c.id, 0),
            risks=risks,
        )
        if not refused:
            n += enqueue(
                tx,
                NudgeSpec(
                    cadence_id="renewal_forecast",
                    period=str(end),
                    target=channel,
                    client_id=c.id,
                    text=text,
                    blocks=[bk.section(text)],
                    due_at=now,
                    expires_at=now + GRACE,
                    key=f"renewal_forecast:{c.id}:{end}",
                    batch=False,
                ),
                now,
            )
        note = views.forecast_cso_text(c.name, channel, refused)
        n += enqueue(
            tx,
            NudgeSpec(
                cadence_id="renewal_forecast_cso",
                period=str(end),
                target=c.cso_id,
                person_id=c.cso_id,
                client_id=c.id,
                text=note,
                blocks=[bk.section(note), bk.section(text)],
                due_at=now,
                expires_at=now + GRACE,
                key=f"renewal_forecast_cso:{c.id}:{end}",
            ),
            now,
        )
    return n


def _refusal(channel: str, guard: ChannelGuard | None, client_channels: set[str]) -> str | None:
    """Why the forecast may not go to `channel` (None: it may)."""
    if guard is None or guard.is_shared(channel, client_channels=client_channels):
        return (
            f"the Sales Ops channel {channel} is a client channel, a Slack Connect channel or "
            "cannot be read: set an internal channel as sales_ops_channel."
        )
    return None


# -- the qualified-expansion context package ------------------------------------------------------
@dataclass(frozen=True)
class PackageResult:
    sent_to: str | None  # the account executive's Slack id; None when the client names none
    new: bool  # False: this opportunity's package was already sent
    text: str  # what to tell whoever qualified it


def post_expansion_package(
    tx: Transaction,
    *,
    client_id: int,
    opportunity: str,
    signals: Sequence[str],
    qualified_by: str,
    now: datetime,
    key: str | None = None,
) -> PackageResult:
    """An expansion opportunity was marked qualified: the context package (health, signals,
    stakeholders, history) goes to the AE named on the client, through the outbox, once per
    opportunity (`key`, by default the client and the opportunity's text). Call it in the same
    transaction that records the qualification. With no AE on the client, the CSO is told
    instead (and the package goes to them)."""
    client = client_by_id(tx, client_id)
    if client is None:
        raise LookupError(f"no client {client_id}")
    life = store.lifecycle_of(tx, client_id)
    ae = life.ae_id if life else None
    target = ae or client.cso_id
    package_key = key or f"expansion_package:{client_id}:{opportunity.strip().lower()[:120]}"
    new = store.record_package(
        tx,
        client_id=client_id,
        key=package_key,
        ae_id=ae,
        opportunity=opportunity,
        qualified_by=qualified_by,
        now=now,
    )
    people = people_by_id(tx)
    snap = latest_snapshots(tx, [client_id]).get(client_id)
    day = local_date(now, client_timezone(client, people, organization(tx)))
    stage = stages(tx, [client], {client_id: day})[client_id]
    who = people.get(qualified_by)
    text = views.expansion_package_text(
        name=client.name,
        opportunity=opportunity,
        qualified_by=who.name if who else qualified_by,
        arr=client.arr,
        stage=views.stage_label(stage),
        score=snap.score if snap else None,
        band=snap.band.value if snap else None,
        signals=list(signals),
        stakeholders=(life.handoff.get("stakeholders") if life else None) or "",
        contacts=list(client.contacts),
        criteria=list(life.success_criteria) if life else [],
        signed_on=life.signed_on if life else client.contract_start,
        wins=store.wins_of(tx, client_id)[-5:],
        deal_context=(life.handoff.get("deal_context") if life else None) or "",
        cso=client.cso_id,
    )
    if new:
        enqueue(
            tx,
            NudgeSpec(
                cadence_id="expansion_package",
                period=hashlib.sha1(package_key.encode()).hexdigest()[:16],
                target=target,
                person_id=target,
                client_id=client_id,
                text=text,
                blocks=[bk.section(text)],
                due_at=now,
                expires_at=now + timedelta(days=3),
                key=package_key,
                batch=False,
            ),
            now,
        )
    if ae is None:
        said = (
            f"{client.name} names no account executive, so the expansion package went to its "
            "CSO: add `ae:` to the client in the portfolio file."
        )
    elif new:
        said = f"The expansion package for {client.name} is on its way to <@{ae}>."
    else:
        said = f"The expansion package for {client.name} was already sent to <@{ae}>."
    return PackageResult(sent_to=ae, new=new, text=said)
