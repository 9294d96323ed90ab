"""SQLite writers in one process queue at the write gate, and the write before an ack goes
first; the group insert keeps each request's own answer."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import inbox_store as store
from storage.db import Database
from storage.db_errors import is_transient_database_error
from storage.write_gate import WriteGate, gate_for, is_write


@pytest.mark.parametrize(
    ("sql", "write"),
    [
        ("INSERT INTO t VALUES (1)", True),
        ("  update t set x = 1", True),
        ("DELETE FROM t", True),
        ("CREATE TABLE t (x)", True),
        ("WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a", True),
        ("SELECT * FROM t", False),
        ("WITH a AS (SELECT 1) SELECT * FROM a", False),
        ("PRAGMA journal_mode=WAL", False),
    ],
)
def test_what_takes_the_gate(sql: str, write: bool) -> None:
    assert is_write(sql) is write


def test_an_urgent_writer_goes_before_waiting_work() -> None:
    gate = WriteGate()
    assert gate.acquire(urgent=False, timeout=1)
    order: list[str] = []
    waiting = threading.Barrier(3)

    def take(name: str, urgent: bool) -> None:
        waiting.wait()
        if name == "urgent":
            time.sleep(0.05)  # the normal writer queued first
        assert gate.acquire(urgent=urgent, timeout=5)
        order.append(name)
        gate.release()

    threads = [
        threading.Thread(target=take, args=("work", False)),
        threading.Thread(target=take, args=("urgent", True)),
    ]
    for t in threads:
        t.start()
    waiting.wait()
    time.sleep(0.2)  # both wait now
    assert order == []
    gate.release()
    for t in threads:
        t.join(5)
    assert order == ["urgent", "work"]


def test_a_gate_not_given_back_in_time_times_out() -> None:
    gate = WriteGate()
    assert gate.acquire(urgent=True, timeout=1)
    began = time.monotonic()
    assert gate.acquire(urgent=True, timeout=0.1) is False
    assert time.monotonic() - began >= 0.1


def _sqlite(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'gate.db'}")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    return db


def test_a_second_writer_waits_at_the_gate_and_runs_once_the_first_commits(
    tmp_path: Path,
) -> None:
    db = _sqlite(tmp_path)
    gate = gate_for(str(tmp_path / "gate.db"))
    done = threading.Event()

    def second() -> None:
        with db.transaction() as tx:
            tx.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    with db.transaction() as tx:
        tx.execute(text("INSERT INTO t VALUES (1)"))
        assert gate.held
        t = threading.Thread(target=second)
        t.start()
        assert not done.wait(0.3)  # it waits for the first writer, not past it
    assert done.wait(5)
    t.join(5)
    assert not gate.held
    with db.session() as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_the_gate_is_given_back_on_rollback_and_on_a_failed_statement(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    gate = gate_for(str(tmp_path / "gate.db"))
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("the use case failed")
    assert not gate.held
    with pytest.raises(OperationalError), db.transaction() as tx:
        tx.execute(text("INSERT INTO missing VALUES (1)"))
    assert not gate.held
    with db.session() as s:  # a read takes no gate
        s.execute(text("SELECT count(*) FROM t")).scalar()
        assert not gate.held


def test_a_quick_write_waits_no_longer_than_its_timeout_and_says_locked(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    with db.transaction() as tx:
        tx.execute(text("INSERT INTO t VALUES (1)"))
        began = time.monotonic()
        with pytest.raises(OperationalError) as caught, db.quick_transaction() as quick:
            quick.execute(text("INSERT INTO t VALUES (2)"))
        waited = time.monotonic() - began
    assert 0.5 < waited < 5
    assert is_transient_database_error(caught.value)


def _item(key: str, now: datetime) -> tuple[store.NewItem, datetime]:
    return store.NewItem(key=key, lane="events", kind="slack", body="{}", received_at=now), now


def test_a_group_insert_answers_each_request_in_order(db: Database) -> None:
    now = datetime.now(UTC)
    writer = store.GroupInsert(db.quick_engine, owner="me", lease=timedelta(seconds=15))
    try:
        first = writer.add([_item("a", now), _item("b", now)])
        assert all(isinstance(i, int) for i in first)
        again = writer.add([_item("c", now), _item("a", now), _item("c", now), _item("d", now)])
    finally:
        writer.close()
    assert again[1] is None  # kept before
    assert again[2] is None  # the same key earlier in the group: kept once
    assert isinstance(again[0], int) and isinstance(again[3], int)
    assert len({*first, again[0], again[3]}) == 4
    with db.session() as s:
        assert store.item_status(s, "c") == store.PENDING
        keys = s.execute(text("SELECT key, owner FROM inbox ORDER BY id")).all()
    assert [k for k, _ in keys] == ["a", "b", "c", "d"]
    assert {o for _, o in keys} == {"me"}
