"""`csobot serve` ticks every minute with APScheduler; CSOBOT_SCHEDULER=false turns it off;
only the process holding the scheduler lock ticks."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from datetime import datetime

import pytest

from bot.runtime import start_scheduler
from scheduling.runner import JOB_ID, make_lock, run_tick
from tests.conftest import NY, BotHarness


def test_the_serve_hook_starts_a_coalescing_tick_job_that_sends(bot: BotHarness) -> None:
    bot.clock.set(datetime(2026, 11, 20, 15, 1, tzinfo=NY))
    service = replace(bot.service, settings=bot.settings.model_copy(update={"run_scheduler": True}))
    scheduler = start_scheduler(service)
    assert scheduler is not None and service.scheduler is scheduler
    try:
        job = scheduler.get_job(JOB_ID)
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 50
        [dm] = bot.emulator.wait_for("chat.postMessage", timeout=10)
        assert dm["channel"] == "U0CSO1"
    finally:
        scheduler.shutdown(wait=True)


def test_no_scheduler_when_it_is_switched_off(bot: BotHarness) -> None:
    assert bot.settings.run_scheduler is False
    assert start_scheduler(bot.service) is None
    assert bot.service.scheduler is None


def test_one_process_holds_the_scheduler_lock_and_another_takes_over(db_url: str) -> None:
    first, second = make_lock(db_url), make_lock(db_url)
    try:
        assert first.ensure() is True
        assert second.ensure() is False  # stands by
        assert f"pid {os.getpid()}" in str(second.holder())
        assert first.ensure() is True  # still held, checked again
        first.release()  # the holder stops (a dead process loses its connection or fd)
        assert second.ensure() is True
        assert first.ensure() is False
    finally:
        first.release()
        second.release()


def test_a_standby_process_does_not_tick(bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    bot.clock.set(datetime(2026, 11, 20, 15, 1, tzinfo=NY))
    holder, standby = (
        make_lock(bot.settings.database_url),
        make_lock(bot.settings.database_url),
    )
    web = bot.web
    try:
        assert holder.ensure()
        with caplog.at_level(logging.INFO, logger="storage.scheduler_lock"):
            run_tick(bot.deps, web, bot.jobs, standby)
            run_tick(bot.deps, web, bot.jobs, standby)
        assert bot.emulator.calls("chat.postMessage") == []
        stands_by = [r for r in caplog.records if "stands by" in r.getMessage()]
        assert len(stands_by) == 1  # said once, not every minute
        holder.release()
        run_tick(bot.deps, web, bot.jobs, standby)  # the holder is gone: this one ticks
        [dm] = bot.emulator.wait_for("chat.postMessage")
        assert dm["channel"] == "U0CSO1"
    finally:
        holder.release()
        standby.release()
