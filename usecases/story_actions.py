"""Story vs board for a client (docs/process.md, "Story vs board"): the check over the cached
board and the last two weeks' story, the daily scan's nudge to the CSO (once per mismatch,
through the outbox) and the /health section."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain import records
from domain.delivery import Board
from domain.story import WINDOW_DAYS, StoryCheck, check
from prompts import blocks as bk
from prompts.story_views import health_section, mismatch_nudge
from storage import connector_store, story_store
from storage.db import Transaction
from storage.portfolio_store import active_clients, timezone_of
from usecases.deps import Deps
from usecases.outbox import NudgeSpec, enqueue

CADENCE = "story_mismatch"
GRACE = timedelta(days=2)


@dataclass
class ClientStory:
    client: records.Client
    board: Board
    result: StoryCheck
    tz: ZoneInfo


def story_of(tx: Transaction, client: records.Client, now: datetime) -> ClientStory:
    tz = timezone_of(tx, client)
    board = connector_store.board(tx, client.id)
    story = story_store.story_between(tx, client.id, now - timedelta(days=WINDOW_DAYS), now)
    return ClientStory(client, board, check(story, board, now.astimezone(tz).date()), tz)


def nudge_key(client_id: int, mismatch_key: str) -> tuple[str, str]:
    """The outbox key and period of one mismatch's nudge (short, stable)."""
    digest = hashlib.sha1(mismatch_key.encode()).hexdigest()[:16]
    return f"story:{client_id}:{digest}", digest


def enqueue_story_nudges(deps: Deps, now: datetime) -> int:
    """The scan: every new mismatch of every client with a board, to its CSO, once."""
    new = 0
    with deps.db.transaction() as tx:
        configured = connector_store.all_sources(tx)
        for client in active_clients(tx):
            if client.id not in configured:
                continue
            cs = story_of(tx, client, now)
            for m in cs.result.mismatches:
                key, period = nudge_key(client.id, m.key)
                text, blocks = mismatch_nudge(m, client, cs.tz)
                new += enqueue(
                    tx,
                    NudgeSpec(
                        cadence_id=CADENCE,
                        period=period,
                        target=client.cso_id,
                        person_id=client.cso_id,
                        client_id=client.id,
                        text=text,
                        blocks=blocks,
                        due_at=now,
                        expires_at=now + GRACE,
                        key=key,
                        data={"mismatch": m.key, "kind": m.kind},
                    ),
                    now,
                )
    return new


def health_blocks(tx: Transaction, client: records.Client, now: datetime) -> list[bk.Block]:
    """The /health breakdown's "Story vs board" part (none without a board)."""
    if not connector_store.sources_of(tx, client.id).configured():
        return []
    cs = story_of(tx, client, now)
    return health_section(cs.result.mismatches, cs.board.states, cs.tz)
