"""The cadence engine: every rhythm of the catalogue, nudged at each person's local time, once.

`cadence_enqueuer(deps, now)` is the tick's enqueuer. It loads everything with a handful of
set-based queries (no per-client query loops), works out each person's occurrences with
`domain.cadence.due_now` (once per distinct person setting, never per client), leaves out what
is already closed (a touchpoint or an exemption today, this week's win, a pulse today, a
*Done* click), and writes the rest to the outbox in one statement. At the touchpoint cutoff a
second missed business day in a row for a client also tells its Service Lead, a third the
head of delivery (escalate early, with a clear owner).

`make_gate` is the noise budget (quiet hours, out of office, a daily DM cap — the overdue
touchpoint DM and escalations are never held back by the cap — and Slack Do Not Disturb),
and `render_batch` turns one person's due nudges into one readable message with buttons.
`refresh_message` re-renders a sent message after a click or a touchpoint (done is done).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.cadence import (
    WORKING_DAYS,
    Cadence,
    CadenceError,
    Catalogue,
    LifecycleSchedule,
    Occurrence,
    OooRange,
    due_now,
    effective_catalogue,
    is_out,
    load_default_catalogue,
    next_working_moment,
    parse_hhmm,
    within_working_hours,
)
from domain.calendar import holidays_between
from domain.portfolio import Role
from domain.records import Organization, Person
from prompts import blocks as bk
from storage.models import (
    CadenceDone,
    Exemption,
    Nudge,
    OutOfOffice,
    PersonPrefs,
    Pulse,
    Touchpoint,
    Win,
)
from storage.models import Client as ClientTable
from storage.models import Person as PersonTable
from storage.portfolio import organization
from storage.upsert import insert_ignore
from usecases.deps import Deps
from usecases.outbox import (
    Gate,
    NudgeSpec,
    default_batcher,
    default_lines,
    overfull,
    summary_blocks,
    text_blocks,
)

logger = logging.getLogger(__name__)

CUTOFF = "touchpoint-cutoff"
ESCALATE_SL = "missed-touchpoints-sl"
ESCALATE_HOD = "missed-touchpoints-hod"
ESCALATIONS = (ESCALATE_SL, ESCALATE_HOD)
UTC_ZONE = ZoneInfo("UTC")
OPEN = ("pending", "sending", "sent")
ALL_STATUSES = ("pending", "sending", "sent", "closed", "dropped")
DEFAULT_QUIET = (time(18, 0), time(9, 0))
DEFAULT_CAP = 6
DND_RECHECK = timedelta(minutes=15)
SNOOZE = timedelta(hours=1)
COMPACT_AFTER = 8  # clients in one overdue DM before each line gets a menu instead of buttons
TUNE = "Tune it: `/cso prefs` (stand-up time, cutoff, quiet hours)."
ESCALATE_WHY = (
    "Seeds 001 + 002: escalate early, with a clear owner — no surprises, always a Plan B."
)


# -- a person's settings -------------------------------------------------------------------------
@dataclass(frozen=True)
class Prefs:
    standup: time | None = None
    cutoff: time | None = None
    quiet_start: time = DEFAULT_QUIET[0]
    quiet_end: time = DEFAULT_QUIET[1]
    daily_cap: int = DEFAULT_CAP

    @classmethod
    def of(cls, row: PersonPrefs | None) -> Prefs:
        if row is None:
            return cls()
        return cls(
            standup=parse_hhmm(row.standup) if row.standup else None,
            cutoff=parse_hhmm(row.cutoff) if row.cutoff else None,
            quiet_start=parse_hhmm(row.quiet_start) if row.quiet_start else DEFAULT_QUIET[0],
            quiet_end=parse_hhmm(row.quiet_end) if row.quiet_end else DEFAULT_QUIET[1],
            daily_cap=row.daily_cap if row.daily_cap is not None else DEFAULT_CAP,
        )

    @property
    def times(self) -> dict[str, time | None]:
        return {"standup": self.standup, "cutoff": self.cutoff}

    @property
    def working_hours(self) -> tuple[time, time]:
        """Quiet hours run evening to morning: working hours are what is left."""
        return self.quiet_end, self.quiet_start


@dataclass(frozen=True, slots=True)
class PersonRow:
    """The columns of a person the engine reads (plain rows: no ORM overhead per tick)."""

    slack_id: str
    name: str
    role: str
    timezone: str | None


@dataclass(frozen=True, slots=True)
class ClientRow:
    id: int
    slug: str
    name: str
    cso_id: str
    service_lead_id: str | None
    engagement_partner_id: str | None
    contract_start: date | None
    contract_end: date | None


def person_tz(person: Person | PersonRow | None, org: Organization) -> ZoneInfo:
    return ZoneInfo((person.timezone if person else None) or org.timezone or "UTC")


def catalogue_of(org: Organization) -> Catalogue:
    """The organization's effective catalogue; a broken override falls back to the default."""
    overrides = (org.settings or {}).get("cadences")
    try:
        return effective_catalogue(overrides)
    except CadenceError as err:
        logger.error("cadence overrides ignored (%s); using the default catalogue", err)
        return load_default_catalogue()


def ooo_ranges(session: Session, since: date, person_id: str | None = None) -> dict[str, list]:
    """Active (not cancelled) out-of-office ranges ending on or after `since`, per person."""
    query = select(OutOfOffice.person_id, OutOfOffice.start_day, OutOfOffice.end_day).where(
        OutOfOffice.cancelled_at.is_(None), OutOfOffice.end_day >= since
    )
    if person_id is not None:
        query = query.where(OutOfOffice.person_id == person_id)
    out: dict[str, list[OooRange]] = defaultdict(list)
    for pid, start, end in session.execute(query):
        out[pid].append((start, end))
    return out


# -- the snapshot: everything a tick needs, in a few set-based queries ---------------------------
@dataclass
class Snapshot:
    org: Organization
    catalogue: Catalogue
    people: list[PersonRow]
    clients: list[ClientRow]
    prefs: dict[str, Prefs]
    ooo: dict[str, list[OooRange]]
    touch_days: set[tuple[int, date]] = field(default_factory=set)
    exempt_days: set[tuple[int, date]] = field(default_factory=set)
    wins: set[tuple[int, str]] = field(default_factory=set)
    last_pulse: dict[int, datetime] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    existing: set[str] = field(default_factory=set)


def load_snapshot(session: Session, now: datetime) -> Snapshot:
    org = organization(session)
    catalogue = catalogue_of(org)
    people = [
        PersonRow(*row)
        for row in session.execute(
            select(PersonTable.slack_id, PersonTable.name, PersonTable.role, PersonTable.timezone)
            .where(PersonTable.active)
            .order_by(PersonTable.slack_id)
        )
    ]
    clients = [
        ClientRow(*row)
        for row in session.execute(
            select(
                ClientTable.id,
                ClientTable.slug,
                ClientTable.name,
                ClientTable.cso_id,
                ClientTable.service_lead_id,
                ClientTable.engagement_partner_id,
                ClientTable.contract_start,
                ClientTable.contract_end,
            )
            .where(ClientTable.active)
            .order_by(ClientTable.slug)
        )
    ]
    prefs = {row.slack_id: Prefs.of(row) for row in session.scalars(select(PersonPrefs))}
    day = now.astimezone(UTC).date()
    # Every local "today" on Earth is within a day of the UTC date.
    lo, hi = day - timedelta(days=2), day + timedelta(days=1)
    snap = Snapshot(org, catalogue, people, clients, prefs, ooo_ranges(session, lo))
    snap.touch_days = _pairs(
        session.execute(
            select(Touchpoint.client_id, Touchpoint.local_date)
            .where(Touchpoint.local_date.between(lo, hi))
            .distinct()
        )
    )
    snap.exempt_days = _pairs(
        session.execute(
            select(Exemption.client_id, Exemption.day).where(Exemption.day.between(lo, hi))
        )
    )
    weeks = {_iso_week(lo + timedelta(days=i)) for i in range((hi - lo).days + 1)}
    snap.wins = _pairs(
        session.execute(
            select(Win.client_id, Win.iso_week).where(Win.iso_week.in_(sorted(weeks))).distinct()
        )
    )
    pulses = session.execute(
        select(Pulse.client_id, func.max(Pulse.created_at))
        .where(Pulse.created_at >= now - timedelta(days=2))
        .group_by(Pulse.client_id)
    )
    snap.last_pulse = {client_id: at for client_id, at in pulses if at is not None}
    snap.done = set(
        session.scalars(
            select(CadenceDone.key).where(CadenceDone.done_at >= now - timedelta(days=400))
        )
    )
    # Keys already in the outbox around now (index ix_nudge_status_due): only new ones are
    # written, so a steady-state tick writes nothing.
    snap.existing = set(
        session.scalars(
            select(Nudge.key).where(
                Nudge.status.in_(ALL_STATUSES),
                Nudge.due_at.between(now - timedelta(days=2), now + timedelta(days=2)),
            )
        )
    )
    return snap


def _pairs(rows: Iterable[Any]) -> set[tuple[Any, Any]]:
    return {(a, b) for a, b in rows}


def _iso_week(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def done_key(cadence_id: str, client_id: int | None, person_id: str, period: str) -> str:
    subject = f"c{client_id}" if client_id is not None else f"p{person_id}"
    return f"{cadence_id}:{subject}:{period}"


# -- the enqueuer --------------------------------------------------------------------------------
def _relation_index(clients: Iterable[ClientRow]) -> dict[str, dict[Role, list[ClientRow]]]:
    """person -> role on the client's team -> clients (one pass over the clients)."""
    index: dict[str, dict[Role, list[ClientRow]]] = defaultdict(lambda: defaultdict(list))
    for c in clients:
        index[c.cso_id][Role.CSO].append(c)
        if c.service_lead_id:
            index[c.service_lead_id][Role.SERVICE_LEAD].append(c)
        if c.engagement_partner_id:
            index[c.engagement_partner_id][Role.ENGAGEMENT_PARTNER].append(c)
    return index


def _clients_for(
    roles: tuple[Role, ...],
    person: PersonRow,
    rel: dict[Role, list[ClientRow]],
    all_clients: list[ClientRow],
) -> list[ClientRow]:
    """The person's clients in any of `roles` (leadership roles: every client), by slug."""
    lists: list[list[ClientRow]] = []
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
    cadence: Cadence, person: PersonRow, rel: dict[Role, list[ClientRow]]
) -> bool:
    return any(person.role == r.value or rel.get(r) for r in cadence.roles)


def _is_closed(
    cadence: Cadence,
    occ: Occurrence,
    client: ClientRow | None,
    person: PersonRow,
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


def _in_contract(client: ClientRow, day: date) -> bool:
    if client.contract_start and day < client.contract_start:
        return False
    return not (client.contract_end and day > client.contract_end)


def _data(cadence: Cadence, occ: Occurrence, client: ClientRow | None, **extra: Any) -> dict:
    closes = cadence.closes_by if isinstance(cadence.closes_by, str) else "touchpoint"
    data = {
        "view": "cadence",
        "title": cadence.title,
        "why": cadence.why,
        "closes": closes,
        "day": occ.local_day.isoformat(),
        "person_time": cadence.person_time,
    }
    if client is not None:
        data.update(client=client.name, slug=client.slug)
    data.update(extra)
    return data


def _spec(
    cadence: Cadence, occ: Occurrence, person: PersonRow, client: ClientRow | None
) -> NudgeSpec:
    text = f"{cadence.title}" + (f" — {client.name}" if client else "")
    return NudgeSpec(
        cadence_id=cadence.id,
        period=occ.period,
        target=person.slack_id,
        person_id=person.slack_id,
        client_id=client.id if client else None,
        text=text,
        due_at=occ.due_at,
        expires_at=occ.expires_at,
        data=_data(cadence, occ, client),
    )


@dataclass
class _Planner:
    snap: Snapshot
    now: datetime
    cache: dict[tuple[Any, ...], Occurrence | None] = field(default_factory=dict)

    def occurrence(
        self,
        cadence: Cadence,
        tz: ZoneInfo,
        ooo: Sequence[OooRange],
        client: ClientRow | None,
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
) -> tuple[list[NudgeSpec], list[tuple[ClientRow, Occurrence]]]:
    """The new nudges due at `now` (not closed, not already in the outbox), and the clients
    found missing today at the cutoff (for escalation). Pure over the snapshot: no SQL."""
    planner = _Planner(snap, now)
    specs: list[NudgeSpec] = []
    missed: list[tuple[ClientRow, Occurrence]] = []
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
                occ = planner.occurrence(cadence, tz, ooo, None, today)
                if (
                    occ
                    and f"{cadence.id}:{pid}:-:{occ.period}" not in existing
                    and not _is_closed(cadence, occ, None, person, tz, snap)
                ):
                    specs.append(_spec(cadence, occ, person, None))
                continue
            shared = None if lifecycle else planner.occurrence(cadence, tz, ooo, None, today)
            if not lifecycle and shared is None:
                continue
            sched = cadence.schedule
            anchor_start = isinstance(sched, LifecycleSchedule) and sched.anchor == "contract_start"
            offset = sched.offset_days if isinstance(sched, LifecycleSchedule) else 0
            for client in _clients_for(cadence.roles, person, rel, snap.clients):
                if lifecycle:
                    anchor = client.contract_start if anchor_start else client.contract_end
                    # Nowhere near its day: the day moves forward past weekends and holidays
                    # (a week at most), or past time out of office (up to 62 days).
                    if anchor is None or not -1 <= (today - anchor).days - offset <= reach:
                        continue
                occ = planner.occurrence(cadence, tz, ooo, client, today) if lifecycle else shared
                if occ is None or f"{cadence.id}:{pid}:{client.id}:{occ.period}" in existing:
                    continue
                if not lifecycle and not _in_contract(client, occ.local_day):
                    continue
                if _is_closed(cadence, occ, client, person, tz, snap):
                    continue
                specs.append(_spec(cadence, occ, person, client))
                if cadence.id == CUTOFF:
                    missed.append((client, occ))
    return specs, missed


def cadence_enqueuer(deps: Deps, now: datetime) -> int:
    """The tick's enqueuer for the catalogue: returns how many nudges were new."""
    with deps.db.transaction() as session:
        snap = load_snapshot(session, now)
        specs, missed = plan(snap, now)
        if missed:
            specs += [
                s
                for s in escalations(session, snap, missed)
                if s.natural_key() not in snap.existing
            ]
        return enqueue_many(session, specs, now)


_BULK_COLUMNS = (
    "key",
    "cadence_id",
    "person_id",
    "client_id",
    "period",
    "target",
    "text",
    "blocks",
    "batch",
    "status",
    "due_at",
    "expires_at",
    "created_at",
    "attempts",
    "data",
)


def enqueue_many(session: Session, specs: Sequence[NudgeSpec], now: datetime) -> int:
    """`outbox.enqueue` for many specs in one statement (INSERT … ON CONFLICT DO NOTHING).

    The columns' own bind processors (UTC datetimes, JSON) are applied once per value and
    the rows go to the driver's executemany: at the cutoff this writes thousands of rows.
    The claim, send and close columns are left NULL."""
    if not specs:
        return 0
    conn = session.connection()
    dialect = conn.dialect
    table: Any = Nudge.__table__
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in _BULK_COLUMNS
    ]
    rows = [
        (
            s.natural_key(),
            s.cadence_id,
            s.person_id,
            s.client_id,
            s.period,
            s.target,
            s.text,
            s.blocks,
            s.batch,
            "pending",
            s.due_at,
            s.expires_at,
            now,
            0,
            s.data,
        )
        for s in specs
    ]
    params = [
        tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=True))
        for row in rows
    ]
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in _BULK_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(_BULK_COLUMNS))}) ON CONFLICT DO NOTHING"
    )
    conn.exec_driver_sql(sql, params)  # one executemany (pipelined by psycopg)
    return len(rows)


# -- escalation: a second and third missed business day in a row ---------------------------------
def _streak(
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
    streak, day = 1, today
    for _ in range(10):
        if streak >= limit:
            break
        day -= timedelta(days=1)
        if day.weekday() >= 5 or day in holidays or is_out(day, ooo):
            continue
        if (client_id, day) in exempt:
            continue
        if (client_id, day) in touched or (client_id, day) not in reminded:
            break
        streak += 1
    return streak


def escalations(
    session: Session, snap: Snapshot, missed: list[tuple[ClientRow, Occurrence]]
) -> list[NudgeSpec]:
    first = min(o.local_day for _, o in missed) - timedelta(days=10)
    last = max(o.local_day for _, o in missed)
    touched = _pairs(
        session.execute(
            select(Touchpoint.client_id, Touchpoint.local_date)
            .where(Touchpoint.local_date.between(first, last))
            .distinct()
        )
    )
    exempt = _pairs(
        session.execute(
            select(Exemption.client_id, Exemption.day).where(Exemption.day.between(first, last))
        )
    )
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    reminded = {
        (client_id, date.fromisoformat(period))
        for client_id, period in session.execute(
            select(Nudge.client_id, Nudge.period)
            .where(Nudge.cadence_id == CUTOFF, Nudge.period.in_([d.isoformat() for d in days]))
            .distinct()
        )
        if client_id is not None
    }
    org = snap.org
    holidays = set(holidays_between(org.holidays_country or "", first, last, org.holidays_subdiv))
    ooo_all = ooo_ranges(session, first)
    names = {p.slack_id: p.name for p in snap.people}
    hods = [p for p in snap.people if p.role == Role.HEAD_OF_DELIVERY.value]
    out: list[NudgeSpec] = []
    for client, occ in missed:
        streak = _streak(
            client.id,
            occ.local_day,
            touched,
            exempt,
            holidays,
            ooo_all.get(client.cso_id, []),
            reminded,
        )
        targets: list[tuple[str, str]] = []
        if streak >= 2 and client.service_lead_id:
            targets.append((ESCALATE_SL, client.service_lead_id))
        if streak >= 3:
            targets += [(ESCALATE_HOD, h.slack_id) for h in hods]
        for cadence_id, target in targets:
            if target == client.cso_id:
                continue
            cso = names.get(client.cso_id, client.cso_id)
            text = f"{client.name}: no touchpoint for {streak} business days in a row (CSO {cso})"
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
                        "streak": streak,
                        "role": "service_lead" if cadence_id == ESCALATE_SL else "head",
                    },
                )
            )
    return out


# -- rendering: one readable message per person and slot -----------------------------------------
def _outcome(row: Nudge) -> str | None:
    if row.status == "closed":
        return str((row.data or {}).get("outcome") or ":white_check_mark: Closed.")
    if row.status == "dropped":
        return str((row.data or {}).get("outcome") or "No longer needed.")
    return None


def _overflow(row: Nudge) -> bk.Block:
    options = (("Log touchpoint", "log"), ("Skip today", "skip"), ("Snooze 1h", "snooze"))
    return {
        "type": "overflow",
        "action_id": "cadence_menu",
        "options": [
            {"text": {"type": "plain_text", "text": label}, "value": f"{verb}:{row.id}"}
            for label, verb in options
        ],
    }


def _cutoff_blocks(rows: list[Nudge]) -> list[bk.Block]:
    data = rows[0].data or {}
    n = len(rows)
    # Buttons take two blocks a client; a long list takes one (a menu), to fit Slack's 50.
    compact = n > COMPACT_AFTER
    out = [
        bk.section(
            f":hourglass_flowing_sand: *Overdue touchpoints* — {n} "
            f"client{'s' if n != 1 else ''} with no touchpoint logged today:"
        )
    ]
    for row in rows:
        d = row.data or {}
        name = f"*{d.get('client', '?')}*"
        outcome = _outcome(row)
        if outcome:
            out.append(bk.section(f"{name} — {outcome}"))
            continue
        note = " (snoozed reminder)" if d.get("snoozed_from") else ""
        if compact:
            out.append(bk.section(name + note, accessory=_overflow(row)))
            continue
        out.append(bk.section(name + note))
        out.append(
            bk.actions(
                bk.button("Log touchpoint", "cadence_log", row.key, style="primary"),
                bk.button("Skip today", "cadence_skip", row.key),
                bk.button("Snooze 1h", "cadence_snooze", row.key),
                block_id=f"cutoff-{row.id}",
            )
        )
    out.append(bk.context(f"Why: {data.get('why', '')}", "Tune it: `/cso prefs cutoff 16:00`."))
    return out


def _escalation_blocks(rows: list[Nudge]) -> list[bk.Block]:
    out: list[bk.Block] = []
    for row in rows:
        d = row.data or {}
        line = (
            f":rotating_light: *{d.get('client')}* has had no touchpoint for "
            f"*{d.get('streak')} business days in a row*. Owner: <@{d.get('cso')}> (CSO)."
        )
        if d.get("role") == "service_lead":
            line += " As Service Lead, check in with them today or cover the update (Plan B)."
        else:
            line += " Escalated to you as head of delivery: agree a recovery owner today."
        outcome = _outcome(row)
        out.append(bk.section(line + (f"\n{outcome}" if outcome else "")))
    out.append(bk.context(f"Why: {ESCALATE_WHY}", TUNE))
    return out


_CLOSES_HINT = {
    "touchpoint": "closes when a touchpoint is logged (a message in the client channel, or "
    "`/touchpoint`)",
    "win": 'closes with `/win <client> "…"`',
    "pulse": "closes with `/pulse <client> <sentiment> …`",
    "click": "click *Done* when it's held",
}


def _cadence_blocks(rows: list[Nudge]) -> list[bk.Block]:
    d0 = rows[0].data or {}
    closes = str(d0.get("closes", "click"))
    out: list[bk.Block] = [bk.section(f":calendar: *{d0.get('title')}*")]
    for row in rows:
        d = row.data or {}
        label = f"• {d['client']}" if d.get("client") else "• For you"
        outcome = _outcome(row)
        if outcome:
            out.append(bk.section(f"{label} — {outcome}"))
        elif closes == "click":
            out.append(
                bk.section(label, accessory=bk.button("Done", "cadence_done", row.key, "primary"))
            )
        else:
            out.append(bk.section(label))
    tune = TUNE
    if d0.get("person_time"):
        tune = f"Tune it: `/cso prefs {d0['person_time']} HH:MM`, or `/cso prefs`."
    out.append(bk.context(f"Why: {d0.get('why', '')} · It {_CLOSES_HINT.get(closes, '')}.", tune))
    return out


def _groups(rows: list[Nudge]) -> dict[str, list[Nudge]]:
    """One person's nudges by cadence (rows of other features each on their own)."""
    groups: dict[str, list[Nudge]] = {}
    for row in rows:
        ours = (row.data or {}).get("view") == "cadence"
        groups.setdefault(row.cadence_id if ours else f"~{row.id}", []).append(row)
    return groups


def render_rows(rows: list[Nudge]) -> tuple[str, list[bk.Block]]:
    """One person's nudges as one message: grouped by cadence, each with why and how to tune.
    Too much for one Slack message (50 blocks, 3,000 characters a section): one line per
    client with its count and a button to the full list (`render_summary`), never cut."""
    if not any((r.data or {}).get("view") == "cadence" for r in rows):
        return default_batcher(rows)
    groups = _groups(rows)
    out: list[bk.Block] = []
    texts: list[str] = []
    if len(groups) > 1:
        out.append(
            bk.section(f"*{len(groups)} things are due* — one message, so your DMs stay quiet.")
        )
    for cadence_id, group in groups.items():
        if out:
            out.append(bk.divider())
        if cadence_id == CUTOFF:
            out.extend(_cutoff_blocks(group))
            names = ", ".join(str((r.data or {}).get("client")) for r in group)
            texts.append(f"Overdue touchpoints: {names}")
        elif cadence_id in ESCALATIONS:
            out.extend(_escalation_blocks(group))
            texts.extend(r.text for r in group)
        elif cadence_id.startswith("~"):
            out.extend(group[0].blocks or [bk.section(group[0].text)])
            texts.append(group[0].text)
        else:
            out.extend(_cadence_blocks(group))
            clients = [
                str((r.data or {}).get("client")) for r in group if (r.data or {}).get("client")
            ]
            title = str((group[0].data or {}).get("title"))
            texts.append(title + (f": {', '.join(clients)}" if clients else ""))
    text = "\n".join(texts)
    if overfull(out):
        return text, render_summary(rows)
    return text, out


def _item(row: Nudge) -> str:
    """What one nudge is, in a few words (its title; crossed out, with what happened, once it
    is done); a nudge of another feature is its own text, in full."""
    d = row.data or {}
    if d.get("view") != "cadence":
        name = row.text
    elif row.cadence_id == CUTOFF:
        name = ":hourglass_flowing_sand: no touchpoint today"
    elif row.cadence_id in ESCALATIONS:
        name = f":rotating_light: {d.get('streak')} business days without a touchpoint"
    else:
        name = str(d.get("title") or row.cadence_id)
    outcome = _outcome(row)
    return f"~{name}~ ({outcome})" if outcome else name


def summary_groups(rows: list[Nudge]) -> dict[str, list[Nudge]]:
    """One person's nudges by client (named from the cadence nudges), then what is for the
    person alone ("For you"); a nudge of another feature with no client it can be put under
    is a line of its own."""
    names = {
        r.client_id: str((r.data or {})["client"])
        for r in rows
        if r.client_id is not None and (r.data or {}).get("client")
    }
    groups: dict[str, list[Nudge]] = {}
    for row in rows:
        if row.client_id in names:
            label = names[row.client_id]
        elif (row.data or {}).get("view") == "cadence":
            label = "For you"
        else:
            label = f"~{row.id}"
        groups.setdefault(label, []).append(row)
    return groups


def render_summary(rows: list[Nudge]) -> list[bk.Block]:
    """The reorganised message: one line per client with its count (and, for an overdue
    touchpoint, its menu: Log / Skip / Snooze), then *See the full list*."""
    groups = summary_groups(rows)
    lines: list[str] = []
    line_blocks: list[bk.Block] = []
    for label, group in groups.items():
        open_ = [r for r in group if not _outcome(r)]
        if label.startswith("~"):
            line = "• " + _item(group[0])
        else:
            count = f"{len(open_)} due" if open_ else "all done"
            if open_ and len(open_) < len(group):
                count += f", {len(group) - len(open_)} done"
            line = f"*{label}* — {count}: " + " · ".join(_item(r) for r in group)
        lines.append(line)
        cutoff = next((r for r in open_ if r.cadence_id == CUTOFF), None)
        accessory = _overflow(cutoff) if cutoff is not None else None
        line_blocks.append(bk.section(line, accessory=accessory))
    n = len(rows)
    clients = sum(1 for label in groups if label != "For you" and not label.startswith("~"))
    header = (
        f":bell: *{n} thing{'s' if n != 1 else ''} due* across {clients} "
        f"client{'s' if clients != 1 else ''} — one line each; *See the full list* has "
        "every one, with what closes it."
    )
    fits = all(len(line) < bk.MAX_SECTION_TEXT for line in lines)
    return summary_blocks(header, lines, line_blocks=line_blocks if fits else None, footer=[TUNE])


def list_blocks(rows: list[Nudge]) -> list[bk.Block]:
    """Every nudge of a message, in full, for the *See the full list* modal: by cadence, each
    client with what was done and what closes it; a cadence closed by a click keeps its *Done*
    button per client."""
    if not any((r.data or {}).get("view") == "cadence" for r in rows):
        return text_blocks(default_lines(rows))
    out: list[bk.Block] = []
    lines: list[str] = []
    for cadence_id, group in _groups(rows).items():
        d0 = group[0].data or {}
        closes = str(d0.get("closes", "click"))
        if cadence_id == CUTOFF or cadence_id in ESCALATIONS:
            closes = "touchpoint"
        if closes == "click" and not cadence_id.startswith("~"):
            out.extend(text_blocks(lines))
            lines = []
            out.extend(_cadence_blocks(group))
            continue
        if lines:
            lines.append("")
        if cadence_id.startswith("~"):
            lines.extend(default_lines(group))
            continue
        title = "Overdue touchpoints" if cadence_id == CUTOFF else str(d0.get("title"))
        lines.append(f"*{title}*")
        for row in group:
            d = row.data or {}
            if cadence_id in ESCALATIONS:
                label = (
                    f"• {d.get('client')}: no touchpoint for {d.get('streak')} business days "
                    f"in a row (CSO <@{d.get('cso')}>)"
                )
            else:
                label = f"• {d['client']}" if d.get("client") else "• For you"
            outcome = _outcome(row)
            lines.append(label + (f" — {outcome}" if outcome else ""))
        lines.append(f"_It {_CLOSES_HINT.get(closes, '')}._")
    out.extend(text_blocks(lines))
    return out


def render_batch(rows: list[Nudge]) -> tuple[str, list[bk.Block]]:
    return render_rows(rows)


# -- done is done: update a sent message ---------------------------------------------------------
def refresh_message(deps: Deps, client: WebClient, channel: str, ts: str) -> None:
    """Re-render a sent message from its nudges' current state (chat.update)."""
    with deps.db.session() as session:
        rows = list(
            session.scalars(
                select(Nudge)
                .where(Nudge.message_channel == channel, Nudge.message_ts == ts)
                .order_by(Nudge.id)
            )
        )
    if not rows:
        return
    text, blocks = render_rows(rows)
    try:
        client.chat_update(channel=channel, ts=ts, text=bk.fallback(text), blocks=blocks)
    except SlackApiError as exc:
        logger.warning("could not update reminder %s (%s)", ts, exc.response.get("error"))


def close_nudges(
    session: Session, rows: Iterable[Nudge], *, by: str, outcome: str, now: datetime
) -> set[tuple[str, str]]:
    """Close open nudges (a sent one becomes closed, a pending one dropped); return the
    messages to update."""
    messages: set[tuple[str, str]] = set()
    for row in rows:
        if row.status not in OPEN:
            continue
        was_sent = row.status == "sent"
        row.status = "closed" if was_sent else "dropped"
        row.closed_at, row.closed_by = now, by[:64]
        row.claim_token = None
        row.data = {**(row.data or {}), "outcome": outcome}
        if was_sent and row.message_channel and row.message_ts:
            messages.add((row.message_channel, row.message_ts))
    return messages


def touchpoint_closers(catalogue: Catalogue) -> set[str]:
    return {c.id for c in catalogue.cadences if c.closes_on_touchpoint} | set(ESCALATIONS)


def after_touchpoint(
    deps: Deps, client: WebClient | None, client_id: int, day: date, *, outcome: str, by: str
) -> int:
    """A touchpoint (or a skipped day) arrived: close that day's reminders for the client and
    update the messages already sent. Returns how many were closed."""
    now = deps.clock.now()
    with deps.db.transaction() as session:
        closers = touchpoint_closers(catalogue_of(organization(session)))
        rows = list(
            session.scalars(
                select(Nudge).where(
                    Nudge.client_id == client_id,
                    Nudge.status.in_(OPEN),
                    Nudge.cadence_id.in_(sorted(closers)),
                    Nudge.period == day.isoformat(),
                )
            )
        )
        messages = close_nudges(session, rows, by=by, outcome=outcome, now=now)
    if client is not None:
        for channel, ts in sorted(messages):
            refresh_message(deps, client, channel, ts)
    return len(rows)


def mark_done(
    session: Session, nudge: Nudge, *, by: str, now: datetime, tz: ZoneInfo = UTC_ZONE
) -> tuple[bool, set[tuple[str, str]]]:
    """Record a cadence closed by a click (who and when); close it for everyone nudged."""
    key = done_key(nudge.cadence_id, nudge.client_id, nudge.person_id or nudge.target, nudge.period)
    new = insert_ignore(
        session,
        CadenceDone,
        {
            "key": key,
            "cadence_id": nudge.cadence_id,
            "client_id": nudge.client_id,
            "person_id": None if nudge.client_id else nudge.person_id,
            "period": nudge.period,
            "done_by": by,
            "done_at": now,
        },
    )
    query = select(Nudge).where(Nudge.cadence_id == nudge.cadence_id, Nudge.period == nudge.period)
    if nudge.client_id is not None:
        query = query.where(Nudge.client_id == nudge.client_id)
    else:
        query = query.where(Nudge.person_id == nudge.person_id)
    outcome = f":white_check_mark: Done — <@{by}>, {now.astimezone(tz):%a %Y-%m-%d %H:%M}"
    messages = close_nudges(session, list(session.scalars(query)), by=by, outcome=outcome, now=now)
    return new, messages


# -- the noise budget: the outbox gate -----------------------------------------------------------
def make_gate(deps: Deps, client: WebClient | None) -> Gate:
    """Quiet hours, out of office and holidays, a daily DM cap, and Slack Do Not Disturb.

    Returns a later moment to postpone to (the outbox drops what passes its grace). People,
    preferences, out-of-office and the last day's DMs are read once per gate (one tick)."""
    cache: dict[str, Any] = {}

    def load(now: datetime) -> dict[str, Any]:
        if not cache:
            with deps.db.session() as session:
                cache["org"] = organization(session)
                cache["people"] = {
                    pid: PersonRow(pid, name, role, tz)
                    for pid, name, role, tz in session.execute(
                        select(
                            PersonTable.slack_id,
                            PersonTable.name,
                            PersonTable.role,
                            PersonTable.timezone,
                        )
                    )
                }
                cache["prefs"] = {
                    r.slack_id: Prefs.of(r) for r in session.scalars(select(PersonPrefs))
                }
                cache["ooo"] = ooo_ranges(session, now.date() - timedelta(days=1))
                sent: dict[str, dict[str, datetime]] = defaultdict(dict)
                for target, ts, at in session.execute(
                    select(Nudge.target, Nudge.message_ts, Nudge.sent_at).where(
                        Nudge.sent_at >= now - timedelta(days=1), Nudge.message_ts.is_not(None)
                    )
                ):
                    if ts is not None and at is not None:
                        sent[target][ts] = min(at, sent[target].get(ts, at))
                cache["sent"] = sent
        return cache

    def gate(target: str, rows: list[Nudge], now: datetime) -> datetime | None:
        if not target.startswith(("U", "W")):
            return None  # channels are not people
        known = load(now)
        person = known["people"].get(target)
        if person is None:
            return None
        org = known["org"]
        prefs = known["prefs"].get(target, Prefs())
        tz = person_tz(person, org)
        start, end = prefs.working_hours
        calendar: dict[str, Any] = {
            "holiday_country": org.holidays_country or "",
            "holiday_subdiv": org.holidays_subdiv,
            "ooo": known["ooo"].get(target, []),
        }
        if not within_working_hours(now, tz, start, end, **calendar):
            return next_working_moment(now, tz, start, end, **calendar)
        critical = any(r.cadence_id in (CUTOFF, *ESCALATIONS) for r in rows)
        if not critical:
            local_midnight = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
            sent_today = sum(1 for at in known["sent"][target].values() if at >= local_midnight)
            if sent_today >= prefs.daily_cap:
                logger.info("daily DM cap reached for %s; nudges wait for tomorrow", target)
                tomorrow = datetime.combine(
                    now.astimezone(tz).date() + timedelta(days=1), start, tzinfo=tz
                )
                return next_working_moment(tomorrow, tz, start, end, **calendar)
        if client is not None:
            ends = _dnd_ends(client, target, now)
            if ends is not None:
                # Check again when it ends, or sooner: people end Do Not Disturb early.
                return min(ends, now + DND_RECHECK)
        return None

    return gate


def _dnd_ends(client: WebClient, user: str, now: datetime) -> datetime | None:
    """When the user's Do Not Disturb (snooze or schedule) ends, if it is on at `now`."""
    try:
        info = client.dnd_info(user=user)
    except (SlackApiError, OSError):
        return None  # never let a DnD lookup block a reminder
    ts = now.timestamp()
    if info.get("snooze_enabled") and float(info.get("snooze_endtime") or 0) > ts:
        return datetime.fromtimestamp(float(info["snooze_endtime"]), UTC)
    if info.get("dnd_enabled"):
        start = float(info.get("next_dnd_start_ts") or 0)
        end = float(info.get("next_dnd_end_ts") or 0)
        if start <= ts < end:
            return datetime.fromtimestamp(end, UTC)
    return None


def after_recorded(
    deps: Deps, client: WebClient | None, client_id: int, closes: str, by: str
) -> int:
    """A win (`/win`) or a pulse (`/pulse`) was recorded: close the client's open reminders
    that it closes (the weekly presentation, the stand-up pulse) and update sent messages."""
    now = deps.clock.now()
    outcome = {
        "win": f":trophy: Win recorded by <@{by}>.",
        "pulse": f":white_check_mark: Pulse recorded by <@{by}>.",
    }.get(closes, ":white_check_mark: Done.")
    try:
        with deps.db.transaction() as session:
            catalogue = catalogue_of(organization(session))
            ids = sorted(c.id for c in catalogue.cadences if c.closes_by == closes)
            rows = list(
                session.scalars(
                    select(Nudge).where(
                        Nudge.client_id == client_id,
                        Nudge.status.in_(OPEN),
                        Nudge.cadence_id.in_(ids),
                    )
                )
            )
            messages = close_nudges(session, rows, by=by, outcome=outcome, now=now)
        if client is not None:
            for channel, ts in sorted(messages):
                refresh_message(deps, client, channel, ts)
    except Exception:  # the win or pulse is recorded; an open reminder is not worth a failure
        logger.exception("could not close the %s reminders for client %s", closes, client_id)
        return 0
    return len(rows)
