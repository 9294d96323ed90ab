"""The cadence tick on PostgreSQL while its connections are being killed: a tick writes every
nudge it planned or none of them, and the tick after the database is back writes each one
once.

The test runs on a private database (created for it, dropped after), never on `test`.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from bench.builders import add_people_and_clients, add_recent_touchpoints
from scheduling.cadence_jobs import enqueue_cadences
from storage.db import Database
from storage.models import Nudge
from tests.faults.harness import BackendKiller
from usecases import cadence_actions
from usecases.clock import FixedClock
from usecases.deps import Deps

# A Wednesday just past New York's cutoff: the day's Triangle Sync reminders (one per person,
# listing their clients) and the cutoff's, hundreds of nudges written by one statement.
NOW = datetime(2026, 11, 18, 15, 5, tzinfo=ZoneInfo("America/New_York"))
ATTEMPTS = 20  # ticks tried while backends are killed (the test stops at the third failure)
KILL_EVERY_S = 0.02


def _keys(db: Database) -> list[str]:
    with db.session() as session:
        return sorted(session.scalars(select(Nudge.key)))


def test_a_killed_tick_writes_nothing_and_the_next_writes_each_nudge_once(
    private_pg_url: str,
) -> None:
    db = Database(private_pg_url)
    try:
        add_people_and_clients(db, 2000, 400)
        add_recent_touchpoints(db, NOW.date())
        # What one tick writes, found by writing it in a transaction that is rolled back.
        with db.session() as session:
            planned = cadence_actions.enqueue_due(session, NOW)
            expected = sorted(session.scalars(select(Nudge.key)))
            session.rollback()
        assert planned == len(expected) > 300
        assert _keys(db) == []

        deps = Deps(db=db, clock=FixedClock(NOW))
        failed = succeeded = 0
        deadline = time.monotonic() + 30
        with BackendKiller(private_pg_url, interval=KILL_EVERY_S) as killer:
            for _ in range(ATTEMPTS):
                try:
                    enqueue_cadences(deps, NOW)
                    succeeded += 1
                except DBAPIError:  # the connection was killed under it
                    failed += 1
                if failed >= 3 or time.monotonic() > deadline:
                    break
        assert killer.terminated > 0 and failed > 0, "no tick was interrupted: no fault happened"
        during = _keys(db)
        # All or nothing: a killed tick leaves no part of its nudges behind.
        assert during in ([], expected), (
            f"{len(during)} of {len(expected)} nudges written by ticks that were killed "
            f"({failed} killed, {succeeded} completed)"
        )

        assert enqueue_cadences(deps, NOW) == (0 if during else len(expected))
        assert _keys(db) == expected
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(Nudge)) == len(expected)
    finally:
        db.dispose()
