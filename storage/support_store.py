"""Support requests, product feedback and the reference program, as records (no Slack here).
docs/process.md, "Support" and "Advocacy and references"."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domain import records
from domain.advocacy import AdvocacySettings
from domain.calendar import WorkCalendar
from domain.feedback import Item as FeedbackEntry
from domain.support import (
    SUPPORT_WINDOW_DAYS,
    Deadlines,
    FeedbackKind,
    RequestStatus,
    Severity,
    SupportKind,
    SupportRequest,
    SupportSettings,
    support_signal,
)
from storage.db import Transaction, id_list
from storage.models import (
    CaseStudyCandidateRow,
    FeedbackItemRow,
    FeedbackPostRow,
    InboundMessage,
    NpsResponse,
    Organization,
    Person,
    ReferenceAskRow,
    ReferenceEntryRow,
    SupportRequestRow,
)
from storage.org_settings_store import organization_row
from storage.portfolio_store import organization, timezone_of
from storage.types import UTCDateTime
from storage.upsert import insert_ignore

EXCERPT = 300


def support_settings(tx: Transaction) -> SupportSettings:
    """The organization's support settings (only this key is parsed: the ingest path reads
    it for every request it opens)."""
    org = organization_row(tx)
    return SupportSettings.from_org_settings(org.settings if org is not None else None)


def support_calendar(
    tx: Transaction, client: records.Client, settings: SupportSettings
) -> WorkCalendar:
    """The client's business hours: its timezone, the organization's holidays."""
    org = organization(tx)
    return WorkCalendar(
        tz=timezone_of(tx, client),
        country=org.holidays_country or "",
        subdiv=org.holidays_subdiv,
        start=settings.workday_start,
        end=settings.workday_end,
    )


# The ingest path's statements, built once (a client message opens or answers a request in
# the message's own transaction: building a statement costs more than running it).
_ORG = Organization.__table__
_PERSON = Person.__table__
_REQ: Any = SupportRequestRow.__table__
_CONTEXT = select(
    _ORG.c.timezone,
    _ORG.c.holidays_country,
    _ORG.c.holidays_subdiv,
    _ORG.c.settings,
    select(_PERSON.c.timezone)
    .where(_PERSON.c.slack_id == bindparam("cso"))
    .limit(1)
    .scalar_subquery(),
).where(_ORG.c.id == 1)
_INSERTS: dict[str, Any] = {
    "postgresql": postgresql.insert(_REQ).on_conflict_do_nothing().returning(_REQ.c.id),
    "sqlite": sqlite.insert(_REQ).on_conflict_do_nothing().returning(_REQ.c.id),
}
_AT = bindparam("b_at", type_=UTCDateTime())
_ANSWERED = {
    "team_replies": _REQ.c.team_replies + 1,
    "first_response_at": func.coalesce(_REQ.c.first_response_at, _AT),
    "first_response_by": func.coalesce(_REQ.c.first_response_by, bindparam("b_by")),
    "first_response_ts": func.coalesce(_REQ.c.first_response_ts, bindparam("b_ts")),
}
_OPEN_HERE = (_REQ.c.channel == bindparam("b_channel"), _REQ.c.status == RequestStatus.OPEN.value)
_ANSWER_THREAD = (
    update(_REQ)
    .where(
        *_OPEN_HERE,
        or_(_REQ.c.message_ts == bindparam("b_root"), _REQ.c.thread_ts == bindparam("b_root")),
        _REQ.c.opened_at <= _AT,
    )
    .values(_ANSWERED)
)
_ANSWER_TOP = (
    update(_REQ)
    .where(
        *_OPEN_HERE,
        _REQ.c.thread_ts.is_(None),
        _REQ.c.first_response_at.is_(None),
        _REQ.c.opened_at < _AT,
    )
    .values(_ANSWERED)
)
_settings_cache: dict[str, SupportSettings] = {}


def _support_settings_of(raw: Any) -> SupportSettings:
    """Parsed once per distinct settings document (the ingest path reads it per request)."""
    key = json.dumps(raw, sort_keys=True, default=str)
    found = _settings_cache.get(key)
    if found is None:
        if len(_settings_cache) > 32:
            _settings_cache.clear()
        found = _settings_cache[key] = SupportSettings.from_org_settings(raw)
    return found


def support_context(
    tx: Transaction, client: records.Client
) -> tuple[SupportSettings, WorkCalendar]:
    """The support settings and the client's business hours in one small read (the ingest
    path opens requests with it)."""
    row = tx.execute(_CONTEXT, {"cso": client.cso_id or ""}).first()
    tz_name, country, subdiv, raw, cso_tz = (
        row if row is not None else ("UTC", "", None, None, None)
    )
    settings = _support_settings_of(raw)
    # The client's own timezone, else its CSO's, else the organization's.
    tz = ZoneInfo(client.timezone or cso_tz or tz_name or "UTC")
    cal = WorkCalendar(
        tz=tz,
        country=country or "",
        subdiv=subdiv,
        start=settings.workday_start,
        end=settings.workday_end,
    )
    return settings, cal


def _record(row: SupportRequestRow) -> SupportRequest:
    return SupportRequest(
        id=row.id,
        client_id=row.client_id,
        channel=row.channel,
        message_ts=row.message_ts,
        thread_ts=row.thread_ts,
        asker=row.asker,
        excerpt=row.excerpt,
        permalink=row.permalink,
        severity=Severity(row.severity),
        kind=SupportKind(row.kind),
        source=row.source,
        status=RequestStatus(row.status),
        opened_at=row.opened_at,
        response_due=row.response_due,
        resolution_due=row.resolution_due,
        first_response_at=row.first_response_at,
        first_response_by=row.first_response_by,
        team_replies=row.team_replies,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        response_breached_at=row.response_breached_at,
        resolution_breached_at=row.resolution_breached_at,
        merged_into=row.merged_into,
    )


def open_request(
    tx: Transaction,
    *,
    key: str,
    client: records.Client,
    channel: str | None,
    ts: str | None,
    thread_ts: str | None,
    asker: str,
    text: str,
    permalink: str | None,
    kind: SupportKind,
    severity: Severity,
    feedback: FeedbackKind,
    source: str,
    opened_by: str | None,
    opened_at: datetime,
    due: Deadlines,
) -> SupportRequest | None:
    """Open a request under its natural key (one statement: INSERT … ON CONFLICT DO NOTHING
    RETURNING id); None when that key was already opened."""
    values: dict[str, Any] = {
        "key": key,
        "client_id": client.id,
        "channel": channel,
        "message_ts": ts,
        "thread_ts": thread_ts,
        "asker": asker,
        "excerpt": text[:EXCERPT],
        "permalink": permalink,
        "severity": severity.value,
        "kind": kind.value,
        "feedback": feedback.value,
        "source": source,
        "opened_by": opened_by,
        "status": RequestStatus.OPEN.value,
        "opened_at": opened_at,
        "response_due": due.response_due,
        "resolution_due": due.resolution_due,
        "team_replies": 0,
    }
    new_id = tx.execute(_INSERTS[tx.get_bind().dialect.name], values).scalar()
    if new_id is None:
        return None
    return SupportRequest(
        id=int(new_id),
        client_id=client.id,
        channel=channel,
        message_ts=ts,
        thread_ts=thread_ts,
        asker=asker,
        excerpt=text[:EXCERPT],
        permalink=permalink,
        severity=severity,
        kind=kind,
        source=source,
        status=RequestStatus.OPEN,
        opened_at=opened_at,
        response_due=due.response_due,
        resolution_due=due.resolution_due,
    )


def request_by_id(tx: Transaction, request_id: int | None) -> SupportRequest | None:
    if request_id is None:
        return None
    row = tx.get(SupportRequestRow, request_id)
    return _record(row) if row is not None else None


def request_in_thread(tx: Transaction, channel: str, root: str) -> SupportRequest | None:
    """The open request whose message is `root` or sits in the thread `root`."""
    row = tx.scalars(
        select(SupportRequestRow)
        .where(
            SupportRequestRow.channel == channel,
            SupportRequestRow.status == RequestStatus.OPEN.value,
            or_(SupportRequestRow.message_ts == root, SupportRequestRow.thread_ts == root),
        )
        .order_by(SupportRequestRow.id)
        .limit(1)
    ).first()
    return _record(row) if row is not None else None


def request_by_message(tx: Transaction, channel: str, ts: str) -> SupportRequest | None:
    """The request a reaction on `ts` is about: its own message, or its first response."""
    row = tx.scalars(
        select(SupportRequestRow)
        .where(
            SupportRequestRow.channel == channel,
            or_(SupportRequestRow.message_ts == ts, SupportRequestRow.first_response_ts == ts),
        )
        .order_by(SupportRequestRow.id.desc())
        .limit(1)
    ).first()
    return _record(row) if row is not None else None


def answer_requests(
    tx: Transaction, channel: str, *, root: str | None, by: str, ts: str, at: datetime
) -> int:
    """A substantive team reply, in one statement: in a thread, the open request of that
    thread counts one more reply (the first is its first response); at the top of the channel,
    every open, unanswered top-level request asked before it gets its first response. The
    number of requests it answered."""
    params = {"b_channel": channel, "b_at": at, "b_by": by, "b_ts": ts}
    if root is not None:
        done = tx.execute(_ANSWER_THREAD, {**params, "b_root": root})
    else:
        done = tx.execute(_ANSWER_TOP, params)
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def resolve(tx: Transaction, request_id: int, *, by: str, at: datetime) -> SupportRequest | None:
    """Resolve an open request (None when it was not open: a second ✅ changes nothing)."""
    done = tx.execute(
        update(SupportRequestRow)
        .where(
            SupportRequestRow.id == request_id,
            SupportRequestRow.status == RequestStatus.OPEN.value,
        )
        .values(status=RequestStatus.RESOLVED.value, resolved_at=at, resolved_by=by)
    )
    return request_by_id(tx, request_id) if done.rowcount else None  # type: ignore[attr-defined]


def close_as(
    tx: Transaction,
    request_id: int,
    status: RequestStatus,
    *,
    by: str,
    into: int | None = None,
) -> SupportRequest | None:
    """Merge (into another request) or dismiss an open request."""
    done = tx.execute(
        update(SupportRequestRow)
        .where(
            SupportRequestRow.id == request_id,
            SupportRequestRow.status == RequestStatus.OPEN.value,
        )
        .values(status=status.value, closed_by=by, merged_into=into)
    )
    return request_by_id(tx, request_id) if done.rowcount else None  # type: ignore[attr-defined]


def set_severity(tx: Transaction, request_id: int, severity: Severity, *, source: str) -> None:
    row = tx.get(SupportRequestRow, request_id)
    if row is not None:
        row.severity, row.source = severity.value, source


def mark_breach(tx: Transaction, request_id: int, which: str, at: datetime) -> bool:
    """Record a response or resolution breach once; True when it is new."""
    column = (
        SupportRequestRow.response_breached_at
        if which == "response"
        else SupportRequestRow.resolution_breached_at
    )
    done = tx.execute(
        update(SupportRequestRow)
        .where(SupportRequestRow.id == request_id, column.is_(None))
        .values({column: at})
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def open_requests(tx: Transaction, client_id: int | None = None) -> list[SupportRequest]:
    q = select(SupportRequestRow).where(SupportRequestRow.status == RequestStatus.OPEN.value)
    if client_id is not None:
        q = q.where(SupportRequestRow.client_id == client_id)
    return [_record(r) for r in tx.scalars(q.order_by(SupportRequestRow.opened_at))]


def requests_opened(
    tx: Transaction, start: datetime, end: datetime, client_ids: Sequence[int] | None = None
) -> list[SupportRequest]:
    """Requests opened in [start, end) — merged and dismissed ones left out."""
    q = select(SupportRequestRow).where(
        SupportRequestRow.opened_at >= start,
        SupportRequestRow.opened_at < end,
        SupportRequestRow.status.in_([RequestStatus.OPEN.value, RequestStatus.RESOLVED.value]),
    )
    if client_ids is not None:
        q = q.where(SupportRequestRow.client_id.in_(id_list(client_ids)))
    return [_record(r) for r in tx.scalars(q.order_by(SupportRequestRow.opened_at))]


def active_askers(
    tx: Transaction, client_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, int]:
    """Distinct client people who wrote in the client channel in [start, end)."""
    rows = tx.execute(
        select(InboundMessage.client_id, func.count(func.distinct(InboundMessage.author_id)))
        .where(
            InboundMessage.client_id.in_(id_list(client_ids)),
            InboundMessage.occurred_at >= start,
            InboundMessage.occurred_at < end,
        )
        .group_by(InboundMessage.client_id)
    )
    return {int(cid): int(n) for cid, n in rows}


# -- case-study candidates ---------------------------------------------------------------------
def add_candidate(
    tx: Transaction, client: records.Client, source: str, note: str | None, now: datetime
) -> int:
    """Mark a client as a case-study candidate (a close-out marked so, or by hand): it ranks
    first in `/references`. Returns the candidate's id."""
    row = CaseStudyCandidateRow(
        client_id=client.id,
        source=source[:32],
        note=note[:300] if note else None,
        created_at=now,
    )
    tx.add(row)
    tx.flush()
    return row.id


def support_signals(
    tx: Transaction, client_ids: Sequence[int], now: datetime
) -> dict[int, float | None]:
    """The health model's support sub-signal per client, from the last 30 days' requests:
    volume per active client person, breaches, and blockers still open."""
    start, end = now - timedelta(days=SUPPORT_WINDOW_DAYS), now + timedelta(microseconds=1)
    recent = requests_opened(tx, start, end, client_ids)
    askers = active_askers(tx, client_ids, start, end)
    out: dict[int, float | None] = {}
    for cid in client_ids:
        mine = [r for r in recent if r.client_id == cid]
        out[cid] = support_signal(
            requests=len(mine),
            active_users=askers.get(cid, 0),
            breaches=sum(1 for r in mine if r.escalated_at is not None),
            open_blockers=sum(1 for r in mine if r.is_open and r.severity is Severity.BLOCKER),
        )
    return out


# -- product feedback --------------------------------------------------------------------------
def add_feedback(
    tx: Transaction,
    *,
    key: str,
    client_id: int,
    kind: FeedbackKind | str,
    text: str,
    source: str,
    by: str | None,
    now: datetime,
) -> bool:
    """One account's feedback item, once per key (its theme is set by the tick)."""
    return insert_ignore(
        tx,
        FeedbackItemRow,
        {
            "key": key[:120],
            "client_id": client_id,
            "theme": "",
            "kind": str(getattr(kind, "value", kind)),
            "excerpt": text[:EXCERPT],
            "source": source,
            "by": by,
            "created_at": now,
        },
    )


def feedback_from_requests(tx: Transaction) -> int:
    """Feedback items for the requests that carry a feature request or a bug (the ingest path
    writes only the request); dismissed and merged requests give none. New items."""
    have = set(tx.scalars(select(FeedbackItemRow.key)))
    new = 0
    for row in tx.scalars(
        select(SupportRequestRow).where(
            SupportRequestRow.feedback != FeedbackKind.NONE.value,
            SupportRequestRow.status.in_([RequestStatus.OPEN.value, RequestStatus.RESOLVED.value]),
        )
    ):
        key = row.key[:120]
        if key in have:
            continue
        new += add_feedback(
            tx,
            key=key,
            client_id=row.client_id,
            kind=row.feedback,
            text=row.excerpt,
            source="classified",
            by=None,
            now=row.opened_at,
        )
    return new


def feedback_items(tx: Transaction) -> list[FeedbackEntry]:
    rows = tx.scalars(select(FeedbackItemRow).order_by(FeedbackItemRow.id))
    return [
        FeedbackEntry(
            id=r.id,
            client_id=r.client_id,
            text=r.excerpt,
            source=r.source,
            theme=r.theme if r.theme not in ("", NO_THEME) else None,
            seen=r.theme == NO_THEME,
        )
        for r in rows
    ]


NO_THEME = "~"  # placed, and no theme fitted (the model is not asked about it again)


def set_themes(tx: Transaction, themes: dict[int, str | None]) -> None:
    """Fill in the themes of items not themed yet (a theme once given is kept)."""
    for item_id, theme in themes.items():
        row = tx.get(FeedbackItemRow, item_id)
        if row is not None and row.theme in ("", NO_THEME):
            row.theme = theme or NO_THEME


@dataclass(frozen=True)
class Theme:
    name: str
    client_ids: tuple[int, ...]  # the accounts, in the order they raised it
    kinds: tuple[str, ...]
    excerpts: tuple[str, ...]
    items: int


def themes(tx: Transaction) -> list[Theme]:
    grouped: dict[str, list[FeedbackItemRow]] = {}
    for row in tx.scalars(
        select(FeedbackItemRow)
        .where(FeedbackItemRow.theme.not_in(["", NO_THEME]))
        .order_by(FeedbackItemRow.id)
    ):
        grouped.setdefault(row.theme, []).append(row)
    return [
        Theme(
            name=name,
            client_ids=tuple(dict.fromkeys(r.client_id for r in rows)),
            kinds=tuple(dict.fromkeys(r.kind for r in rows)),
            excerpts=tuple(r.excerpt for r in rows),
            items=len(rows),
        )
        for name, rows in grouped.items()
    ]


def record_post(tx: Transaction, theme: str, accounts: int, channel: str, now: datetime) -> bool:
    """A theme's post to Product at a threshold, once: True when this call recorded it."""
    return insert_ignore(
        tx,
        FeedbackPostRow,
        {"theme": theme[:120], "accounts": accounts, "channel": channel, "created_at": now},
    )


# -- the reference program ---------------------------------------------------------------------
@dataclass(frozen=True)
class ReferenceEntry:
    client_id: int
    tier: str
    source: str  # auto | manual
    use_cases: tuple[str, ...]
    entered_at: datetime


@dataclass(frozen=True)
class ReferenceAsk:
    id: int
    client_id: int
    ask: str
    asked_by: str
    asked_at: datetime
    outcome: str
    outcome_at: datetime | None


def advocacy_settings(tx: Transaction) -> AdvocacySettings:
    org = organization_row(tx)
    return AdvocacySettings.from_org_settings(org.settings if org is not None else None)


def reference_entries(tx: Transaction) -> dict[int, ReferenceEntry]:
    return {
        r.client_id: ReferenceEntry(
            client_id=r.client_id,
            tier=r.tier,
            source=r.source,
            use_cases=tuple(r.use_cases or ()),
            entered_at=r.entered_at,
        )
        for r in tx.scalars(select(ReferenceEntryRow))
    }


def enter_pipeline(
    tx: Transaction,
    client_id: int,
    *,
    tier: str,
    source: str,
    use_cases: Sequence[str],
    by: str | None,
    now: datetime,
) -> bool:
    """Put a client in the reference pipeline (by hand: also change its tier and use cases).
    True when it is new there."""
    row = tx.scalars(
        select(ReferenceEntryRow).where(ReferenceEntryRow.client_id == client_id)
    ).first()
    if row is None:
        if insert_ignore(
            tx,
            ReferenceEntryRow,
            {
                "client_id": client_id,
                "tier": tier,
                "source": source,
                "use_cases": list(use_cases),
                "by": by,
                "entered_at": now,
            },
        ):
            return True
        # Entered at the same moment by another request: change it as asked.
        row = tx.scalars(
            select(ReferenceEntryRow).where(ReferenceEntryRow.client_id == client_id)
        ).one()
    if source == "manual":
        row.tier = tier
        if use_cases:
            row.use_cases = sorted({*(row.use_cases or []), *use_cases})
    return False


def record_ask(
    tx: Transaction, client_id: int, *, ask: str, by: str, now: datetime, key: str
) -> ReferenceAsk | None:
    """One reference ask (once per key); None when the key was already recorded."""
    if not insert_ignore(
        tx,
        ReferenceAskRow,
        {
            "key": key[:120],
            "client_id": client_id,
            "ask": ask[:300],
            "asked_by": by,
            "asked_at": now,
            "outcome": "pending",
        },
    ):
        return None
    row = tx.scalars(select(ReferenceAskRow).where(ReferenceAskRow.key == key[:120])).one()
    return _ask(row)


def _ask(row: ReferenceAskRow) -> ReferenceAsk:
    return ReferenceAsk(
        id=row.id,
        client_id=row.client_id,
        ask=row.ask,
        asked_by=row.asked_by,
        asked_at=row.asked_at,
        outcome=row.outcome,
        outcome_at=row.outcome_at,
    )


def set_outcome(
    tx: Transaction, client_id: int, ask_id: int, outcome: str, now: datetime
) -> ReferenceAsk | None:
    row = tx.get(ReferenceAskRow, ask_id)
    if row is None or row.client_id != client_id:
        return None
    row.outcome, row.outcome_at = outcome, now
    return _ask(row)


def reference_asks(tx: Transaction, client_id: int | None = None) -> list[ReferenceAsk]:
    q = select(ReferenceAskRow)
    if client_id is not None:
        q = q.where(ReferenceAskRow.client_id == client_id)
    return [_ask(r) for r in tx.scalars(q.order_by(ReferenceAskRow.asked_at))]


def case_study_clients(tx: Transaction) -> set[int]:
    return set(tx.scalars(select(CaseStudyCandidateRow.client_id)))


def latest_nps_scores(tx: Transaction, client_ids: Sequence[int]) -> dict[int, int]:
    """Each client's latest NPS answer."""
    out: dict[int, int] = {}
    for cid, score in tx.execute(
        select(NpsResponse.client_id, NpsResponse.score)
        .where(NpsResponse.client_id.in_(id_list(client_ids)))
        .order_by(NpsResponse.recorded_at, NpsResponse.id)
    ):
        out[int(cid)] = int(score)
    return out
