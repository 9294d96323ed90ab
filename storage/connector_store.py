"""The cached delivery board (docs/process.md, "Linear and GitHub"): where each client's board
lives, the last good fetch of each source (replaced wholesale), and since when a source fails."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from domain.delivery import (
    Board,
    ConnectorSources,
    Fetched,
    FetchState,
    Issue,
    LinearSource,
    Milestone,
    PullRequest,
    Release,
)
from storage.db import Transaction
from storage.models import BoardItem, Client, ConnectorFetch, ConnectorSource
from storage.upsert import insert_ignore

T = TypeVar("T")
_KINDS: dict[str, type[Any]] = {
    "issue": Issue,
    "milestone": Milestone,
    "pull": PullRequest,
    "release": Release,
}


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _dump(item: Any) -> dict[str, Any]:
    return {f.name: _json(getattr(item, f.name)) for f in dataclasses.fields(item)}


@functools.cache
def _parsers(cls: type[Any]) -> dict[str, type[Any] | None]:
    """Per field: the date/datetime type to parse its ISO text into (None: as stored)."""
    out: dict[str, type[Any] | None] = {}
    for name, hint in typing.get_type_hints(cls).items():
        args = set(typing.get_args(hint)) if isinstance(hint, types.UnionType) else {hint}
        out[name] = datetime if datetime in args else date if date in args else None
    return out


def _load(cls: type[T], data: Mapping[str, Any]) -> T:
    parsers = _parsers(typing.cast(Any, cls))
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name not in parsers:
            continue
        kind = parsers[name]
        if value is not None and kind is not None:
            value = kind.fromisoformat(value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)


def _key(kind: str, item: Any) -> str:
    if kind == "issue":
        return str(item.identifier)
    if kind == "milestone":
        return str(item.name)[:200]
    if kind == "pull":
        return str(item.ref)
    return f"{item.repo}@{item.tag}"[:200]


# -- where the board lives -------------------------------------------------------------------------


def save_sources(session: Session, by_slug: Mapping[str, ConnectorSources]) -> None:
    """The portfolio import's part: each client's `linear:`/`github:` (none: the row goes)."""
    ids = {slug: cid for slug, cid in session.execute(select(Client.slug, Client.id))}
    for slug, sources in by_slug.items():
        client_id = ids.get(slug)
        if client_id is None:
            continue
        row = session.get(ConnectorSource, client_id)
        if not sources.configured():
            if row is not None:
                session.delete(row)
            continue
        linear = sources.linear.model_dump() if sources.linear else None
        if row is None:
            session.add(ConnectorSource(client_id=client_id, linear=linear, github=sources.github))
        else:
            row.linear, row.github = linear, list(sources.github)
    session.flush()


def sources_of(tx: Transaction, client_id: int) -> ConnectorSources:
    row = tx.get(ConnectorSource, client_id)
    if row is None:
        return ConnectorSources()
    return ConnectorSources(
        linear=LinearSource(**row.linear) if row.linear else None, github=list(row.github or [])
    )


def all_sources(tx: Transaction) -> dict[int, ConnectorSources]:
    return {
        row.client_id: ConnectorSources(
            linear=LinearSource(**row.linear) if row.linear else None,
            github=list(row.github or []),
        )
        for row in tx.scalars(select(ConnectorSource))
    }


# -- the cache -------------------------------------------------------------------------------------


def _fetch_row(tx: Transaction, client_id: int, source: str) -> ConnectorFetch:
    insert_ignore(tx, ConnectorFetch, {"client_id": client_id, "source": source, "items": 0})
    return tx.scalars(
        select(ConnectorFetch)
        .where(ConnectorFetch.client_id == client_id, ConnectorFetch.source == source)
        .with_for_update()
    ).one()


def replace(tx: Transaction, client_id: int, fetched: Fetched, now: datetime) -> int:
    """A good fetch: its source's cached items are replaced; the source is healthy again."""
    tx.execute(
        delete(BoardItem).where(
            BoardItem.client_id == client_id, BoardItem.source == fetched.source
        )
    )
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    groups: Iterable[tuple[str, Iterable[Any]]] = (
        ("issue", fetched.issues),
        ("milestone", fetched.milestones),
        ("pull", fetched.pulls),
        ("release", fetched.releases),
    )
    for kind, items in groups:
        for item in items:
            key = _key(kind, item)
            rows[(kind, key)] = {
                "client_id": client_id,
                "source": fetched.source,
                "kind": kind,
                "key": key,
                "data": _dump(item),
                "fetched_at": now,
            }
    if rows:
        tx.execute(insert(BoardItem), list(rows.values()))
    row = _fetch_row(tx, client_id, fetched.source)
    row.fetched_at, row.tried_at, row.failing_since, row.error = now, now, None, None
    row.items = len(rows)
    tx.flush()
    return len(rows)


def record_failure(
    tx: Transaction, client_id: int, source: str, reason: str, now: datetime
) -> FetchState:
    """A failed fetch: the cache keeps the last good items; `failing_since` keeps the first
    failure's time."""
    row = _fetch_row(tx, client_id, source)
    row.tried_at = now
    row.failing_since = row.failing_since or now
    row.error = reason[:300]
    tx.flush()
    return _state(row)


def _state(row: ConnectorFetch) -> FetchState:
    return FetchState(
        source=row.source,
        fetched_at=row.fetched_at,
        failing_since=row.failing_since,
        error=row.error,
    )


def fetch_states(tx: Transaction, client_id: int) -> dict[str, FetchState]:
    return {
        row.source: _state(row)
        for row in tx.scalars(select(ConnectorFetch).where(ConnectorFetch.client_id == client_id))
    }


def last_tried(tx: Transaction) -> dict[tuple[int, str], datetime | None]:
    return {(row.client_id, row.source): row.tried_at for row in tx.scalars(select(ConnectorFetch))}


def board(tx: Transaction, client_id: int) -> Board:
    """The client's cached board, in two queries."""
    out = Board(states=fetch_states(tx, client_id))
    rows = tx.execute(
        select(BoardItem.kind, BoardItem.data)
        .where(BoardItem.client_id == client_id)
        .order_by(BoardItem.id)
    )
    for kind, data in rows:
        cls = _KINDS.get(kind)
        if cls is None:
            continue
        item = _load(cls, data)
        if kind == "issue":
            out.issues.append(item)
        elif kind == "milestone":
            out.milestones.append(item)
        elif kind == "pull":
            out.pulls.append(item)
        else:
            out.releases.append(item)
    return out
