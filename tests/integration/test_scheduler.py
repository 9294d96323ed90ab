"""`csobot serve` ticks every minute with APScheduler; CSOBOT_SCHEDULER=false turns it off."""

from __future__ import annotations

from datetime import datetime

from bot.deps import Deps
from scheduling.runner import JOB_ID, start_background
from tests.conftest import NY, BotHarness


def test_the_serve_hook_starts_a_coalescing_tick_job_that_sends(bot: BotHarness) -> None:
    bot.clock.set(datetime(2026, 11, 20, 15, 1, tzinfo=NY))
    settings = bot.deps.settings.model_copy(update={"run_scheduler": True})
    deps = Deps(settings=settings, db=bot.db, clock=bot.clock, extras=bot.deps.extras)
    scheduler = start_background(deps)
    assert scheduler is not None
    try:
        job = scheduler.get_job(JOB_ID)
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 50
        [dm] = bot.emulator.wait_for("chat.postMessage", timeout=10)
        assert dm["channel"] == "U0CSO1"
    finally:
        scheduler.shutdown(wait=True)


def test_no_scheduler_when_it_is_switched_off(bot: BotHarness) -> None:
    assert bot.deps.settings.run_scheduler is False
    assert start_background(bot.deps) is None
