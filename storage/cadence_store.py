"""The cadences' SQL: the snapshot a tick plans from (in a handful of set-based queries, no
per-client loops), the bulk write of its nudges, the escalation history, closing reminders
(done is done), *Done* marks, nudge preferences and time out of office."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import String, func, select, type_coerce, update

from domain import records
from domain.cadence_plan import (
    CUTOFF,
    EscalationHistory,
    PlanClient,
    PlanPerson,
    Snapshot,
    catalogue_of,
    done_key,
    iso_week,
)
from domain.calendar import OooRange
from domain.nudge import CHECKLIST, Line, client_key, lines, listed, split_line_key
from domain.prefs import Prefs, SetPref
from storage.db import Transaction, id_list
from storage.lifecycle_store import current_stages
from storage.models import (
    CadenceDone,
    Client,
    Exemption,
    Nudge,
    OutOfOffice,
    Person,
    PersonPrefs,
    Pulse,
    Touchpoint,
    Win,
)
from storage.org_settings_store import org_settings
from storage.portfolio_store import client_record, organization
from storage.upsert import insert_ignore

OPEN = ("pending", "sending", "sent")
ALL_STATUSES = ("pending", "sending", "sent", "closed", "dropped")
Message = tuple[str, str]  # (channel, ts) of a sent message to re-render


# -- records --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NudgeRecord:
    """A nudge as a button click reads it."""

    id: int
    key: str
    cadence_id: str
    period: str
    target: str
    person_id: str | None
    client_id: int | None
    status: str
    text: str
    data: dict[str, Any]


@dataclass(frozen=True)
class OooSpan:
    start_day: date
    end_day: date


@dataclass(frozen=True)
class GateFacts:
    """What the noise gate reads once per tick."""

    org: records.Organization
    people: dict[str, PlanPerson]
    prefs: dict[str, Prefs]
    ooo: dict[str, list[OooRange]]
    sent: dict[str, dict[str, datetime]]  # person -> message ts -> first sent


def _nudge_record(row: Nudge) -> NudgeRecord:
    return NudgeRecord(
        id=row.id,
        key=row.key,
        cadence_id=row.cadence_id,
        period=row.period,
        target=row.target,
        person_id=row.person_id,
        client_id=row.client_id,
        status=row.status,
        text=row.text,
        data=dict(row.data or {}),
    )


def _prefs(row: PersonPrefs | None) -> Prefs:
    if row is None:
        return Prefs()
    return Prefs.of(
        standup=row.standup,
        cutoff=row.cutoff,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        daily_cap=row.daily_cap,
    )


# -- preferences ----------------------------------------------------------------------------------
def prefs_of(tx: Transaction, slack_id: str) -> Prefs:
    return _prefs(tx.get(PersonPrefs, slack_id))


def all_prefs(tx: Transaction) -> dict[str, Prefs]:
    return {row.slack_id: _prefs(row) for row in tx.scalars(select(PersonPrefs))}


def set_pref(tx: Transaction, slack_id: str, change: SetPref, now: datetime) -> Prefs:
    row = tx.get(PersonPrefs, slack_id)
    if row is None:
        row = PersonPrefs(slack_id=slack_id, updated_at=now)
        tx.add(row)
    if change.setting == "standup":
        row.standup = change.at.strftime("%H:%M") if change.at else None
    elif change.setting == "cutoff":
        row.cutoff = change.at.strftime("%H:%M") if change.at else None
    elif change.setting == "cap":
        row.daily_cap = change.cap
    else:
        start, end = change.quiet or (None, None)
        row.quiet_start = start.strftime("%H:%M") if start else None
        row.quiet_end = end.strftime("%H:%M") if end else None
    row.updated_at = now
    tx.flush()
    return _prefs(row)


# -- out of office --------------------------------------------------------------------------------
def _current_ooo_rows(tx: Transaction, person_id: str, today: date) -> list[OutOfOffice]:
    return list(
        tx.scalars(
            select(OutOfOffice)
            .where(
                OutOfOffice.person_id == person_id,
                OutOfOffice.cancelled_at.is_(None),
                OutOfOffice.end_day >= today,
            )
            .order_by(OutOfOffice.start_day)
        )
    )


def add_ooo(
    tx: Transaction, person_id: str, start: date, end: date, *, by: str, now: datetime
) -> OooSpan:
    """Set time out of office; an overlapping earlier range is replaced."""
    for row in _current_ooo_rows(tx, person_id, start):
        if row.start_day <= end and start <= row.end_day:
            row.cancelled_at = now
    tx.add(
        OutOfOffice(
            person_id=person_id, start_day=start, end_day=end, created_by=by, created_at=now
        )
    )
    tx.flush()
    return OooSpan(start, end)


def current_ooo(tx: Transaction, person_id: str, today: date) -> list[OooSpan]:
    return [OooSpan(r.start_day, r.end_day) for r in _current_ooo_rows(tx, person_id, today)]


def cancel_ooo(tx: Transaction, person_id: str, today: date, now: datetime) -> int:
    result = tx.execute(
        update(OutOfOffice)
        .where(
            OutOfOffice.person_id == person_id,
            OutOfOffice.cancelled_at.is_(None),
            OutOfOffice.end_day >= today,
        )
        .values(cancelled_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def ooo_ranges(
    tx: Transaction, since: date, person_id: str | None = None
) -> dict[str, list[OooRange]]:
    """Active (not cancelled) out-of-office ranges ending on or after `since`, per person."""
    query = select(OutOfOffice.person_id, OutOfOffice.start_day, OutOfOffice.end_day).where(
        OutOfOffice.cancelled_at.is_(None), OutOfOffice.end_day >= since
    )
    if person_id is not None:
        query = query.where(OutOfOffice.person_id == person_id)
    out: dict[str, list[OooRange]] = defaultdict(list)
    for pid, start, end in tx.execute(query):
        out[pid].append((start, end))
    return out


def clients_by_service_lead(tx: Transaction, cso_id: str) -> dict[str, list[records.Client]]:
    """A CSO's active clients grouped by their Service Lead (their Plan B)."""
    out: dict[str, list[records.Client]] = {}
    for c in tx.scalars(
        select(Client).where(Client.cso_id == cso_id, Client.active).order_by(Client.slug)
    ):
        if c.service_lead_id and c.service_lead_id != cso_id:
            out.setdefault(c.service_lead_id, []).append(client_record(c))
    return out


# -- the snapshot: everything a tick needs, in a few set-based queries ----------------------------
def _people(tx: Transaction, *, active_only: bool) -> list[PlanPerson]:
    query = select(Person.slack_id, Person.name, Person.role, Person.timezone)
    if active_only:
        query = query.where(Person.active).order_by(Person.slack_id)
    return [PlanPerson(*row) for row in tx.execute(query)]


def _pairs(rows: Iterable[Any]) -> set[tuple[Any, Any]]:
    return {(a, b) for a, b in rows}


def _day_pairs(rows: Iterable[Any]) -> set[tuple[Any, date]]:
    """(id, day) pairs of a query whose day comes back raw: text on SQLite, parsed here with
    date.fromisoformat (a C call) instead of the generic type processor (a regex per row)."""
    parse = date.fromisoformat
    return {(a, day if isinstance(day, date) else parse(day)) for a, day in rows}


def _touch_days(
    tx: Transaction, lo: date, hi: date, client_ids: Collection[int] | None = None
) -> set[tuple[int, date]]:
    query = select(Touchpoint.client_id, type_coerce(Touchpoint.local_date, String)).where(
        Touchpoint.local_date.between(lo, hi)
    )
    if client_ids is not None:
        query = query.where(Touchpoint.client_id.in_(id_list(client_ids)))
    return _day_pairs(tx.execute(query.distinct()))


def _exempt_days(
    tx: Transaction, lo: date, hi: date, client_ids: Collection[int] | None = None
) -> set[tuple[int, date]]:
    query = select(Exemption.client_id, type_coerce(Exemption.day, String)).where(
        Exemption.day.between(lo, hi)
    )
    if client_ids is not None:
        query = query.where(Exemption.client_id.in_(id_list(client_ids)))
    return _day_pairs(tx.execute(query))


def load_snapshot(tx: Transaction, now: datetime) -> Snapshot:
    org = organization(tx)
    catalogue = catalogue_of(org_settings(tx))
    people = _people(tx, active_only=True)
    clients = [
        PlanClient(*row)
        for row in tx.execute(
            select(
                Client.id,
                Client.slug,
                Client.name,
                Client.cso_id,
                Client.service_lead_id,
                Client.engagement_partner_id,
                Client.contract_start,
                Client.contract_end,
            )
            .where(Client.active)
            .order_by(Client.slug)
        )
    ]
    stages = current_stages(tx, [c.id for c in clients])
    clients = [
        dataclasses.replace(c, stage=stages[c.id][0]) if c.id in stages else c for c in clients
    ]
    day = now.astimezone(UTC).date()
    # Every local "today" on Earth is within a day of the UTC date.
    lo, hi = day - timedelta(days=2), day + timedelta(days=1)
    snap = Snapshot(org, catalogue, people, clients, all_prefs(tx), ooo_ranges(tx, lo))
    snap.touch_days = _touch_days(tx, lo, hi)
    snap.exempt_days = _exempt_days(tx, lo, hi)
    weeks = {iso_week(lo + timedelta(days=i)) for i in range((hi - lo).days + 1)}
    snap.wins = _pairs(
        tx.execute(
            select(Win.client_id, Win.iso_week).where(Win.iso_week.in_(sorted(weeks))).distinct()
        )
    )
    pulses = tx.execute(
        select(Pulse.client_id, func.max(Pulse.created_at))
        .where(Pulse.created_at >= now - timedelta(days=2))
        .group_by(Pulse.client_id)
    )
    snap.last_pulse = {client_id: at for client_id, at in pulses if at is not None}
    snap.done = set(
        tx.scalars(select(CadenceDone.key).where(CadenceDone.done_at >= now - timedelta(days=400)))
    )
    # Keys already in the outbox around now (index ix_nudge_status_due): only new ones are
    # written, so a steady-state tick writes nothing.
    around = (
        Nudge.status.in_(ALL_STATUSES),
        Nudge.due_at.between(now - timedelta(days=2), now + timedelta(days=2)),
    )
    snap.existing = set(tx.scalars(select(Nudge.key).where(*around)))
    # A client a checklist lists has its reminder already.
    for key, data in tx.execute(select(Nudge.key, Nudge.data).where(*around, _is_checklist())):
        snap.existing.update(client_key(key, int(c["id"])) for c in listed(data))
    return snap


def _is_checklist() -> Any:
    """A checklist's row: no client of its own, CHECKLIST in its key."""
    return Nudge.client_id.is_(None) & Nudge.key.contains(f":{CHECKLIST}:", autoescape=True)


def escalation_history(
    tx: Transaction, first: date, last: date, client_ids: Collection[int] | None = None
) -> EscalationHistory:
    """Touchpoints, exemptions, cutoff reminders and time out of office from `first` to `last`
    (touchpoints and exemptions of `client_ids` only, when given: the clients missed today,
    not ten days of every client's touchpoints)."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    reminded = {
        (client_id, date.fromisoformat(period))
        for client_id, period in tx.execute(
            select(Nudge.client_id, Nudge.period)
            .where(Nudge.cadence_id == CUTOFF, Nudge.period.in_([d.isoformat() for d in days]))
            .distinct()
        )
        if client_id is not None
    }
    return EscalationHistory(
        touched=_touch_days(tx, first, last, client_ids),
        exempt=_exempt_days(tx, first, last, client_ids),
        reminded=reminded,
        ooo=ooo_ranges(tx, first),
    )


# -- the noise gate's facts -----------------------------------------------------------------------
def gate_facts(tx: Transaction, now: datetime) -> GateFacts:
    """People, preferences, out-of-office and the last day's DMs (read once per tick)."""
    sent: dict[str, dict[str, datetime]] = defaultdict(dict)
    for target, ts, at in tx.execute(
        select(Nudge.target, Nudge.message_ts, Nudge.sent_at).where(
            Nudge.sent_at >= now - timedelta(days=1), Nudge.message_ts.is_not(None)
        )
    ):
        if ts is not None and at is not None:
            sent[target][ts] = min(at, sent[target].get(ts, at))
    return GateFacts(
        org=organization(tx),
        people={p.slack_id: p for p in _people(tx, active_only=False)},
        prefs=all_prefs(tx),
        ooo=ooo_ranges(tx, now.date() - timedelta(days=1)),
        sent=sent,
    )


# -- reminders: look up, close, mark done ---------------------------------------------------------
def nudge_by_key(tx: Transaction, key: str) -> NudgeRecord | None:
    """The reminder under `key`; a checklist's line (`<key>|<client id>`) as a reminder about
    that client, None when the checklist does not list it."""
    line = split_line_key(key)
    row = tx.scalars(select(Nudge).where(Nudge.key == (line[0] if line else key))).first()
    if row is None or line is None:
        return _nudge_record(row) if row is not None else None
    for x in lines(row):
        if isinstance(x, Line) and x.client_id == line[1]:
            return dataclasses.replace(
                _nudge_record(row),
                key=x.key,
                client_id=x.client_id,
                status=x.status,
                text=x.text,
                data=x.data,
            )
    return None


def nudge_key_by_id(tx: Transaction, nudge_id: int) -> str | None:
    row = tx.get(Nudge, nudge_id)
    return row.key if row else None


def _close_rows(rows: Iterable[Nudge], *, by: str, outcome: str, now: datetime) -> set[Message]:
    """Close open nudges (a sent one becomes closed, a pending one dropped); return the
    messages to update."""
    messages: set[Message] = set()
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


def close_nudge(tx: Transaction, key: str, *, by: str, outcome: str, now: datetime) -> set[Message]:
    """Close one open nudge (a snoozed one)."""
    rows = list(tx.scalars(select(Nudge).where(Nudge.key == key)))
    messages = _close_rows(rows, by=by, outcome=outcome, now=now)
    tx.flush()
    return messages


def close_for_client(
    tx: Transaction,
    client_id: int,
    cadence_ids: Iterable[str],
    *,
    by: str,
    outcome: str,
    now: datetime,
    period: str | None = None,
) -> tuple[int, set[Message]]:
    """Close the client's open nudges of these cadences (of one period, if given): how many,
    and the sent messages to update."""
    query = select(Nudge).where(
        Nudge.client_id == client_id,
        Nudge.status.in_(OPEN),
        Nudge.cadence_id.in_(sorted(cadence_ids)),
    )
    if period is not None:
        query = query.where(Nudge.period == period)
    rows = list(tx.scalars(query))
    messages = _close_rows(rows, by=by, outcome=outcome, now=now)
    tx.flush()
    return len(rows), messages


def mark_done(
    tx: Transaction, nudge: NudgeRecord, *, by: str, outcome: str, now: datetime
) -> tuple[bool, set[Message]]:
    """Record a cadence closed by a click (who and when); close it for everyone nudged."""
    key = done_key(nudge.cadence_id, nudge.client_id, nudge.person_id or nudge.target, nudge.period)
    new = insert_ignore(
        tx,
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
    return new, close_occurrence(tx, nudge, by=by, outcome=outcome, now=now)


def close_occurrence(
    tx: Transaction, nudge: NudgeRecord, *, by: str, outcome: str, now: datetime
) -> set[Message]:
    """Close every nudge of the same occurrence (the client's, or the person's): a client's is
    also closed on every checklist that lists it, and a checklist whose clients are all closed
    closes."""
    query = select(Nudge).where(Nudge.cadence_id == nudge.cadence_id, Nudge.period == nudge.period)
    if nudge.client_id is None:
        query = query.where(Nudge.person_id == nudge.person_id)
        messages = _close_rows(list(tx.scalars(query)), by=by, outcome=outcome, now=now)
        tx.flush()
        return messages
    messages = _close_rows(
        list(tx.scalars(query.where(Nudge.client_id == nudge.client_id))),
        by=by,
        outcome=outcome,
        now=now,
    )
    # Locked (in one order, so two clicks never wait on each other): two people closing two
    # clients of one checklist at once both land.
    checklists = (
        query.where(Nudge.status.in_(OPEN), _is_checklist()).order_by(Nudge.id).with_for_update()
    )
    for row in tx.scalars(checklists):
        messages |= _close_line(row, nudge.client_id, by=by, outcome=outcome, now=now)
    tx.flush()
    return messages


def _close_line(
    row: Nudge, client_id: int, *, by: str, outcome: str, now: datetime
) -> set[Message]:
    """Close one client's line of an open checklist (the whole checklist once every line is
    closed): the message to update, if it was sent."""
    clients = listed(row.data)
    if not any(c.get("id") == client_id and not c.get("outcome") for c in clients):
        return set()
    clients = [{**c, "outcome": outcome} if c.get("id") == client_id else c for c in clients]
    row.data = {**(row.data or {}), "clients": clients}
    if all(c.get("outcome") for c in clients):
        return _close_rows([row], by=by, outcome=outcome, now=now)
    if row.status == "sent" and row.message_channel and row.message_ts:
        return {(row.message_channel, row.message_ts)}
    return set()
