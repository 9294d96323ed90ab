"""One writer at a time on a SQLite file, queued in this process instead of in SQLite's sleep.

SQLite lets one connection write at a time. A second writer waits in SQLite's busy handler,
which polls by sleeping in steps of up to 100 ms: it may sleep long after the lock is free, and
the write before an ack queued behind work transactions pays those sleeps (hundreds of ms at the
99th percentile under load). Here every connection of a process to the same file takes a gate
before its first write and gives it back when its transaction ends: a waiting writer wakes the
moment the gate is free, and the write before an ack (an *urgent* connection) goes before
waiting work. The gate mirrors SQLite's own lock (taken at the first write, released at commit
or rollback), so it changes who waits how, not what may run together; writers in other
processes still meet at SQLite's lock, with its busy timeout.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from typing import Any, Self

# A statement that takes SQLite's write lock (a CTE may end in a write too).
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_CTE_WRITE = re.compile(r"\s*WITH\b.*\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE | re.DOTALL)


def is_write(statement: str) -> bool:
    return bool(_WRITE.match(statement) or _CTE_WRITE.match(statement))


class WriteGate:
    """A lock with two queues: urgent acquirers go before normal ones."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = False
        self._urgent_waiting = 0

    def acquire(self, *, urgent: bool, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            if urgent:
                self._urgent_waiting += 1
            try:
                while self._held or (not urgent and self._urgent_waiting):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(left)
                self._held = True
                return True
            finally:
                if urgent:
                    self._urgent_waiting -= 1

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()

    @property
    def held(self) -> bool:
        return self._held


_GATES: dict[str, WriteGate] = {}
_GATES_LOCK = threading.Lock()


def gate_for(database: str) -> WriteGate:
    """The process's one gate for a database file."""
    if database and database != ":memory:" and not database.startswith("file:"):
        database = os.path.realpath(database)
    with _GATES_LOCK:
        return _GATES.setdefault(database, WriteGate())


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that takes its file's gate before its first write and gives it
    back when the transaction ends (commit, rollback or close). Subclassed per engine with the
    gate, the wait (the engine's busy timeout) and whether it is urgent."""

    gate: WriteGate
    wait_s: float
    urgent: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holds_gate = False

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or GatedCursor)

    def take_gate(self) -> None:
        if self.holds_gate:
            return
        if not self.gate.acquire(urgent=self.urgent, timeout=self.wait_s):
            raise sqlite3.OperationalError("database is locked")
        self.holds_gate = True

    def give_gate(self) -> None:
        if self.holds_gate:
            self.holds_gate = False
            self.gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_gate()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_gate()


class GatedCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        self._gate(sql)
        super().execute(sql, parameters)
        return self

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        self._gate(sql)
        super().executemany(sql, seq_of_parameters)
        return self

    def _gate(self, sql: str) -> None:
        conn = self.connection
        # Held until the transaction ends; a statement that commits by itself (DDL outside a
        # transaction) keeps it until the commit or rollback that SQLAlchemy always ends with.
        if isinstance(conn, GatedConnection) and not conn.holds_gate and is_write(sql):
            conn.take_gate()


def connection_class(database: str, *, wait_s: float, urgent: bool) -> type[GatedConnection]:
    return type(
        "UrgentGatedConnection" if urgent else "GatedConnection",
        (GatedConnection,),
        {"gate": gate_for(database), "wait_s": wait_s, "urgent": urgent},
    )
