"""What a tick sends: the cadence planner, pure over a snapshot of the database.

`plan(snapshot, now)` works out each person's occurrences with `domain.cadence_schedule.due_now`
(once per distinct person setting, never per client), leaves out what is already closed (a
touchpoint or an exemption today, this week's win, a pulse today, a *Done* click) or already in
the outbox, and returns the new nudges: a cadence closed by a click, due the same day for all
of a person's clients, as one reminder listing them (`lists_clients`; docs/process.md,
"Cadences"). At the touchpoint cutoff a second missed business day in
a row for a client also tells its Service Lead, a third the head of delivery (`escalations`):
docs/process.md, "Escalation ladder".
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.cadence import (
    Cadence,
    CadenceError,
    Catalogue,
    LifecycleSchedule,
    effective_catalogue,
    load_default_catalogue,
)
from domain.cadence_schedule import Occurrence, due_now
from domain.calendar import WORKING_DAYS, IsoWeek, OooRange, WorkCalendar, is_out
from domain.nudge import NudgeSpec, checklist_key
from domain.org_settings import OrgSettings
from domain.portfolio import Role
from domain.prefs import Prefs
from domain.records import Organization, Person

logger = logging.getLogger(__name__)

CUTOFF = "touchpoint-cutoff"
ESCALATE_SL = "missed-touchpoints-sl"
ESCALATE_HOD = "missed-touchpoints-hod"
ESCALATIONS = (ESCALATE_SL, ESCALATE_HOD)
ESCALATE_WHY = "Escalate early, with a clear owner — no surprises, always a Plan B."


# -- what the planner reads -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlanPerson:
    """The columns of a person the planner reads (no per-row overhead at a tick)."""

    slack_id: str
    name: str
    role: str
    timezone: str | None


@dataclass(frozen=True, slots=True)
class PlanClient:
    id: int
    slug: str
    name: str
    cso_id: str
    service_lead_id: str | None
    engagement_partner_id: str | None
    contract_start: date | None
    contract_end: date | None
    stage: str | None = None  # the lifecycle stage the tick last recorded


@dataclass
class Snapshot:
    """Everything a tick needs, loaded by `storage.cadence_store.load_snapshot`."""

    org: Organization
    catalogue: Catalogue
    people: list[PlanPerson]
    clients: list[PlanClient]
    prefs: dict[str, Prefs]
    ooo: dict[str, list[OooRange]]
    touch_days: set[tuple[int, date]] = field(default_factory=set)
    exempt_days: set[tuple[int, date]] = field(default_factory=set)
    wins: set[tuple[int, str]] = field(default_factory=set)
    last_pulse: dict[int, datetime] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    existing: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class EscalationHistory:
    """The days before the cutoff an escalation looks back on, for the missed clients."""

    touched: set[tuple[int, date]]
    exempt: set[tuple[int, date]]
    reminded: set[tuple[int, date]]  # (client, day) the bot reminded about at that day's cutoff
    ooo: dict[str, list[OooRange]]


def person_tz(person: Person | PlanPerson | None, org: Organization) -> ZoneInfo:
    return ZoneInfo((person.timezone if person else None) or org.timezone or "UTC")


def person_calendar(
    tz: ZoneInfo, org: Organization, prefs: Prefs, ooo: Sequence[OooRange] = ()
) -> WorkCalendar:
    """A person's working time: business days, their working hours (outside their quiet hours,
    09:00-18:00 by default), minus their time out of office."""
    start, end = prefs.working_hours
    return WorkCalendar(
        tz,
        org.holidays_country or "",
        org.holidays_subdiv,
        start=start,
        end=end,
        working_days=WORKING_DAYS,
        ooo=tuple(ooo),
    )


def catalogue_of(settings: OrgSettings) -> Catalogue:
    """The organization's effective catalogue; a broken override falls back to the default."""
    if settings.problem("cadences"):
        logger.error(
            "cadence overrides ignored (%s); using the default catalogue",
            settings.problem("cadences"),
        )
        return load_default_catalogue()
    try:
        return effective_catalogue(settings.cadences)
    except CadenceError as err:
        logger.error("cadence overrides ignored (%s); using the default catalogue", err)
        return load_default_catalogue()


def touchpoint_closers(catalogue: Catalogue) -> set[str]:
    """The cadences a touchpoint (or a skipped day) closes, with the escalations."""
    return {c.id for c in catalogue.cadences if c.closes_on_touchpoint} | set(ESCALATIONS)


def recorded_closers(catalogue: Catalogue, closes: str) -> list[str]:
    """The cadences a win or a pulse closes."""
    return sorted(c.id for c in catalogue.cadences if c.closes_by == closes)


def iso_week(day: date) -> str:
    return str(IsoWeek.of(day))


def done_key(cadence_id: str, client_id: int | None, person_id: str, period: str) -> str:
    subject = f"c{client_id}" if client_id is not None else f"p{person_id}"
    return f"{cadence_id}:{subject}:{period}"


# -- the planner ----------------------------------------------------------------------------------
def _relation_index(clients: Iterable[PlanClient]) -> dict[str, dict[Role, list[PlanClient]]]:
    """person -> role on the client's team -> clients (one pass over the clients)."""
    index: dict[str, dict[Role, list[PlanClient]]] = defaultdict(lambda: defaultdict(list))
    for c in clients:
        index[c.cso_id][Role.CSO].append(c)
        if c.service_lead_id:
            index[c.service_lead_id][Role.SERVICE_LEAD].append(c)
        if c.engagement_partner_id:
            index[c.engagement_partner_id][Role.ENGAGEMENT_PARTNER].append(c)
    return index


def _clients_for(
    roles: tuple[Role, ...],
    person: PlanPerson,
    rel: dict[Role, list[PlanClient]],
    all_clients: list[PlanClient],
) -> list[PlanClient]:
    """The person's clients in any of `roles` (leadership roles: every client), by slug."""
    lists: list[list[PlanClient]] = []
    for role in roles:
        if role in (Role.HEAD_OF_DELIVERY, Role.FOUNDER):
            if person.role == role.value:
                return all_clients
        elif rel.get(role):
            lists.append(rel[role])
    if len(lists) <= 1:
        return lists[0] if lists else []
    found = {c.id: c for group in lists for c in group}
    return sorted(found.values(), key=lambda c: c.slug)


def _applies_to_person(
    cadence: Cadence, person: PlanPerson, rel: dict[Role, list[PlanClient]]
) -> bool:
    # Role is a StrEnum: the person's role (a str) compares to it directly.
    return person.role in cadence.roles or any(rel.get(r) for r in cadence.roles)


def _is_closed(
    cadence: Cadence,
    occ: Occurrence,
    client: PlanClient | None,
    person: PlanPerson,
    tz: ZoneInfo,
    snap: Snapshot,
) -> bool:
    cid = client.id if client else None
    if cadence.closes_by == "click":
        return done_key(cadence.id, cid, person.slack_id, occ.period) in snap.done
    if client is None:
        return False
    if cadence.closes_by == "win":
        return (client.id, occ.period) in snap.wins
    if cadence.closes_by == "pulse":
        last = snap.last_pulse.get(client.id)
        start = datetime.combine(occ.local_day, time(0), tzinfo=tz)
        return last is not None and last >= start
    # Closed by a touchpoint that day, or not expected that day (an exemption).
    key = (client.id, occ.local_day)
    return key in snap.touch_days or key in snap.exempt_days


def _in_contract(client: PlanClient, day: date) -> bool:
    if client.contract_start and day < client.contract_start:
        return False
    return not (client.contract_end and day > client.contract_end)


def _data(cadence: Cadence, occ: Occurrence, client: PlanClient | None) -> dict[str, Any]:
    closes = cadence.closes_by if isinstance(cadence.closes_by, str) else "touchpoint"
    data: dict[str, Any] = {
        "view": "cadence",
        "title": cadence.title,
        "why": cadence.why,
        "closes": closes,
        "day": occ.local_day.isoformat(),
        "person_time": cadence.person_time,
    }
    if client is not None:
        data.update(client=client.name, slug=client.slug)
    return data


def _planned(
    cadence: Cadence,
    occ: Occurrence,
    person: PlanPerson,
    client: PlanClient | None,
    shared: dict[str, Any] | None = None,
) -> NudgeSpec:
    """`shared`: `_data(cadence, occ, None)` when the caller has it (one per occurrence, not
    one per client)."""
    text = f"{cadence.title}" + (f" — {client.name}" if client else "")
    if shared is None:
        data = _data(cadence, occ, client)
    else:
        data = {**shared, "client": client.name, "slug": client.slug} if client else dict(shared)
    return NudgeSpec(
        cadence_id=cadence.id,
        period=occ.period,
        target=person.slack_id,
        person_id=person.slack_id,
        client_id=client.id if client else None,
        text=text,
        due_at=occ.due_at,
        expires_at=occ.expires_at,
        data=data,
    )


@dataclass
class _Occurrences:
    """`due_now` once per distinct (cadence, time, zone, time out, contract)."""

    snap: Snapshot
    now: datetime
    cache: dict[tuple[Any, ...], Occurrence | None] = field(default_factory=dict)

    def of(
        self,
        cadence: Cadence,
        tz: ZoneInfo,
        ooo: Sequence[OooRange],
        client: PlanClient | None,
        today: date,
    ) -> Occurrence | None:
        contract: tuple[date | None, date | None] = (None, None)
        if isinstance(cadence.schedule, LifecycleSchedule):
            assert client is not None
            contract = (client.contract_start, client.contract_end)
            anchor = contract[0] if cadence.schedule.anchor == "contract_start" else contract[1]
            if anchor is None:
                return None
            lag = (today - anchor).days - cadence.schedule.offset_days
            if not -1 <= lag <= 62:  # cheap pre-filter: nowhere near its day
                return None
        key = (cadence.id, cadence.at, tz.key, tuple(ooo), contract)
        if key not in self.cache:
            org = self.snap.org
            self.cache[key] = due_now(
                cadence,
                tz,
                self.now,
                holiday_country=org.holidays_country or "",
                holiday_subdiv=org.holidays_subdiv,
                working_days=WORKING_DAYS,
                contract_start=contract[0],
                contract_end=contract[1],
                ooo=ooo,
            )
        return self.cache[key]


def plan(
    snap: Snapshot, now: datetime
) -> tuple[list[NudgeSpec], list[tuple[PlanClient, Occurrence]]]:
    """The new nudges due at `now` (not closed, not already in the outbox), and the clients
    found missing today at the cutoff (for escalation). Pure over the snapshot."""
    occurrences = _Occurrences(snap, now)
    out: list[NudgeSpec] = []
    missed: list[tuple[PlanClient, Occurrence]] = []
    enabled = [c for c in snap.catalogue.enabled() if c.bands is None]  # bands: not tracked yet
    index = _relation_index(snap.clients)
    existing = snap.existing
    for person in snap.people:
        rel = index.get(person.slack_id, {})
        tz = person_tz(person, snap.org)
        today = now.astimezone(tz).date()
        prefs = snap.prefs.get(person.slack_id, Prefs())
        ooo = snap.ooo.get(person.slack_id, [])
        reach = 62 if ooo else 8
        pid = person.slack_id
        for base in enabled:
            if not _applies_to_person(base, person, rel):
                continue
            cadence = base.with_person_time(prefs.times)
            lifecycle = isinstance(cadence.schedule, LifecycleSchedule)
            if not cadence.per_client:
                occ = occurrences.of(cadence, tz, ooo, None, today)
                if (
                    occ
                    and f"{cadence.id}:{pid}:-:{occ.period}" not in existing
                    and not _is_closed(cadence, occ, None, person, tz, snap)
                ):
                    out.append(_planned(cadence, occ, person, None))
                continue
            shared = None if lifecycle else occurrences.of(cadence, tz, ooo, None, today)
            grouped = lists_clients(cadence)
            if not lifecycle and shared is None:
                continue
            sched = cadence.schedule
            anchor_start = isinstance(sched, LifecycleSchedule) and sched.anchor == "contract_start"
            offset = sched.offset_days if isinstance(sched, LifecycleSchedule) else 0
            shared_occ: Occurrence | None = None
            shared_data: dict[str, Any] | None = None
            checklist: list[PlanClient] = []
            for client in _clients_for(cadence.roles, person, rel, snap.clients):
                if lifecycle:
                    anchor = client.contract_start if anchor_start else client.contract_end
                    # Nowhere near its day: the day moves forward past weekends and holidays
                    # (a week at most), or past time out of office (up to 62 days).
                    if anchor is None or not -1 <= (today - anchor).days - offset <= reach:
                        continue
                occ = occurrences.of(cadence, tz, ooo, client, today) if lifecycle else shared
                if occ is None or f"{cadence.id}:{pid}:{client.id}:{occ.period}" in existing:
                    continue
                if cadence.stages is not None and client.stage not in cadence.stages:
                    continue
                if not lifecycle and not _in_contract(client, occ.local_day):
                    continue
                if _is_closed(cadence, occ, client, person, tz, snap):
                    continue
                if grouped:
                    checklist.append(client)
                    continue
                if occ is not shared_occ:
                    shared_occ, shared_data = occ, _data(cadence, occ, None)
                out.append(_planned(cadence, occ, person, client, shared_data))
                if cadence.id == CUTOFF:
                    missed.append((client, occ))
            if checklist and shared is not None:
                out.extend(_checklist(cadence, shared, person, checklist, existing))
    return out, missed


def lists_clients(cadence: Cadence) -> bool:
    """A cadence whose reminder lists a person's clients (a checklist): one for each client,
    closed by a click, due the same day for all of them."""
    return (
        cadence.per_client
        and cadence.closes_by == "click"
        and not isinstance(cadence.schedule, LifecycleSchedule)
    )


def _checklist(
    cadence: Cadence,
    occ: Occurrence,
    person: PlanPerson,
    clients: list[PlanClient],
    existing: set[str],
) -> list[NudgeSpec]:
    """The clients' reminders as one checklist (two clients or more). A client that joins the
    person's list after the checklist was written gets a reminder of its own."""
    key = checklist_key(cadence.id, person.slack_id, occ.period)
    shared = _data(cadence, occ, None)
    if len(clients) == 1 or key in existing:
        return [_planned(cadence, occ, person, c, shared) for c in clients]
    listed = [{"id": c.id, "name": c.name, "slug": c.slug} for c in clients]
    spec = _planned(cadence, occ, person, None, {**shared, "clients": listed})
    spec.text += f" — {', '.join(c.name for c in clients)}"
    spec.key = key
    return [spec]


# -- escalation: a second and third missed business day in a row ----------------------------------
def escalation_window(missed: Sequence[tuple[PlanClient, Occurrence]]) -> tuple[date, date]:
    """The days an escalation looks back on (ten days before the earliest missed day)."""
    first = min(o.local_day for _, o in missed) - timedelta(days=10)
    return first, max(o.local_day for _, o in missed)


def streak(
    client_id: int,
    today: date,
    touched: set[tuple[int, date]],
    exempt: set[tuple[int, date]],
    holidays: set[date],
    ooo: Sequence[OooRange],
    reminded: set[tuple[int, date]],
    limit: int = 3,
) -> int:
    """Missed business days in a row ending today (today counts: it is past the cutoff).

    An earlier day counts only if the bot reminded about it at that day's cutoff: days before
    the bot tracked the client (a fresh import) are not held against anyone."""
    count, day = 1, today
    for _ in range(10):
        if count >= limit:
            break
        day -= timedelta(days=1)
        if day.weekday() >= 5 or day in holidays or is_out(day, ooo):
            continue
        if (client_id, day) in exempt:
            continue
        if (client_id, day) in touched or (client_id, day) not in reminded:
            break
        count += 1
    return count


def escalations(
    snap: Snapshot,
    missed: Sequence[tuple[PlanClient, Occurrence]],
    history: EscalationHistory,
    holidays: set[date],
) -> list[NudgeSpec]:
    """The Service Lead (second missed day in a row) and the heads of delivery (third) of each
    client missed at today's cutoff; never the CSO themselves."""
    names = {p.slack_id: p.name for p in snap.people}
    hods = [p for p in snap.people if p.role == Role.HEAD_OF_DELIVERY.value]
    out: list[NudgeSpec] = []
    for client, occ in missed:
        count = streak(
            client.id,
            occ.local_day,
            history.touched,
            history.exempt,
            holidays,
            history.ooo.get(client.cso_id, []),
            history.reminded,
        )
        targets: list[tuple[str, str]] = []
        if count >= 2 and client.service_lead_id:
            targets.append((ESCALATE_SL, client.service_lead_id))
        if count >= 3:
            targets += [(ESCALATE_HOD, h.slack_id) for h in hods]
        for cadence_id, target in targets:
            if target == client.cso_id:
                continue
            cso = names.get(client.cso_id, client.cso_id)
            text = f"{client.name}: no touchpoint for {count} business days in a row (CSO {cso})"
            out.append(
                NudgeSpec(
                    cadence_id=cadence_id,
                    period=occ.period,
                    target=target,
                    person_id=target,
                    client_id=client.id,
                    text=text,
                    due_at=occ.due_at,
                    expires_at=occ.expires_at,
                    data={
                        "view": "cadence",
                        "title": "Missed touchpoints",
                        "why": ESCALATE_WHY,
                        "closes": "touchpoint",
                        "day": occ.local_day.isoformat(),
                        "client": client.name,
                        "slug": client.slug,
                        "cso": client.cso_id,
                        "cso_name": cso,
                        "streak": count,
                        "role": "service_lead" if cadence_id == ESCALATE_SL else "head",
                    },
                )
            )
    return out
