"""A checklist (one reminder listing a person's clients) in the database: two people closing two
of its clients at the same moment both land, and a click on one client never closes another."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from domain.nudge import NudgeSpec, checklist_key, line_key, listed
from storage import cadence_store as store
from storage import outbox_store
from storage.db import Database
from storage.db_errors import is_transient_database_error
from storage.models import Client, Nudge

NOW = datetime(2026, 11, 18, 17, 0, tzinfo=UTC)
KEY = checklist_key("triangle-sync", "UCSO", "2026-W47")


def _checklist(db: Database) -> list[int]:
    with db.transaction() as tx:
        clients = [Client(slug=s, name=s.title(), cso_id="UCSO") for s in ("acme", "globex")]
        tx.add_all(clients)
        tx.flush()
        ids = [c.id for c in clients]
        outbox_store.enqueue(
            tx,
            NudgeSpec(
                cadence_id="triangle-sync",
                period="2026-W47",
                target="UCSO",
                person_id="UCSO",
                text="Triangle Sync — Acme, Globex",
                due_at=NOW,
                expires_at=NOW + timedelta(hours=6),
                data={
                    "view": "cadence",
                    "title": "Triangle Sync",
                    "closes": "click",
                    "clients": [{"id": i, "name": f"C{i}", "slug": f"c{i}"} for i in ids],
                },
                key=KEY,
            ),
            NOW,
        )
    return ids


def _done(db: Database, client_id: int, by: str, hold: float = 0.0) -> None:
    """Done on the client's line, in one transaction (held open `hold` seconds before its
    commit); retried, as the inbox retries a click, when the database says to."""
    for _ in range(20):
        try:
            with db.transaction() as tx:
                nudge = store.nudge_by_key(tx, line_key(KEY, client_id))
                assert nudge is not None and nudge.client_id == client_id
                store.mark_done(tx, nudge, by=by, outcome=f"done by {by}", now=NOW)
                time.sleep(hold)
            return
        except Exception as exc:
            if not is_transient_database_error(exc):
                raise
            time.sleep(0.05)
    raise AssertionError("never written")


def _row(db: Database) -> Nudge:
    with db.session() as tx:
        row = tx.scalars(select(Nudge).where(Nudge.key == KEY)).one()
        tx.expunge(row)
        return row


def test_two_clients_closed_at_the_same_moment_both_land(db: Database) -> None:
    acme, globex = _checklist(db)
    first = threading.Thread(target=_done, args=(db, acme, "ULEE", 0.4))
    first.start()
    time.sleep(0.15)  # the first click holds its transaction open
    _done(db, globex, "UDANA")
    first.join(timeout=10)
    row = _row(db)
    outcomes = {c["id"]: c.get("outcome") for c in listed(row.data)}
    assert outcomes == {acme: "done by ULEE", globex: "done by UDANA"}
    assert row.status == "dropped"  # every client done before it was sent


def test_done_on_one_client_leaves_the_others_open(db: Database) -> None:
    acme, globex = _checklist(db)
    _done(db, acme, "ULEE")
    row = _row(db)
    assert row.status == "pending"
    assert {c["id"]: c.get("outcome") for c in listed(row.data)} == {
        acme: "done by ULEE",
        globex: None,
    }
    with db.session() as tx:
        line = store.nudge_by_key(tx, line_key(KEY, globex))
        assert line is not None and line.status == "pending" and line.client_id == globex
        closed = store.nudge_by_key(tx, line_key(KEY, acme))
        assert closed is not None and closed.status == "closed"
        assert store.nudge_by_key(tx, line_key(KEY, 999)) is None
