"""Running the tick every minute with APScheduler 3: in `csobot serve`, or alone
(`csobot scheduler`, the Procfile's `worker`).

Jobs are defined here in code; the engine's state lives only in our own tables (the outbox),
never in an APScheduler job store: APScheduler 3 cannot share a job store between processes
and its SQLAlchemy store unpickles rows.

One process ticks at a time, by construction: every process that would tick (`serve` with
the scheduler on, `scheduler`) competes for one lock — on PostgreSQL a session-level advisory
lock held on a dedicated connection, on SQLite an exclusive file lock next to the database
file. Whoever holds it ticks; the others stand by and try again every few seconds, so when
the holder dies (its connection or file descriptor goes with it) another takes over within
seconds. Should two ever tick at once (a network partition), the outbox still sends each
nudge once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from slack_sdk import WebClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from scheduling.engine import Jobs, tick
from storage import status as service_status
from usecases.deps import Deps

logger = logging.getLogger(__name__)

JOB_ID = "csobot-tick"
LOCK_JOB_ID = "csobot-scheduler-lock"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 50}
LOCK_RETRY_SECONDS = 5  # a standby process tries to take over this often
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


class Ticker:
    """The tick job: one tick of `jobs` at the clock's now, if this process holds the scheduler
    lock; never raises (a bad minute must not stop the next)."""

    def __init__(
        self, deps: Deps, client: WebClient, jobs: Jobs, lock: SchedulerLock | None = None
    ) -> None:
        self.deps = deps
        self.client = client
        self.jobs = jobs
        self.lock = lock
        self._revoked_said = False

    def __call__(self) -> None:
        if self.lock is not None and not self.lock.ensure():
            return
        if self._revoked():
            return
        now = self.deps.clock.now()
        try:
            report = tick(self.deps, self.client, now, self.jobs)
        except Exception:
            logger.exception("tick at %s failed; the next one will catch up", now.isoformat())
            return
        if report.enqueued or report.sent or report.errors:
            logger.info(
                "tick %s: enqueued %s, sent %d, errors %s",
                now.isoformat(timespec="minutes"),
                report.enqueued,
                report.sent,
                report.errors or "none",
            )

    def _revoked(self) -> bool:
        """Slack revoked the token or the app was uninstalled: send nothing (said once)."""
        try:
            with self.deps.db.session() as session:
                revoked = service_status.revoked(session)
        except Exception:
            return False  # the tick itself will report the database
        if revoked and not self._revoked_said:
            logger.error("not ticking: Slack says %s", revoked.get("reason", "the app lost access"))
        self._revoked_said = bool(revoked)
        return bool(revoked)


def run_tick(deps: Deps, client: WebClient, jobs: Jobs, lock: SchedulerLock | None = None) -> None:
    """One tick at the clock's now, if this process holds the scheduler lock; never raises."""
    Ticker(deps, client, jobs, lock)()


def _watch_lock(scheduler: BaseScheduler, lock: SchedulerLock) -> None:
    """A standby process tries the lock every few seconds; taking it ticks at once."""
    if lock.held:
        lock.ensure()  # notices a lost connection between ticks
        return
    if lock.ensure():
        job = scheduler.get_job(JOB_ID)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))


def add_tick_job(scheduler: BaseScheduler, ticker: Ticker) -> None:
    """A tick at the start of every minute, and one right away (catch up after a restart);
    with a lock, a job that takes over when the ticking process stops."""
    scheduler.add_job(
        ticker,
        "cron",
        second=0,
        id=JOB_ID,
        replace_existing=True,
        next_run_time=datetime.now(UTC),
    )
    if ticker.lock is not None:
        scheduler.add_job(
            _watch_lock,
            "interval",
            seconds=LOCK_RETRY_SECONDS,
            args=[scheduler, ticker.lock],
            id=LOCK_JOB_ID,
            replace_existing=True,
        )


def start_background(
    deps: Deps, client: WebClient, jobs: Jobs, lock: SchedulerLock
) -> BackgroundScheduler:
    """Tick every minute next to the HTTP server (when this process holds the scheduler
    lock)."""
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS, daemon=True)
    add_tick_job(scheduler, Ticker(deps, client, jobs, lock))
    scheduler.add_listener(lambda _event: lock.release(), EVENT_SCHEDULER_SHUTDOWN)
    scheduler.start()
    logger.info("scheduler running: a tick every minute from whichever process holds the lock")
    return scheduler


def run_blocking(deps: Deps, client: WebClient, jobs: Jobs, lock: SchedulerLock) -> None:
    """`csobot scheduler`: only the tick loop, no HTTP."""
    scheduler = BlockingScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS)
    add_tick_job(scheduler, Ticker(deps, client, jobs, lock))
    logger.info("csobot scheduler: a tick every minute from whichever process holds the lock")
    try:
        scheduler.start()
    finally:
        lock.release()
