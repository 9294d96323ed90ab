"""The leadership digest's reads (the records behind each section) and its parts' state.

The consistency numbers are not read here: they come from `storage.kpi_store.load_kpi`, the
loader `csobot kpi` uses. Open flags come from the flags store.

The parts (`digest_part`): the chart and the per-CSO thread replies that follow a week's summary
(the summary itself is an outbox nudge, key `digest:<week>`). Each part is claimed before its
Slack call and recorded after, in position order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import false, or_, select, update

from domain import records
from domain.digest import CADENCE_ID, EscalationRecord, FlagRecord, HealthRecord
from domain.interventions import DM_CADENCE
from domain.portfolio import LEADERSHIP_ROLES
from storage.db import Transaction
from storage.expansion_store import expansion_rows
from storage.flag_store import open_flags
from storage.models import (
    Client,
    DigestPart,
    HealthSnapshot,
    NpsResponse,
    Nudge,
    PlaybookRun,
    RenewalOutcomeRecord,
)
from storage.upsert import insert_ignore

HEALTH_WINDOW_DAYS = 180


def digest_key(week: str) -> str:
    return f"{CADENCE_ID}:{week}"


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


# -- the sections' records ------------------------------------------------------------------------
def health_records(
    tx: Transaction, clients: Sequence[records.Client], cso_names: dict[str, str], end: date
) -> list[HealthRecord]:
    """Each client's scores over the 180 days to `end`, with its intervention-plan status."""
    start = end - timedelta(days=HEALTH_WINDOW_DAYS)
    rows = tx.execute(
        select(
            HealthSnapshot.client_id, HealthSnapshot.day, HealthSnapshot.score, HealthSnapshot.band
        )
        .where(HealthSnapshot.day.between(start, end))
        .order_by(HealthSnapshot.client_id, HealthSnapshot.day)
    )
    by_client: dict[int, list[tuple[date, float, str]]] = {}
    for client_id, day, score, band in rows:
        by_client.setdefault(client_id, []).append((day, float(score), str(band)))
    plans = set(tx.scalars(select(PlaybookRun.client_id).where(PlaybookRun.status == "active")))
    return [
        HealthRecord(
            client=c.name,
            cso=cso_names.get(c.cso_id, c.cso_id),
            history=by_client[c.id],
            active_plan=c.id in plans,
        )
        for c in clients
        if c.id in by_client
    ]


def open_flag_records(
    tx: Transaction, clients: Sequence[records.Client], before: datetime
) -> list[FlagRecord]:
    """Flags raised before `before` still waiting for a decision (the flags store's "open")."""
    names = {c.id: c.name for c in clients}
    return [
        FlagRecord(
            client=names[f.client_id],
            kind=str(f.kind),
            opened=f.created_at.date(),
            excerpt=f.excerpt or "",
        )
        for f in open_flags(tx)
        if f.client_id in names and f.created_at < before
    ]


def renewal_outcomes(tx: Transaction) -> dict[tuple[int, date], str]:
    """Recorded outcomes by (client id, contract end)."""
    return {
        (cid, end): str(outcome)
        for cid, end, outcome in tx.execute(
            select(
                RenewalOutcomeRecord.client_id,
                RenewalOutcomeRecord.contract_end,
                RenewalOutcomeRecord.outcome,
            )
        )
    }


def signalled_clients(
    tx: Transaction, clients: Sequence[records.Client], at: datetime
) -> list[str]:
    """The clients whose expansion signals suggest an opportunity at `at` (the same rows as
    `csobot expansion`): suggestions only, never counted in the pipeline."""
    rows, _arr = expansion_rows(tx, at, clients)
    return [r.name for r in rows if r.in_pipeline]


def nps_scores(
    tx: Transaction, clients: Sequence[records.Client], start: datetime, end: datetime
) -> list[int]:
    ids = {c.id for c in clients}
    rows = tx.execute(
        select(NpsResponse.client_id, NpsResponse.score).where(
            NpsResponse.recorded_at >= start, NpsResponse.recorded_at < end
        )
    )
    return [int(score) for cid, score in rows if cid in ids]


def escalations(
    tx: Transaction,
    people: Iterable[records.Person],
    clients: Sequence[records.Client],
    start: datetime,
    end: datetime,
) -> list[EscalationRecord]:
    """Nudges the outbox sent to a head of delivery or founder in [start, end) — whatever
    feature raised them (the digest's own excepted). Those not closed yet are still open."""
    leaders = {p.slack_id: p for p in people if p.role in LEADERSHIP_ROLES}
    names = {c.id: c.name for c in clients}
    rows = tx.scalars(
        select(Nudge).where(
            Nudge.cadence_id.not_in((CADENCE_ID, DM_CADENCE)),
            Nudge.sent_at >= start,
            Nudge.sent_at < end,
            Nudge.status.in_(("sent", "closed")),
            (Nudge.person_id.in_(leaders) | Nudge.target.in_(leaders)) if leaders else false(),
        )
    )
    out = []
    for n in rows:
        who = leaders.get(n.person_id or "") or leaders.get(n.target)
        if who is None or n.sent_at is None:
            continue
        what = n.cadence_id.replace("_", " ").replace("-", " ")
        if n.client_id in names:
            what += f" — {names[n.client_id]}"
        out.append(
            EscalationRecord(
                to=who.name, role=who.role, sent=n.sent_at, what=what, open=n.status == "sent"
            )
        )
    return out


def open_escalation(tx: Transaction, people: Iterable[records.Person], client_id: int) -> bool:
    """Whether an escalation about the client is open: a nudge the outbox sent to a head of
    delivery or founder about it (as `escalations` reads them) that nobody has closed yet."""
    leaders = [p.slack_id for p in people if p.role in LEADERSHIP_ROLES]
    if not leaders:
        return False
    found = tx.scalars(
        select(Nudge.id)
        .where(
            Nudge.client_id == client_id,
            Nudge.cadence_id.not_in((CADENCE_ID, DM_CADENCE)),
            Nudge.status == "sent",
            Nudge.person_id.in_(leaders) | Nudge.target.in_(leaders),
        )
        .limit(1)
    ).first()
    return found is not None


def client_channels(tx: Transaction) -> set[str]:
    return {c for c in tx.scalars(select(Client.client_channel)) if c}


# -- the summary and its parts ------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    id: int
    week: str
    position: int
    kind: str  # chart | reply
    channel: str
    text: str
    blocks: list[dict[str, Any]] | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Summary:
    status: str
    message_ts: str | None


def digest_written(tx: Transaction, week: str) -> bool:
    return tx.scalars(select(Nudge.id).where(Nudge.key == digest_key(week))).first() is not None


def summary_of(tx: Transaction, week: str) -> Summary | None:
    row = tx.scalars(select(Nudge).where(Nudge.key == digest_key(week))).first()
    return None if row is None else Summary(row.status, row.message_ts)


def add_parts(tx: Transaction, rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        insert_ignore(tx, DigestPart, row)


def _due(stale: datetime) -> Any:
    return or_(
        DigestPart.status == "pending",
        (DigestPart.status == "sending") & (DigestPart.claimed_at < stale),
    )


def weeks_with_parts_due(tx: Transaction, stale: datetime) -> list[str]:
    """Weeks with a part pending, or claimed before `stale` and never recorded."""
    return sorted(tx.scalars(select(DigestPart.week).where(_due(stale)).distinct()))


def drop_parts(tx: Transaction, week: str, reason: str) -> None:
    tx.execute(
        update(DigestPart)
        .where(DigestPart.week == week, DigestPart.status == "pending")
        .values(status="dropped", last_error=reason)
    )


def claim_parts(
    tx: Transaction, week: str, stale: datetime, token: str, now: datetime
) -> list[Part]:
    """Claim the week's due parts with `token`; they come back in position order."""
    tx.execute(
        update(DigestPart)
        .where(DigestPart.week == week, _due(stale))
        .values(status="sending", claim_token=token, claimed_at=now)
    )
    return [
        Part(p.id, p.week, p.position, p.kind, p.channel, p.text, p.blocks, dict(p.data or {}))
        for p in tx.scalars(
            select(DigestPart).where(DigestPart.claim_token == token).order_by(DigestPart.position)
        )
    ]


def release_parts(tx: Transaction, part_ids: Sequence[int], failed_id: int, error: str) -> None:
    """Back to pending (the next tick retries), counting the attempt on the one that failed."""
    tx.execute(
        update(DigestPart)
        .where(DigestPart.id.in_(part_ids))
        .values(status="pending", claim_token=None, last_error=error)
    )
    tx.execute(
        update(DigestPart)
        .where(DigestPart.id == failed_id)
        .values(attempts=DigestPart.attempts + 1)
    )


def part_sent(
    tx: Transaction,
    part_id: int,
    token: str,
    now: datetime,
    message_ts: str | None,
    file_id: str | None,
) -> None:
    tx.execute(
        update(DigestPart)
        .where(DigestPart.id == part_id, DigestPart.claim_token == token)
        .values(
            status="sent",
            posted_at=now,
            message_ts=message_ts,
            file_id=file_id,
            attempts=DigestPart.attempts + 1,
            last_error=None,
        )
    )
