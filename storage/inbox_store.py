"""The inbox table: acknowledged requests and follow-up tasks, kept until their work is done.

Only SQL lives here; when to claim, retry or give up is decided by the worker that calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import InboxItem

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True)
class NewItem:
    key: str
    lane: str
    kind: str
    body: str
    received_at: datetime
    mode: str = "http"
    content_type: str | None = None


@dataclass(frozen=True)
class Work:
    """What a worker needs to run one item."""

    id: int
    key: str
    lane: str
    kind: str
    mode: str
    content_type: str | None
    body: str
    attempts: int
    received_at: datetime


def add(
    session: Session,
    item: NewItem,
    *,
    owner: str | None,
    lease_until: datetime | None,
    now: datetime,
) -> int | None:
    """Insert the item unless its key is already there. The new row's id, or None."""
    values = {
        "key": item.key,
        "lane": item.lane,
        "kind": item.kind,
        "mode": item.mode,
        "content_type": item.content_type,
        "body": item.body,
        "status": PENDING,
        "attempts": 0,
        "next_at": now,
        "owner": owner,
        "lease_until": lease_until,
        "received_at": item.received_at,
    }
    return session.execute(_ADD[session.get_bind().dialect.name], values).scalar()


# The write before every ack, built once (building the statement per request cost more than
# running it): a Core insert with the row as its parameters.
_TABLE: Any = InboxItem.__table__
_ADD: dict[str, Any] = {
    "postgresql": postgresql.insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(_TABLE.c.id),
    "sqlite": sqlite.insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(_TABLE.c.id),
}


def _claimable(now: datetime) -> object:
    return and_(
        InboxItem.status == PENDING,
        InboxItem.next_at <= now,
        or_(InboxItem.owner.is_(None), InboxItem.lease_until < now),
    )


def claim_due(
    session: Session,
    *,
    owner: str,
    claim: str,
    now: datetime,
    lease_until: datetime,
    lanes: dict[str, int],
    skip: set[int],
) -> list[Work]:
    """Claim up to `lanes[lane]` runnable items per lane (unowned, or whose owner's lease
    expired); `skip` are items this process is already running. Safe across processes: the
    UPDATE re-checks ownership row by row."""
    claimed: list[Work] = []
    for lane, limit in lanes.items():
        if limit <= 0:
            continue
        ids = [
            i
            for i in session.scalars(
                select(InboxItem.id)
                .where(_claimable(now), InboxItem.lane == lane)  # type: ignore[arg-type]
                .order_by(InboxItem.next_at, InboxItem.id)
                .limit(limit + len(skip))
            )
            if i not in skip
        ][:limit]
        if not ids:
            continue
        session.execute(
            update(InboxItem)
            .where(InboxItem.id.in_(ids), _claimable(now))  # type: ignore[arg-type]
            .values(owner=owner, claim=claim, lease_until=lease_until)
            .execution_options(synchronize_session=False)
        )
    rows = session.scalars(
        select(InboxItem).where(InboxItem.claim == claim, InboxItem.owner == owner)
    )
    for row in rows:
        claimed.append(
            Work(
                id=row.id,
                key=row.key,
                lane=row.lane,
                kind=row.kind,
                mode=row.mode,
                content_type=row.content_type,
                body=row.body or "",
                attempts=row.attempts,
                received_at=row.received_at,
            )
        )
    return claimed


def complete(session: Session, item_id: int, now: datetime) -> None:
    """The work is done: keep the row (its key stops a retry of the same request) but drop
    the body — only short excerpts are kept, never whole conversations."""
    session.execute(
        update(InboxItem)
        .where(InboxItem.id == item_id, InboxItem.status == PENDING)
        .values(
            status=DONE,
            body=None,
            owner=None,
            claim=None,
            lease_until=None,
            finished_at=now,
            attempts=InboxItem.attempts + 1,
            last_error=None,
        )
    )


def retry_later(
    session: Session, item_id: int, *, next_at: datetime, error: str, give_up: bool, now: datetime
) -> None:
    """The work failed: try again at `next_at`, or give up (the row stays, marked failed)."""
    values: dict[str, object] = {
        "attempts": InboxItem.attempts + 1,
        "owner": None,
        "claim": None,
        "lease_until": None,
        "last_error": error[:300],
        "next_at": next_at,
    }
    if give_up:
        values.update(status=FAILED, finished_at=now, body=None)
    session.execute(
        update(InboxItem).where(InboxItem.id == item_id, InboxItem.status == PENDING).values(values)
    )


def renew(session: Session, owner: str, ids: set[int], lease_until: datetime) -> None:
    """Extend this process's leases on the items it is running or has queued."""
    if not ids:
        return
    session.execute(
        update(InboxItem)
        .where(InboxItem.owner == owner, InboxItem.id.in_(ids), InboxItem.status == PENDING)
        .values(lease_until=lease_until)
    )


def release(session: Session, owner: str) -> int:
    """Give back every unfinished item of this process (a clean shutdown): the next process
    takes them at once instead of waiting for the lease to run out."""
    result = session.execute(
        update(InboxItem)
        .where(InboxItem.owner == owner, InboxItem.status == PENDING)
        .values(owner=None, claim=None, lease_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Backlog:
    pending: int
    failed: int
    oldest_pending: datetime | None


def backlog(session: Session) -> Backlog:
    pending, oldest = session.execute(
        select(func.count(InboxItem.id), func.min(InboxItem.received_at)).where(
            InboxItem.status == PENDING
        )
    ).one()
    failed = session.scalar(select(func.count(InboxItem.id)).where(InboxItem.status == FAILED))
    return Backlog(pending=int(pending or 0), failed=int(failed or 0), oldest_pending=oldest)


def purge(session: Session, before: datetime) -> int:
    """Forget finished items older than `before` (Slack never retries that late)."""
    result = session.execute(
        delete(InboxItem).where(
            InboxItem.status.in_((DONE, FAILED)), InboxItem.finished_at < before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def item_status(session: Session, key: str) -> str | None:
    return session.scalar(select(InboxItem.status).where(InboxItem.key == key))


def due_count(session: Session, now: datetime) -> int:
    """Items waiting that are due now (owned or not)."""
    return int(
        session.scalar(
            select(func.count(InboxItem.id)).where(
                InboxItem.status == PENDING, InboxItem.next_at <= now
            )
        )
        or 0
    )
