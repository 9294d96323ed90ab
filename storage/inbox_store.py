"""The inbox table: acknowledged requests and follow-up tasks, kept until their work is done.

Only SQL lives here; when to claim, retry or give up is decided by the worker that calls it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import InboxItem

logger = logging.getLogger(__name__)

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


def add(session: Session, item: NewItem, *, now: datetime) -> int | None:
    """Insert one unowned item (a follow-up task, a request from the spool) in the session's
    transaction unless its key is already there. The new row's id, or None."""
    return add_many(session.connection(), [(item, now)], owner=None, lease=None)[0]


def add_many(
    conn: Connection,
    items: list[tuple[NewItem, datetime]],
    *,
    owner: str | None,
    lease: timedelta | None,
) -> list[int | None]:
    """Insert a group of items in one statement (the write before each ack, group-committed),
    each unless its key is already there; `owner` holds them for `lease`. The new rows' ids, in
    the items' order: None for an item whose key was kept before (or earlier in the group)."""
    rows = [
        {
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
            "lease_until": now + lease if lease is not None else None,
            "received_at": item.received_at,
        }
        for item, now in items
    ]
    # executemany with RETURNING: SQLAlchemy sends it as one multi-row INSERT ("insertmanyvalues")
    new = {key: row_id for row_id, key in conn.execute(_ADD[conn.dialect.name], rows)}
    return [new.pop(item.key, None) for item, _ in items]  # a key twice: the first one is new


# Built once (building the statement per request cost more than running it).
_TABLE: Any = InboxItem.__table__
_ADD: dict[str, Any] = {
    name: insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(_TABLE.c.id, _TABLE.c.key)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


class GroupInsert:
    """The write before each ack, for the one thread that group-commits it: a connection kept
    open between groups (no pool checkout and reset per group); one that fails is closed, and
    the next group connects again."""

    def __init__(self, engine: Engine, *, owner: str, lease: timedelta):
        self.engine = engine
        self.owner = owner
        self.lease = lease
        self._conn: Connection | None = None
        # On PostgreSQL a group is one INSERT … RETURNING in autocommit: one round trip, and
        # its answer comes once the server has committed it (no BEGIN and COMMIT of their
        # own). SQLite keeps its transaction: the write gate is given back at its commit.
        self._autocommit = engine.dialect.name == "postgresql"

    def add(self, items: list[tuple[NewItem, datetime]]) -> list[int | None]:
        if self._conn is None:
            conn = self.engine.connect()
            if self._autocommit:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self._conn = conn
        conn = self._conn
        try:
            with conn.begin():
                return add_many(conn, items, owner=self.owner, lease=self.lease)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken: nothing more to give back
                logger.debug("the inbox writer's connection did not close cleanly")


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
