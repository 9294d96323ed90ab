"""Health persistence: snapshots, derived signals, readings, NPS, playbooks, renewals, QBRs.

Every loader takes a list of clients and answers with a fixed number of queries, whatever the
portfolio size (the board and the tick read a whole portfolio at once).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Subquery

from domain import records
from domain.health import Band, HealthModel, HealthScore, HistoryItem, score
from domain.health_inputs import (
    MEETING_WINDOW_DAYS,
    NPS_WINDOW_DAYS,
    RESPONSE_WINDOW_DAYS,
    Change,
    SignalState,
    UsageRow,
    compose,
    meeting_attendance_signal,
    nps_signal,
    response_delays,
    response_time_signal,
)
from domain.playbooks import Progress, instantiate, progress
from domain.renewals import RENEWED_OUTCOMES, Outcome
from storage.activity import excerpt
from storage.models import (
    Client,
    HealthSnapshot,
    InboundMessage,
    NpsResponse,
    PlaybookRun,
    PlaybookRunStep,
    QbrRecord,
    RenewalOutcomeRecord,
    SignalReading,
    Touchpoint,
)
from storage.portfolio import client_record
from storage.upsert import insert_ignore

logger = logging.getLogger(__name__)

SNAPSHOT_ORDER = (
    HealthSnapshot.day.desc(),
    HealthSnapshot.taken_at.desc(),
    HealthSnapshot.id.desc(),
)


# -- snapshots ------------------------------------------------------------------------------------


def state_of(snapshot: HealthSnapshot | None) -> SignalState:
    if snapshot is None:
        return SignalState()
    return SignalState(
        values=dict(snapshot.values or {}),
        derived=dict(snapshot.derived or {}),
        overrides=dict(snapshot.overrides or {}),
        sources=dict(snapshot.sources or {}),
    )


def latest_snapshot(
    session: Session, client_id: int, on_or_before: date | None = None
) -> HealthSnapshot | None:
    query = select(HealthSnapshot).where(HealthSnapshot.client_id == client_id)
    if on_or_before is not None:
        query = query.where(HealthSnapshot.day <= on_or_before)
    return session.scalars(query.order_by(*SNAPSHOT_ORDER).limit(1)).first()


def newest_days(client_ids: Sequence[int], *, source: str | None = None) -> Subquery:
    """(client_id, day): each client's latest snapshot day — one index probe per client."""
    inner = select(func.max(HealthSnapshot.day)).where(HealthSnapshot.client_id == Client.id)
    if source is not None:
        inner = inner.where(HealthSnapshot.source == source)
    return (
        select(Client.id.label("client_id"), inner.scalar_subquery().label("day"))
        .where(Client.id.in_(client_ids))
        .subquery()
    )


def latest_snapshots(session: Session, client_ids: Sequence[int]) -> dict[int, HealthSnapshot]:
    """Each client's latest snapshot, in one query."""
    if not client_ids:
        return {}
    newest = newest_days(client_ids)
    rows = session.scalars(
        select(HealthSnapshot)
        .join(
            newest,
            (HealthSnapshot.client_id == newest.c.client_id) & (HealthSnapshot.day == newest.c.day),
        )
        .order_by(HealthSnapshot.taken_at, HealthSnapshot.id)
    )
    return {s.client_id: s for s in rows}  # the last written on the latest day wins


def _fingerprint(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha1(raw).hexdigest()[:16]


@dataclass
class Written:
    snapshot: HealthSnapshot | None
    result: HealthScore | None
    changes: list[Change] = field(default_factory=list)
    new: bool = False


def write_snapshot(
    session: Session,
    client: records.Client,
    model: HealthModel,
    state: SignalState,
    changes: list[Change],
    *,
    source: str,
    by: str,
    now: datetime,
    day: date,
    dedupe_key: str,
) -> Written:
    """Score the inputs and keep them. Nothing to score (no signal at all) writes nothing."""
    values = {k: v for k, v in state.values.items() if k in set(model.signal_names)}
    if not values:
        return Written(None, None, changes)
    result = score(model, values, client.segment)
    new = insert_ignore(
        session,
        HealthSnapshot,
        {
            "client_id": client.id,
            "taken_at": now,
            "day": day,
            "model_id": model.id,
            "segment": client.segment,
            "score": result.score,
            "band": result.band.value,
            "band_since": day,
            "values": state.values,
            "derived": state.derived,
            "overrides": state.overrides,
            "sources": state.sources,
            "changes": [c.model_dump() for c in changes],
            "source": source,
            "changed_by": by,
            "dedupe_key": dedupe_key[:200],
        },
    )
    if new:
        restamp_band_since(session, client.id, day)
    snap = session.scalars(
        select(HealthSnapshot).where(HealthSnapshot.dedupe_key == dedupe_key[:200])
    ).first()
    return Written(snap, result, changes, new)


def restamp_band_since(session: Session, client_id: int, from_day: date) -> None:
    """Recompute `band_since` of the client's snapshots from `from_day` on (a back-dated
    import can change the runs after it). Several scores on one day: the last one counts,
    as in domain.health."""
    prev = session.scalars(
        select(HealthSnapshot)
        .where(HealthSnapshot.client_id == client_id, HealthSnapshot.day < from_day)
        .order_by(*SNAPSHOT_ORDER)
        .limit(1)
    ).first()
    run_band, run_start = (prev.band, prev.band_since) if prev else (None, None)
    rows = session.scalars(
        select(HealthSnapshot)
        .where(HealthSnapshot.client_id == client_id, HealthSnapshot.day >= from_day)
        .order_by(HealthSnapshot.day, HealthSnapshot.taken_at, HealthSnapshot.id)
    ).all()
    by_day: dict[date, list[HealthSnapshot]] = defaultdict(list)
    for row in rows:
        by_day[row.day].append(row)
    for day, group in by_day.items():
        last = group[-1]
        start = run_start if last.band == run_band and run_start is not None else day
        for row in group:
            wanted = start if row.band == last.band else day
            if row.band_since != wanted:
                row.band_since = wanted
        run_band, run_start = last.band, start


def save_manual(
    session: Session,
    client: records.Client,
    model: HealthModel,
    manual: dict[str, float | None],
    *,
    by: str,
    now: datetime,
    day: date,
    dedupe_key: str,
) -> Written:
    """A person's edits (the modal): fresh derived values, then their values on top."""
    previous = state_of(latest_snapshot(session, client.id))
    derived = derive_signals(session, [client], now).get(client.id, {})
    state, changes = compose(previous, derived=derived, manual=manual)
    return write_snapshot(
        session,
        client,
        model,
        state,
        changes,
        source="modal",
        by=by,
        now=now,
        day=day,
        dedupe_key=dedupe_key,
    )


def refresh_derived(
    session: Session,
    clients: Sequence[records.Client],
    model: HealthModel,
    now: datetime,
    today: dict[int, date],
) -> list[Written]:
    """A new snapshot for each client whose derived signals moved since its latest one
    (the board is updated daily, and a moved signal can move the band)."""
    derived = derive_signals(session, clients, now)
    latest = latest_snapshots(session, [c.id for c in clients])
    out = []
    for c in clients:
        snap = latest.get(c.id)
        fresh = derived.get(c.id, {})
        previous = state_of(snap)
        wanted = {k: v for k, v in fresh.items() if v is not None}
        if wanted == previous.derived or (snap is None and not wanted):
            continue
        state, changes = compose(previous, derived=fresh)
        key = f"derived:{c.id}:{today[c.id]}:{_fingerprint(state.values, state.derived)}"
        out.append(
            write_snapshot(
                session,
                c,
                model,
                state,
                changes,
                source="derived",
                by="csobot",
                now=now,
                day=today[c.id],
                dedupe_key=key,
            )
        )
    return out


def history(
    session: Session, client_ids: Sequence[int], since: date | None = None
) -> dict[int, list[HistoryItem]]:
    """(day, score, band) per client, oldest first, in one query (sorted here: cheaper than
    asking the database to sort a year of rows)."""
    out: dict[int, list[HistoryItem]] = {cid: [] for cid in client_ids}
    if not client_ids:
        return out
    # Days come back as text on SQLite: parsed here with date.fromisoformat (fast) instead
    # of the generic type processor. Rows written later on the same day have larger ids.
    raw_day = type_coerce(HealthSnapshot.day, String)
    query = select(
        HealthSnapshot.client_id,
        raw_day,
        HealthSnapshot.id,
        HealthSnapshot.score,
        HealthSnapshot.band,
    ).where(HealthSnapshot.client_id.in_(client_ids))
    if since is not None:
        query = query.where(HealthSnapshot.day >= since)
    rows = sorted(session.execute(query), key=lambda r: (r[0], str(r[1]), r[2]))
    parse = date.fromisoformat
    for cid, day, _id, value, band in rows:
        out[cid].append((day if isinstance(day, date) else parse(day), value, band))
    return out


def snapshots_between(
    session: Session, client_id: int, start: date, end: date
) -> list[HealthSnapshot]:
    return list(
        session.scalars(
            select(HealthSnapshot)
            .where(
                HealthSnapshot.client_id == client_id,
                HealthSnapshot.day >= start,
                HealthSnapshot.day <= end,
            )
            .order_by(HealthSnapshot.day, HealthSnapshot.taken_at, HealthSnapshot.id)
        )
    )


def board_points(
    session: Session, client_ids: Sequence[int], today: dict[int, date], trend_days: int = 30
) -> tuple[dict[int, list[HistoryItem]], dict[int, date]]:
    """What the board reads, without a year of history: each client's points since its trend
    cutoff (today − trend_days), the last point on or before the cutoff (the trend's
    baseline), and the day its current band's run began."""
    out: dict[int, list[HistoryItem]] = {cid: [] for cid in client_ids}
    if not client_ids:
        return out, {}
    cutoff = {cid: today[cid] - timedelta(days=trend_days) for cid in client_ids}
    slack = 7  # a little before the cutoff: the baseline is usually in there
    since = min(cutoff.values()) - timedelta(days=slack)
    recent = history(session, client_ids, since=since)
    missing = []
    for cid in client_ids:
        points = recent[cid]
        older = [p for p in points if p[0] <= cutoff[cid]]
        newer = [p for p in points if p[0] > cutoff[cid]]
        out[cid] = ([older[-1]] if older else []) + newer
        if not older:
            missing.append(cid)
    if missing:
        last_old = (
            select(HealthSnapshot.client_id, func.max(HealthSnapshot.day).label("day"))
            .where(HealthSnapshot.client_id.in_(missing), HealthSnapshot.day < since)
            .group_by(HealthSnapshot.client_id)
            .subquery()
        )
        found: dict[int, HistoryItem] = {}
        for cid, day, value, band in session.execute(
            select(
                HealthSnapshot.client_id,
                HealthSnapshot.day,
                HealthSnapshot.score,
                HealthSnapshot.band,
            )
            .join(
                last_old,
                (HealthSnapshot.client_id == last_old.c.client_id)
                & (HealthSnapshot.day == last_old.c.day),
            )
            .order_by(HealthSnapshot.taken_at, HealthSnapshot.id)
        ):
            found[cid] = (day, value, band)
        for cid, point in found.items():
            if point[0] <= cutoff[cid]:
                out[cid].insert(0, point)
    newest = newest_days(client_ids)
    started: dict[int, date] = {}
    for cid, band_start in session.execute(
        select(HealthSnapshot.client_id, HealthSnapshot.band_since)
        .join(
            newest,
            (HealthSnapshot.client_id == newest.c.client_id) & (HealthSnapshot.day == newest.c.day),
        )
        .order_by(HealthSnapshot.taken_at, HealthSnapshot.id)
    ):
        started[cid] = band_start
    return out, started


def last_checks(session: Session, client_ids: Sequence[int]) -> dict[int, date]:
    """The day of each client's last health check: the last time a person set its signals
    (the modal or an import); the bot's own derived refreshes don't count."""
    out: dict[int, date] = {}
    if not client_ids:
        return out
    for source in ("modal", "import"):
        newest = newest_days(client_ids, source=source)
        for cid, day in session.execute(select(newest.c.client_id, newest.c.day)):
            if day is not None and (cid not in out or day > out[cid]):
                out[cid] = day
    return out


# -- derived signals ------------------------------------------------------------------------------


def derive_signals(
    session: Session, clients: Sequence[records.Client], now: datetime
) -> dict[int, dict[str, float | None]]:
    """Response time, NPS and meeting attendance for each client, in four queries."""
    ids = [c.id for c in clients]
    if not ids:
        return {}
    asked: dict[int, list[datetime]] = defaultdict(list)
    for cid, at in session.execute(
        select(InboundMessage.client_id, InboundMessage.occurred_at).where(
            InboundMessage.client_id.in_(ids),
            InboundMessage.occurred_at >= now - timedelta(days=RESPONSE_WINDOW_DAYS),
            InboundMessage.occurred_at <= now,
        )
    ):
        asked[cid].append(at)
    answered: dict[int, list[datetime]] = defaultdict(list)
    channels = {c.id: c.client_channel for c in clients}
    for cid, at, channel in session.execute(
        select(Touchpoint.client_id, Touchpoint.occurred_at, Touchpoint.channel).where(
            Touchpoint.client_id.in_(ids),
            Touchpoint.kind == "slack",
            Touchpoint.occurred_at >= now - timedelta(days=RESPONSE_WINDOW_DAYS),
            Touchpoint.occurred_at <= now,
        )
    ):
        if channel is None or channel == channels.get(cid):
            answered[cid].append(at)
    answers: dict[int, list[int]] = defaultdict(list)
    for cid, value in session.execute(
        select(NpsResponse.client_id, NpsResponse.score).where(
            NpsResponse.client_id.in_(ids),
            NpsResponse.recorded_at >= now - timedelta(days=NPS_WINDOW_DAYS),
            NpsResponse.recorded_at <= now,
        )
    ):
        answers[cid].append(value)
    meetings = dict(
        session.execute(
            select(Touchpoint.client_id, func.count())
            .where(
                Touchpoint.client_id.in_(ids),
                Touchpoint.kind == "meeting",
                Touchpoint.occurred_at >= now - timedelta(days=MEETING_WINDOW_DAYS),
                Touchpoint.occurred_at <= now,
            )
            .group_by(Touchpoint.client_id)
        ).all()
    )
    out: dict[int, dict[str, float | None]] = {}
    for cid in ids:
        delays = response_delays(asked.get(cid, []), answered.get(cid, []), now)
        out[cid] = {
            "response_time": response_time_signal(delays),
            "nps": nps_signal(answers.get(cid, [])),
            # No meeting logged at all is "not measured", not a zero.
            "meeting_attendance": (
                meeting_attendance_signal(int(meetings[cid])) if meetings.get(cid) else None
            ),
        }
    return out


# -- imports --------------------------------------------------------------------------------------


@dataclass
class UsageResult:
    readings: int = 0
    snapshots: int = 0
    clients: set[str] = field(default_factory=set)


def import_usage(
    session: Session,
    rows: Sequence[UsageRow],
    model: HealthModel,
    *,
    source: str,
    now: datetime,
) -> UsageResult:
    """Keep every reading (the same client, day and signal again: the new value wins) and
    write one snapshot per client and day with model signals, oldest day first."""
    result = UsageResult()
    clients = {
        c.slug: c
        for c in session.scalars(select(Client).where(Client.slug.in_({r.client for r in rows})))
    }
    for r in rows:
        client = clients[r.client]
        values = {
            "client_id": client.id,
            "day": r.day,
            "signal": r.signal,
            "value": r.value,
            "source": source[:200],
            "recorded_at": now,
        }
        if not insert_ignore(session, SignalReading, values):
            reading = session.scalars(
                select(SignalReading).where(
                    SignalReading.client_id == client.id,
                    SignalReading.day == r.day,
                    SignalReading.signal == r.signal,
                )
            ).one()
            reading.value, reading.source, reading.recorded_at = r.value, source[:200], now
        result.readings += 1
    known = set(model.signal_names)
    grouped: dict[tuple[str, date], dict[str, float]] = defaultdict(dict)
    for r in rows:
        if r.signal in known:
            grouped[(r.client, r.day)][r.signal] = r.value
    for (slug, day), imported in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        record = client_record(clients[slug])
        session.flush()
        previous = state_of(latest_snapshot(session, record.id, on_or_before=day))
        state, changes = compose(previous, imported=imported)
        key = f"import:{record.id}:{day}:{_fingerprint(imported)}"
        written = write_snapshot(
            session,
            record,
            model,
            state,
            changes,
            source="import",
            by="import",
            now=now,
            day=day,
            dedupe_key=key,
        )
        result.snapshots += int(written.new)
        result.clients.add(slug)
    return result


def latest_facts(
    session: Session, client_ids: Sequence[int], signals: Iterable[str]
) -> dict[int, dict[str, float]]:
    """The latest imported value of each usage fact (active_users...) per client."""
    out: dict[int, dict[str, float]] = defaultdict(dict)
    if not client_ids:
        return out
    for cid, signal, value in session.execute(
        select(SignalReading.client_id, SignalReading.signal, SignalReading.value)
        .where(SignalReading.client_id.in_(client_ids), SignalReading.signal.in_(list(signals)))
        .order_by(SignalReading.day)
    ):
        out[cid][signal] = value
    return out


# -- NPS ------------------------------------------------------------------------------------------


def record_nps(
    session: Session,
    *,
    client_id: int,
    score: int,
    comment: str,
    by: str,
    now: datetime,
    dedupe_key: str,
) -> bool:
    return insert_ignore(
        session,
        NpsResponse,
        {
            "client_id": client_id,
            "score": score,
            "comment": excerpt(comment, 300),
            "recorded_by": by,
            "recorded_at": now,
            "dedupe_key": dedupe_key[:200],
        },
    )


def nps_answers(session: Session, start: datetime, end: datetime) -> list[int]:
    return list(
        session.scalars(
            select(NpsResponse.score).where(
                NpsResponse.recorded_at >= start, NpsResponse.recorded_at < end
            )
        )
    )


# -- playbooks ------------------------------------------------------------------------------------


def start_playbook(
    session: Session,
    client: records.Client,
    playbook_id: str,
    *,
    by: str,
    now: datetime,
    start: date,
    trigger: str | None = None,
) -> tuple[PlaybookRun, bool]:
    """Start a playbook's checklist. Already running for this client → that run, False."""
    active_key = f"{client.id}:{playbook_id}"
    created = insert_ignore(
        session,
        PlaybookRun,
        {
            "client_id": client.id,
            "playbook_id": playbook_id,
            "status": "active",
            "active_key": active_key,
            "start_day": start,
            "started_by": by,
            "started_at": now,
            "trigger": trigger,
        },
    )
    run = session.scalars(
        select(PlaybookRun)
        .where(PlaybookRun.active_key == active_key)
        .options(selectinload(PlaybookRun.steps))
    ).one()
    if created:
        for step in instantiate(playbook_id, start):
            session.add(
                PlaybookRunStep(
                    run_id=run.id,
                    position=step.index,
                    text=step.text[:300],
                    due=step.due,
                    escalation=step.escalation,
                )
            )
        session.flush()
        session.refresh(run)
    return run, created


def active_runs(session: Session, client_ids: Sequence[int]) -> dict[int, list[PlaybookRun]]:
    out: dict[int, list[PlaybookRun]] = defaultdict(list)
    if not client_ids:
        return out
    for run in session.scalars(
        select(PlaybookRun)
        .where(PlaybookRun.client_id.in_(client_ids), PlaybookRun.status == "active")
        .options(selectinload(PlaybookRun.steps))
        .order_by(PlaybookRun.started_at, PlaybookRun.id)
    ):
        out[run.client_id].append(run)
    return out


def run_progress(run: PlaybookRun) -> Progress:
    return progress(sum(1 for s in run.steps if s.done_at is not None), len(run.steps))


def run_summary(runs: Sequence[PlaybookRun]) -> str | None:
    """ "low-engagement 2/5" for the board (several runs joined)."""
    if not runs:
        return None
    parts = []
    for run in runs:
        p = run_progress(run)
        parts.append(f"{run.playbook_id} {p.done}/{p.total}")
    return ", ".join(parts)


def tick_step(
    session: Session, step_id: int, *, by: str, now: datetime, done: bool = True
) -> PlaybookRunStep | None:
    """Mark a step done (or not); the run completes when every step is done."""
    step = session.get(PlaybookRunStep, step_id)
    if step is None:
        return None
    step.done_at, step.done_by = (now, by) if done else (None, None)
    session.flush()
    run = session.get(PlaybookRun, step.run_id)
    if run is not None:
        session.refresh(run)
        if run_progress(run).complete and run.status == "active":
            run.status, run.completed_at, run.active_key = "completed", now, None
        elif not run_progress(run).complete and run.status == "completed":
            run.status, run.completed_at = "active", None
            run.active_key = f"{run.client_id}:{run.playbook_id}"
    return step


# -- renewals -------------------------------------------------------------------------------------


def outcomes_by_client(
    session: Session, client_ids: Sequence[int]
) -> dict[int, dict[date, RenewalOutcomeRecord]]:
    out: dict[int, dict[date, RenewalOutcomeRecord]] = defaultdict(dict)
    if not client_ids:
        return out
    for r in session.scalars(
        select(RenewalOutcomeRecord).where(RenewalOutcomeRecord.client_id.in_(client_ids))
    ):
        out[r.client_id][r.contract_end] = r
    return out


def effective_contract_end(
    client: records.Client, outcomes: dict[date, RenewalOutcomeRecord]
) -> tuple[date | None, RenewalOutcomeRecord | None]:
    """The contract end that is still open, following recorded renewals (signed/extended to a
    new date), and the outcome that closed the last one (churned → no open contract)."""
    end = client.contract_end
    last: RenewalOutcomeRecord | None = None
    seen: set[date] = set()
    while end is not None and end in outcomes and end not in seen:
        seen.add(end)
        last = outcomes[end]
        if Outcome(last.outcome) not in RENEWED_OUTCOMES:
            return None, last
        end = last.new_end
    return end, last


def renewal_target(
    client: records.Client, outcomes: dict[date, RenewalOutcomeRecord], today: date
) -> date | None:
    """The contract a /renewal is about: the one running today (so recording again before it
    ends corrects its outcome), else the latest open one."""
    end = client.contract_end
    seen: set[date] = set()
    while end is not None and end < today and end in outcomes and end not in seen:
        seen.add(end)
        row = outcomes[end]
        if Outcome(row.outcome) not in RENEWED_OUTCOMES or row.new_end is None:
            break
        end = row.new_end
    return end


def record_renewal(
    session: Session,
    client: records.Client,
    *,
    contract_end: date,
    outcome: Outcome,
    new_end: date | None,
    arr_after: float | None,
    band: Band | None,
    by: str,
    now: datetime,
) -> tuple[RenewalOutcomeRecord, bool]:
    """Record (or correct) the outcome of the contract ending on `contract_end`."""
    after = 0.0 if outcome is Outcome.CHURNED else float(arr_after if arr_after else client.arr)
    values = {
        "client_id": client.id,
        "contract_end": contract_end,
        "outcome": outcome.value,
        "new_end": new_end,
        "arr_before": float(client.arr),
        "arr_after": after,
        "band_at_renewal": band.value if band else None,
        "recorded_by": by,
        "recorded_at": now,
    }
    created = insert_ignore(session, RenewalOutcomeRecord, values)
    row = session.scalars(
        select(RenewalOutcomeRecord).where(
            RenewalOutcomeRecord.client_id == client.id,
            RenewalOutcomeRecord.contract_end == contract_end,
        )
    ).one()
    if not created:
        for key in ("outcome", "new_end", "arr_after", "recorded_by", "recorded_at"):
            setattr(row, key, values[key])
    return row, created


def outcomes_between(session: Session, start: date, end: date) -> list[RenewalOutcomeRecord]:
    return list(
        session.scalars(
            select(RenewalOutcomeRecord).where(
                RenewalOutcomeRecord.contract_end >= start,
                RenewalOutcomeRecord.contract_end <= end,
            )
        )
    )


# -- QBRs -----------------------------------------------------------------------------------------


def mark_qbr(
    session: Session, client_id: int, quarter: str, *, by: str, now: datetime, delivered: bool
) -> QbrRecord:
    insert_ignore(session, QbrRecord, {"client_id": client_id, "quarter": quarter})
    row = session.scalars(
        select(QbrRecord).where(QbrRecord.client_id == client_id, QbrRecord.quarter == quarter)
    ).one()
    if delivered:
        row.delivered_at, row.delivered_by = row.delivered_at or now, row.delivered_by or by
    else:
        row.prepared_at, row.prepared_by = now, by
    return row


def qbrs_for(session: Session, quarter: str) -> dict[int, QbrRecord]:
    return {
        q.client_id: q
        for q in session.scalars(select(QbrRecord).where(QbrRecord.quarter == quarter))
    }


# -- flags (another feature adds the table) -------------------------------------------------------

FLAG_TABLE = "flag"


def count_open_flags(session: Session, client_ids: Sequence[int]) -> dict[int, int]:
    """Open flags per client (flagged, no decision yet: issue 4's `flag.status == "open"`)."""
    from storage.models import Flag

    out = dict.fromkeys(client_ids, 0)
    if not client_ids:
        return out
    rows = session.execute(
        select(Flag.client_id, func.count())
        .where(Flag.client_id.in_(client_ids), Flag.status == "open")
        .group_by(Flag.client_id)
    )
    for cid, n in rows:
        out[int(cid)] = int(n)
    return out
