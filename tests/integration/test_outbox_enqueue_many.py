"""`enqueue_many` (the tick's one-statement write; on PostgreSQL one binary array per column)
writes exactly the rows `enqueue` writes one by one, and skips keys already written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from domain.nudge import NudgeSpec
from storage import outbox_store
from storage.db import Database
from storage.models import Client, Nudge

NOW = datetime(2026, 11, 18, 20, 5, tzinfo=UTC)
NY = ZoneInfo("America/New_York")


def _specs(client_id: int) -> list[NudgeSpec]:
    due = datetime(2026, 11, 18, 11, 0, tzinfo=NY)  # aware, not UTC: stored as UTC
    return [
        NudgeSpec(  # a person's, for a client, with blocks and nested data
            cadence_id="triangle-sync",
            period="2026-W47",
            target="UCSO",
            text="Triangle Sync — Acme & <Co> “quoted”",
            due_at=due,
            expires_at=due + timedelta(hours=6),
            person_id="UCSO",
            client_id=client_id,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*Acme* ✓"}}],
            data={"view": "cadence", "day": "2026-11-18", "nested": {"n": [1, 2.5, None]}},
        ),
        NudgeSpec(  # a channel's: no person, no client, no blocks, no data, not batched
            cadence_id="leadership-digest",
            period="2026-W47",
            target="CLEADS",
            text="The week",
            due_at=NOW,
            expires_at=NOW + timedelta(days=1),
            batch=False,
            key="digest:2026-W47:CLEADS",
        ),
    ]


def _client_id(db: Database) -> int:
    with db.transaction() as tx:
        client = Client(slug="acme", name="Acme", cso_id="UCSO")
        tx.add(client)
        tx.flush()
        return client.id


def _rows(db: Database) -> dict[str, dict[str, Any]]:
    with db.transaction() as tx:
        rows = tx.scalars(select(Nudge)).all()
        return {
            r.key: {c.name: getattr(r, c.name) for c in Nudge.__table__.c if c.name != "id"}
            for r in rows
        }


def test_enqueue_many_writes_what_enqueue_writes(db: Database) -> None:
    client_id = _client_id(db)
    specs = _specs(client_id)
    with db.transaction() as tx:
        assert all(outbox_store.enqueue(tx, s, NOW) for s in specs)
    one_by_one = _rows(db)
    with db.transaction() as tx:
        tx.execute(delete(Nudge))
    with db.transaction() as tx:
        assert outbox_store.enqueue_many(tx, specs, NOW) == 2
    together = _rows(db)
    assert together == one_by_one
    row = together["digest:2026-W47:CLEADS"]
    assert (row["person_id"], row["client_id"], row["blocks"]) == (None, None, None)
    assert row["data"] == {}
    triangle = together[specs[0].natural_key()]
    assert triangle["due_at"] == datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
    assert triangle["due_at"].tzinfo is not None
    assert triangle["data"]["nested"] == {"n": [1, 2.5, None]}
    assert triangle["status"] == "pending" and triangle["created_at"] == NOW


def test_enqueue_many_keeps_what_is_written_and_adds_the_rest(db: Database) -> None:
    client_id = _client_id(db)
    first, second = _specs(client_id)
    with db.transaction() as tx:
        outbox_store.enqueue_many(tx, [first], NOW)
    with db.transaction() as tx:
        tx.execute(update(Nudge).values(status="sent"))
    changed = NudgeSpec(**{**first.__dict__, "text": "rewritten"})
    with db.transaction() as tx:
        outbox_store.enqueue_many(tx, [changed, second], NOW + timedelta(minutes=1))
    rows = _rows(db)
    assert set(rows) == {first.natural_key(), second.natural_key()}
    kept = rows[first.natural_key()]
    assert (kept["status"], kept["text"], kept["created_at"]) == ("sent", first.text, NOW)
    assert rows[second.natural_key()]["created_at"] == NOW + timedelta(minutes=1)


def test_enqueue_many_with_a_column_of_nothing_but_nulls(db: Database) -> None:
    """Every row without a person, a client and blocks (an array of NULLs has no element type
    to go by)."""
    _, channel = _specs(_client_id(db))
    other = NudgeSpec(**{**channel.__dict__, "key": "digest:2026-W47:COTHER", "target": "COTHER"})
    with db.transaction() as tx:
        assert outbox_store.enqueue_many(tx, [channel, other], NOW) == 2
    rows = _rows(db)
    assert {r["target"] for r in rows.values()} == {"CLEADS", "COTHER"}
    assert all(r["person_id"] is None and r["client_id"] is None for r in rows.values())


@pytest.mark.parametrize("rows", [1, 2])
def test_enqueue_many_never_cuts_a_value_too_long_for_its_column(db: Database, rows: int) -> None:
    """A target longer than its column: refused (PostgreSQL) or kept whole (SQLite, which does
    not check lengths), never cut to fit; in one row, or in two that share it (a value every
    row shares goes to PostgreSQL once, as a parameter, not as an array)."""
    _, channel = _specs(_client_id(db))
    target = "C" + "X" * 40  # the column holds 32
    long = [
        NudgeSpec(**{**channel.__dict__, "target": target, "key": f"digest:2026-W47:{i}"})
        for i in range(rows)
    ]
    try:
        with db.transaction() as tx:
            outbox_store.enqueue_many(tx, long, NOW)
    except DBAPIError:
        assert db.engine.dialect.name == "postgresql"
        assert _rows(db) == {}
        return
    assert [r["target"] for r in _rows(db).values()] == [target] * rows
