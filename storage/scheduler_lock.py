"""Who ticks: one process at a time holds the scheduler lock — on PostgreSQL a session-level
advisory lock held on a dedicated connection, on SQLite an exclusive file lock next to the
database file. Whoever holds it ticks; the others stand by and try again every few seconds, so
when the holder dies (its connection or file descriptor goes with it) another takes over within
seconds."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

logger = logging.getLogger(__name__)

# pg_try_advisory_lock(key): one key for every csobot process on a database.
ADVISORY_KEY = 0x0C50_B07


def _me() -> str:
    return f"csobot {socket.gethostname()} pid {os.getpid()}"


class SchedulerLock:
    """Who ticks. `ensure()` is True while this process holds the lock (it takes it when it
    is free); the holder and a change of holder are logged once."""

    def __init__(self) -> None:
        self.held = False
        self._said: str | None = None
        self._mutex = threading.Lock()  # the tick and the watch job run on different threads

    # the backend's part
    def _acquire(self) -> bool:
        raise NotImplementedError

    def _still_held(self) -> bool:
        return True

    def _release(self) -> None:
        pass

    def holder(self) -> str | None:
        """Who holds it, when this process does not (for the log)."""
        return None

    def ensure(self) -> bool:
        with self._mutex:
            return self._ensure()

    def _ensure(self) -> bool:
        if self.held and not self._still_held():
            self.held = False
            self._say(
                "lost", "scheduler lock lost (its connection dropped); trying to take it back"
            )
        if not self.held:
            try:
                self.held = self._acquire()
            except Exception as exc:  # the database is away: nobody ticks from here for now
                self._say("error", f"scheduler lock unavailable ({type(exc).__name__})")
                return False
            if self.held:
                self._say("held", f"this process ({_me()}) holds the scheduler lock: it ticks")
            else:
                who = self.holder() or "another process"
                self._say(
                    f"standby:{who}",
                    f"scheduler lock held by {who}: this process stands by and takes over if "
                    "it stops",
                )
        return self.held

    def release(self) -> None:
        with self._mutex:
            with contextlib.suppress(Exception):
                self._release()
            self.held = False
            self._said = None

    def _say(self, state: str, message: str) -> None:
        if self._said != state:
            self._said = state
            logger.info(message)


class PostgresLock(SchedulerLock):
    """pg_try_advisory_lock on a connection of its own (session-level: it lasts as long as the
    connection; a dead process's connection, and lock, are gone)."""

    def __init__(self, url: str, key: int = ADVISORY_KEY):
        super().__init__()
        self.key = key
        self.engine: Engine = create_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"application_name": _me()[:63], "connect_timeout": 5},
        )
        self.conn: Connection | None = None

    def _acquire(self) -> bool:
        if self.conn is None:
            self.conn = self.engine.connect()
        got = self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
        return bool(got.scalar())

    def _still_held(self) -> bool:
        try:
            assert self.conn is not None
            self.conn.execute(text("SELECT 1"))
            return True
        except Exception:
            self._drop()
            return False

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.invalidate()
                self.conn.close()
        self.conn = None

    def _release(self) -> None:
        if self.conn is not None and self.held:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        self._drop()
        self.engine.dispose()

    def holder(self) -> str | None:
        if self.conn is None:
            return None
        with contextlib.suppress(Exception):
            row = self.conn.execute(
                text(
                    "SELECT a.application_name, a.client_addr FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 "
                    "AND l.objid = :k"
                ),
                {"k": self.key},
            ).first()
            if row is not None:
                return f"{row[0] or 'a csobot process'}" + (f" at {row[1]}" if row[1] else "")
        return None


class FileLock(SchedulerLock):
    """An exclusive flock on `<database>.scheduler.lock` (released by the kernel when the
    process dies); the holder writes who it is into the file."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.fd: int | None = None

    def _acquire(self) -> bool:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{_me()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n".encode(), 0)
        return True

    def _release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def holder(self) -> str | None:
        with contextlib.suppress(OSError):
            return self.path.read_text().strip() or None
        return None


class ProcessLock(SchedulerLock):
    """An in-memory database: only this process can see it, so this process ticks."""

    def _acquire(self) -> bool:
        return True


def make_lock(database_url: str) -> SchedulerLock:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return PostgresLock(database_url)
    path = url.database
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return ProcessLock()
    return FileLock(Path(path).with_name(Path(path).name + ".scheduler.lock"))
