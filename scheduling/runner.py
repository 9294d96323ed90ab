"""Running the tick every minute with APScheduler 3: in `csobot serve`, or alone
(`csobot scheduler`, the Procfile's `worker`).

Jobs are defined here in code; the engine's state lives only in our own tables (the outbox),
never in an APScheduler job store: APScheduler 3 cannot share a job store between processes
and its SQLAlchemy store unpickles rows. Several processes ticking at once is safe because the
outbox sends each nudge once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from slack_sdk import WebClient

from bot.deps import Deps
from scheduling.engine import tick

logger = logging.getLogger(__name__)

JOB_ID = "csobot-tick"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 50}


def run_tick(deps: Deps, client: WebClient) -> None:
    """One tick at the clock's now; never raises (a bad minute must not stop the next)."""
    now = deps.clock.now()
    try:
        report = tick(deps, client, now)
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


def add_tick_job(scheduler: BaseScheduler, deps: Deps, client: WebClient) -> None:
    """A tick at the start of every minute, and one right away (catch up after a restart)."""
    scheduler.add_job(
        run_tick,
        "cron",
        second=0,
        args=[deps, client],
        id=JOB_ID,
        replace_existing=True,
        next_run_time=datetime.now(UTC),
    )


def _client(deps: Deps) -> WebClient:
    from bot.app import make_web_client

    existing = deps.extras.get("web_client")
    return existing if isinstance(existing, WebClient) else make_web_client(deps)


def start_background(deps: Deps, app: Any = None) -> BackgroundScheduler | None:
    """The `on_serve` hook: tick every minute next to the HTTP server."""
    if not deps.settings.run_scheduler:
        logger.info("scheduler off (CSOBOT_SCHEDULER=false): no nudges from this process")
        return None
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS, daemon=True)
    add_tick_job(scheduler, deps, _client(deps))
    scheduler.start()
    deps.extras["scheduler"] = scheduler
    logger.info("scheduler running: a tick every minute")
    return scheduler


def run_blocking(deps: Deps) -> None:
    """`csobot scheduler`: only the tick loop, no HTTP."""
    scheduler = BlockingScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS)
    add_tick_job(scheduler, deps, _client(deps))
    logger.info("csobot scheduler: a tick every minute (no HTTP)")
    scheduler.start()
