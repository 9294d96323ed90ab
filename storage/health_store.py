"""Health scores: snapshots (each a score and the inputs it was computed from), the signals
the bot derives itself, and imported usage readings.

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

from sqlalchemy import String, func, select, type_coerce, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Subquery

from domain import records
from domain.calendar import local_date
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
    model_from_settings,
    nps_signal,
    response_delays,
    response_time_signal,
)
from storage.db import Transaction, id_list
from storage.models import (
    Client,
    HealthSnapshot,
    InboundMessage,
    NpsResponse,
    SignalReading,
    Touchpoint,
)
from storage.org_settings_store import org_settings
from storage.portfolio_store import client_record, timezones_of
from storage.support_store import support_signals
from storage.upsert import insert_ignore

logger = logging.getLogger(__name__)

SNAPSHOT_ORDER = (
    HealthSnapshot.day.desc(),
    HealthSnapshot.taken_at.desc(),
    HealthSnapshot.id.desc(),
)


@dataclass(frozen=True)
class Snapshot:
    """One stored score and the inputs it was computed from."""

    client_id: int
    day: date
    taken_at: datetime
    model_id: str
    score: float
    band: Band
    band_since: date | None
    values: dict[str, float]
    derived: dict[str, float]
    overrides: dict[str, float]
    sources: dict[str, str]
    source: str
    changed_by: str

    @property
    def state(self) -> SignalState:
        return SignalState(
            values=dict(self.values),
            derived=dict(self.derived),
            overrides=dict(self.overrides),
            sources=dict(self.sources),
        )


def _snapshot(row: Any) -> Snapshot:
    """A snapshot from its ORM row or from a row of its columns (same names)."""
    return Snapshot(
        client_id=row.client_id,
        day=row.day,
        taken_at=row.taken_at,
        model_id=row.model_id,
        score=row.score,
        band=Band(row.band),
        band_since=row.band_since,
        values=row.values or {},
        derived=row.derived or {},
        overrides=row.overrides or {},
        sources=row.sources or {},
        source=row.source,
        changed_by=row.changed_by,
    )


def state_of(snapshot: Snapshot | None) -> SignalState:
    return snapshot.state if snapshot is not None else SignalState()


# -- the organisation's model and each client's calendar ------------------------------------------


def org_model(tx: Transaction) -> HealthModel:
    return model_from_settings({"health_model": org_settings(tx).health_model})


def client_days(
    tx: Transaction, clients: Sequence[records.Client], now: datetime
) -> dict[int, date]:
    """Today in each client's timezone."""
    return {cid: local_date(now, tz) for cid, tz in timezones_of(tx, clients).items()}


# -- snapshots ------------------------------------------------------------------------------------


def _latest_row(
    tx: Transaction, client_id: int, on_or_before: date | None = None
) -> HealthSnapshot | None:
    query = select(HealthSnapshot).where(HealthSnapshot.client_id == client_id)
    if on_or_before is not None:
        query = query.where(HealthSnapshot.day <= on_or_before)
    return tx.scalars(query.order_by(*SNAPSHOT_ORDER).limit(1)).first()


def latest_snapshot(
    tx: Transaction, client_id: int, on_or_before: date | None = None
) -> Snapshot | None:
    row = _latest_row(tx, client_id, on_or_before)
    return _snapshot(row) if row is not None else None


def values_on(tx: Transaction, client_id: int, day: date) -> dict[str, float]:
    """The signal values of the client's last snapshot of `day` (empty when none)."""
    row = tx.scalars(
        select(HealthSnapshot)
        .where(HealthSnapshot.client_id == client_id, HealthSnapshot.day == day)
        .order_by(HealthSnapshot.taken_at.desc(), HealthSnapshot.id.desc())
        .limit(1)
    ).first()
    return dict(row.values) if row else {}


def newest_days(
    client_ids: Sequence[int], *, source: str | None = None, on_or_before: date | None = None
) -> Subquery:
    """(client_id, day): each client's latest snapshot day (on or before `on_or_before`, when
    given) — one index probe per client."""
    inner = select(func.max(HealthSnapshot.day)).where(HealthSnapshot.client_id == Client.id)
    if source is not None:
        inner = inner.where(HealthSnapshot.source == source)
    if on_or_before is not None:
        inner = inner.where(HealthSnapshot.day <= on_or_before)
    return (
        select(Client.id.label("client_id"), inner.scalar_subquery().label("day"))
        .where(Client.id.in_(id_list(client_ids)))
        .subquery()
    )


def latest_snapshots(tx: Transaction, client_ids: Sequence[int]) -> dict[int, Snapshot]:
    """Each client's latest snapshot, in one query."""
    if not client_ids:
        return {}
    newest = newest_days(client_ids)
    h = HealthSnapshot
    rows = tx.execute(  # columns, not entities: a thousand rows without the ORM's bookkeeping
        select(
            h.client_id,
            h.day,
            h.taken_at,
            h.model_id,
            h.score,
            h.band,
            h.band_since,
            h.values,
            h.derived,
            h.overrides,
            h.sources,
            h.source,
            h.changed_by,
        )
        .join(newest, (h.client_id == newest.c.client_id) & (h.day == newest.c.day))
        .order_by(h.taken_at, h.id)
    )
    out: dict[int, Snapshot] = {}
    for row in rows:  # the last written on the latest day wins
        out[row.client_id] = _snapshot(row)
    return out


def _fingerprint(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha1(raw).hexdigest()[:16]


@dataclass
class Written:
    result: HealthScore | None
    changes: list[Change] = field(default_factory=list)
    new: bool = False


def write_snapshot(
    tx: Transaction,
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
        return Written(None, changes)
    result = score(model, values, client.segment)
    new = insert_ignore(
        tx,
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
        restamp_band_since(tx, client.id, day)
    return Written(result, changes, new)


def restamp_band_since(tx: Transaction, client_id: int, from_day: date) -> None:
    """Recompute `band_since` of the client's snapshots from `from_day` on (a back-dated
    import can change the runs after it). Several scores on one day: the last one counts,
    as in domain.health."""
    prev = tx.scalars(
        select(HealthSnapshot)
        .where(HealthSnapshot.client_id == client_id, HealthSnapshot.day < from_day)
        .order_by(*SNAPSHOT_ORDER)
        .limit(1)
    ).first()
    run_band, run_start = (prev.band, prev.band_since) if prev else (None, None)
    rows = tx.scalars(
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
    tx: Transaction,
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
    previous = state_of(latest_snapshot(tx, client.id))
    derived = derive_signals(tx, [client], now).get(client.id, {})
    state, changes = compose(previous, derived=derived, manual=manual)
    return write_snapshot(
        tx,
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
    tx: Transaction,
    clients: Sequence[records.Client],
    model: HealthModel,
    now: datetime,
    today: dict[int, date],
) -> list[Written]:
    """A new snapshot for each client whose derived signals moved since its latest one
    (the board is updated daily, and a moved signal can move the band)."""
    derived = derive_signals(tx, clients, now)
    latest = latest_snapshots(tx, [c.id for c in clients])
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
                tx,
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
    tx: Transaction,
    client_ids: Sequence[int],
    since: date | None = None,
    *,
    with_day_before: bool = False,
) -> dict[int, list[HistoryItem]]:
    """(day, score, band) per client, oldest first, in one query (sorted here: cheaper than
    asking the database to sort a year of rows). `since`: the scores from that day on;
    `with_day_before`: and each client's scores of its last day before it, so a run in one
    band that began earlier still reads as begun by then."""
    out: dict[int, list[HistoryItem]] = {cid: [] for cid in client_ids}
    if not client_ids:
        return out
    # Days come back as text on SQLite: parsed here with date.fromisoformat (fast) instead
    # of the generic type processor. Rows written later on the same day have larger ids.
    h = HealthSnapshot
    raw_day = type_coerce(h.day, String)
    query = select(h.client_id, raw_day, h.id, h.score, h.band).where(
        h.client_id.in_(id_list(client_ids))
    )
    if since is not None and with_day_before:
        before = (
            select(h.client_id, func.max(h.day).label("day"))
            .where(h.client_id.in_(id_list(client_ids)), h.day < since)
            .group_by(h.client_id)
            .subquery()
        )
        query = query.outerjoin(before, before.c.client_id == h.client_id).where(
            h.day >= func.coalesce(before.c.day, since)
        )
    elif since is not None:
        query = query.where(h.day >= since)
    rows = sorted(tx.execute(query), key=lambda r: (r[0], str(r[1]), r[2]))
    parse = date.fromisoformat
    for cid, day, _id, value, band in rows:
        out[cid].append((day if isinstance(day, date) else parse(day), value, band))
    return out


def current_runs(
    tx: Transaction, client_ids: Sequence[int], today: dict[int, date]
) -> dict[int, tuple[str, date]]:
    """Per client, its current run on its `today`: the band of its latest score on or before
    that day (of a day's scores, the last given) and the day the run began (`band_since`, kept
    on write). A client with no score by then is left out. One statement per distinct today
    (a day or two across timezones), however long the history."""
    out: dict[int, tuple[str, date]] = {}
    groups: dict[date, list[int]] = defaultdict(list)
    for cid in client_ids:
        groups[today[cid]].append(cid)
    h = HealthSnapshot
    for day, ids in sorted(groups.items()):
        newest = newest_days(ids, on_or_before=day)
        for cid, band, since in tx.execute(
            select(h.client_id, h.band, h.band_since)
            .join(newest, (h.client_id == newest.c.client_id) & (h.day == newest.c.day))
            .order_by(h.taken_at, h.id)
        ):  # the last written on the latest day wins
            out[cid] = (band, since)
    return out


def snapshots_between(tx: Transaction, client_id: int, start: date, end: date) -> list[Snapshot]:
    return [
        _snapshot(row)
        for row in tx.scalars(
            select(HealthSnapshot)
            .where(
                HealthSnapshot.client_id == client_id,
                HealthSnapshot.day >= start,
                HealthSnapshot.day <= end,
            )
            .order_by(HealthSnapshot.day, HealthSnapshot.taken_at, HealthSnapshot.id)
        )
    ]


def signal_points(
    tx: Transaction, client_ids: Sequence[int], signal: str, since: date
) -> dict[int, list[tuple[date, float]]]:
    """(day, value) of one signal per client since `since`, oldest first (snapshots without
    it are skipped)."""
    out: dict[int, list[tuple[date, float]]] = defaultdict(list)
    if not client_ids:
        return out
    # The one value read out of each snapshot's JSON by the database: a snapshot's whole
    # `values` document is never decoded here.
    value = HealthSnapshot.values[signal].as_float()
    for cid, day, found in tx.execute(
        select(HealthSnapshot.client_id, HealthSnapshot.day, value)
        .where(
            HealthSnapshot.client_id.in_(id_list(client_ids)),
            HealthSnapshot.day >= since,
            value.is_not(None),
        )
        .order_by(HealthSnapshot.day, HealthSnapshot.taken_at)
    ):
        out[cid].append((day, found))
    return out


def board_points(
    tx: Transaction, client_ids: Sequence[int], today: dict[int, date], trend_days: int = 30
) -> tuple[dict[int, list[HistoryItem]], dict[int, date]]:
    """What the board reads, without a year of history: per client, the last point on or
    before its trend cutoff (today − trend_days: the trend's baseline), then every point of the
    days after it that the board looks at: the first and the last on or before today (the
    trend's fallback baseline and its current score) and the latest of all (the score shown);
    and the day its current band's run began (`band_since` of its newest snapshot).

    The days are found in the database (an index probe per client and day on
    ix_health_snapshot_board) and only their rows come back: one statement per distinct
    (cutoff, today) — a day or two across timezones — whatever the number of clients."""
    out: dict[int, list[HistoryItem]] = {cid: [] for cid in client_ids}
    started: dict[int, date] = {}
    groups: dict[tuple[date, date], list[int]] = defaultdict(list)
    for cid in client_ids:
        groups[(today[cid] - timedelta(days=trend_days), today[cid])].append(cid)
    h = HealthSnapshot
    for (cutoff, day), ids in sorted(groups.items()):
        probe = aliased(HealthSnapshot)

        def first_or_last(*where: Any, last: bool = True, probe: Any = probe) -> Any:
            agg = func.max(probe.day) if last else func.min(probe.day)
            return select(agg).where(probe.client_id == Client.id, *where).scalar_subquery()

        marks = (
            select(
                Client.id.label("client_id"),
                first_or_last(probe.day <= cutoff).label("base"),
                first_or_last(probe.day > cutoff, probe.day <= day, last=False).label("first"),
                first_or_last(probe.day > cutoff, probe.day <= day).label("current"),
                first_or_last(probe.day > cutoff).label("top"),
            )
            .where(Client.id.in_(id_list(ids)))
            .subquery()
        )
        columns = (h.client_id, h.day, h.taken_at, h.id, h.score, h.band, h.band_since)
        parts = [
            select(*columns).join(
                marks, (h.client_id == marks.c.client_id) & (h.day == marks.c[mark])
            )
            for mark in ("base", "first", "current", "top")
        ]
        seen: set[int] = set()
        rows = []
        for row in tx.execute(union_all(*parts)):
            if row.id not in seen:
                seen.add(row.id)
                rows.append(row)
        rows.sort(key=lambda r: (r.client_id, r.day, r.id))
        newest: dict[int, Any] = {}
        for row in rows:
            cid = row.client_id
            point = (row.day, row.score, row.band)
            if row.day <= cutoff:  # the baseline: the last written on its day
                out[cid][:] = [point]
            else:
                out[cid].append(point)
            best = newest.get(cid)
            if best is None or (row.day, row.taken_at, row.id) > (
                best.day,
                best.taken_at,
                best.id,
            ):
                newest[cid] = row
        for cid, row in newest.items():
            started[cid] = row.band_since
    return out, started


def last_checks(tx: Transaction, client_ids: Sequence[int]) -> dict[int, date]:
    """The day of each client's last health check: the last time a person set its signals
    (the modal or an import); the bot's own derived refreshes don't count."""
    out: dict[int, date] = {}
    if not client_ids:
        return out
    for source in ("modal", "import"):
        newest = newest_days(client_ids, source=source)
        for cid, day in tx.execute(select(newest.c.client_id, newest.c.day)):
            if day is not None and (cid not in out or day > out[cid]):
                out[cid] = day
    return out


# -- derived signals ------------------------------------------------------------------------------


def derive_signals(
    tx: Transaction, clients: Sequence[records.Client], now: datetime
) -> dict[int, dict[str, float | None]]:
    """Response time, NPS, meeting attendance and the support signal for each client."""
    ids = [c.id for c in clients]
    if not ids:
        return {}
    asked: dict[int, list[datetime]] = defaultdict(list)
    for cid, at in tx.execute(
        select(InboundMessage.client_id, InboundMessage.occurred_at).where(
            InboundMessage.client_id.in_(id_list(ids)),
            InboundMessage.occurred_at >= now - timedelta(days=RESPONSE_WINDOW_DAYS),
            InboundMessage.occurred_at <= now,
        )
    ):
        asked[cid].append(at)
    answered: dict[int, list[datetime]] = defaultdict(list)
    channels = {c.id: c.client_channel for c in clients}
    for cid, at, channel in tx.execute(
        select(Touchpoint.client_id, Touchpoint.occurred_at, Touchpoint.channel).where(
            Touchpoint.client_id.in_(id_list(ids)),
            Touchpoint.kind == "slack",
            Touchpoint.occurred_at >= now - timedelta(days=RESPONSE_WINDOW_DAYS),
            Touchpoint.occurred_at <= now,
        )
    ):
        if channel is None or channel == channels.get(cid):
            answered[cid].append(at)
    answers: dict[int, list[int]] = defaultdict(list)
    for cid, value in tx.execute(
        select(NpsResponse.client_id, NpsResponse.score).where(
            NpsResponse.client_id.in_(id_list(ids)),
            NpsResponse.recorded_at >= now - timedelta(days=NPS_WINDOW_DAYS),
            NpsResponse.recorded_at <= now,
        )
    ):
        answers[cid].append(value)
    meetings = dict(
        tx.execute(
            select(Touchpoint.client_id, func.count())
            .where(
                Touchpoint.client_id.in_(id_list(ids)),
                Touchpoint.kind == "meeting",
                Touchpoint.occurred_at >= now - timedelta(days=MEETING_WINDOW_DAYS),
                Touchpoint.occurred_at <= now,
            )
            .group_by(Touchpoint.client_id)
        ).all()
    )
    support = support_signals(tx, ids, now)
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
            "support_tickets_inverse": support.get(cid),  # the support requests
        }
    return out


# -- imports --------------------------------------------------------------------------------------


@dataclass
class UsageResult:
    readings: int = 0
    snapshots: int = 0
    clients: set[str] = field(default_factory=set)


SLUGS_PER_STATEMENT = 1000


def import_usage(
    tx: Transaction,
    rows: Sequence[UsageRow],
    model: HealthModel,
    *,
    source: str,
    now: datetime,
) -> UsageResult:
    """Keep every reading (the same client, day and signal again: the new value wins) and
    write one snapshot per client and day with model signals, oldest day first."""
    result = UsageResult()
    slugs = sorted({r.client for r in rows})
    clients: dict[str, Client] = {}
    for i in range(0, len(slugs), SLUGS_PER_STATEMENT):  # under the drivers' bound-parameter caps
        chunk = slugs[i : i + SLUGS_PER_STATEMENT]
        clients.update(
            (c.slug, c) for c in tx.scalars(select(Client).where(Client.slug.in_(chunk)))
        )
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
        if not insert_ignore(tx, SignalReading, values):
            reading = tx.scalars(
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
        tx.flush()
        previous = state_of(latest_snapshot(tx, record.id, on_or_before=day))
        state, changes = compose(previous, imported=imported)
        key = f"import:{record.id}:{day}:{_fingerprint(imported)}"
        written = write_snapshot(
            tx,
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
    tx: Transaction, client_ids: Sequence[int], signals: Iterable[str]
) -> dict[int, dict[str, float]]:
    """The latest imported value of each usage fact (active_users...) per client."""
    out: dict[int, dict[str, float]] = defaultdict(dict)
    if not client_ids:
        return out
    for cid, signal, value in tx.execute(
        select(SignalReading.client_id, SignalReading.signal, SignalReading.value)
        .where(
            SignalReading.client_id.in_(id_list(client_ids)),
            SignalReading.signal.in_(list(signals)),
        )
        .order_by(SignalReading.day)
    ):
        out[cid][signal] = value
    return out


def all_clients(tx: Transaction) -> list[records.Client]:
    """Every client, active or not, by slug (a renewal forecast reads churned clients too)."""
    return [client_record(c) for c in tx.scalars(select(Client).order_by(Client.slug))]
