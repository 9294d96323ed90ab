"""Fetching the delivery board into the cache (docs/process.md, "Linear and GitHub"), on a
schedule and on demand, failing soft: a source that cannot be read keeps its last good items
and notes since when it fails, and whoever reads the board says so.

The network calls run outside any transaction; each source's result is written in one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors import Connectors, Unreachable
from domain.delivery import ConnectorSources, FetchState, Source
from storage import connector_store as store
from usecases.deps import Deps

logger = logging.getLogger(__name__)

REFRESH_EVERY = timedelta(minutes=30)


@dataclass(frozen=True)
class Refreshed:
    client_id: int
    source: Source
    items: int  # cached items after the fetch (0 when it failed)
    state: FetchState | None = None  # set when it failed


def refresh_client(
    deps: Deps,
    client_id: int,
    sources: ConnectorSources,
    now: datetime,
    only: tuple[Source, ...] | None = None,
    down: dict[Source, str] | None = None,
) -> list[Refreshed]:
    """Fetch each configured source of one client and write it to the cache. `down` (the
    round's sources that could not be reached at all) is skipped and noted as failing, so a
    dead API costs one timeout per round, not one per client; a new such failure is added."""
    connectors = deps.connectors
    if connectors is None:
        return []
    out: list[Refreshed] = []
    for source in sources.configured():
        if only is not None and source not in only:
            continue
        if source not in connectors.enabled():
            continue
        if down is not None and source in down:
            with deps.db.transaction() as tx:
                state = store.record_failure(tx, client_id, source, down[source], now)
            out.append(Refreshed(client_id, source, 0, state))
            continue
        result = _one(deps, connectors, client_id, source, sources, now)
        if (
            down is not None
            and result.state is not None
            and (result.state.error or "").startswith("cannot connect")
        ):
            down[source] = result.state.error or "cannot connect"
        out.append(result)
    return out


def _one(
    deps: Deps,
    connectors: Connectors,
    client_id: int,
    source: Source,
    sources: ConnectorSources,
    now: datetime,
) -> Refreshed:
    try:
        fetched = connectors.fetch(source, sources, now)
    except Unreachable as err:
        logger.warning("client %s: %s unreachable: %s", client_id, source, err.reason)
        with deps.db.transaction() as tx:
            state = store.record_failure(tx, client_id, source, err.reason, now)
        return Refreshed(client_id, source, 0, state)
    with deps.db.transaction() as tx:
        items = store.replace(tx, client_id, fetched, now)
    return Refreshed(client_id, source, items)


def refresh_due(deps: Deps, now: datetime, every: timedelta = REFRESH_EVERY) -> list[Refreshed]:
    """Every client whose board was last tried more than `every` ago (the schedule)."""
    if deps.connectors is None:
        return []
    with deps.db.transaction() as tx:
        configured = store.all_sources(tx)
        tried = store.last_tried(tx)
    out: list[Refreshed] = []
    down: dict[Source, str] = {}
    for client_id, sources in configured.items():
        due = tuple(
            s
            for s in sources.configured()
            if (t := tried.get((client_id, s))) is None or now - t >= every
        )
        if due:
            out.extend(refresh_client(deps, client_id, sources, now, only=due, down=down))
    return out
