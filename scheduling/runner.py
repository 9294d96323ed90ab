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

import logging
from datetime import UTC, datetime

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from slack_sdk import WebClient

from scheduling.engine import Jobs, tick
from storage import status as service_status
from storage.scheduler_lock import SchedulerLock, make_lock
from usecases.deps import Deps

logger = logging.getLogger(__name__)

JOB_ID = "csobot-tick"
LOCK_JOB_ID = "csobot-scheduler-lock"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 50}
LOCK_RETRY_SECONDS = 5  # a standby process tries to take over this often

__all__ = ["SchedulerLock", "Ticker", "make_lock", "run_blocking", "run_tick", "start_background"]


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
