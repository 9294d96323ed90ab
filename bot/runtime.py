"""Build the process's single instances from settings (the composition root)."""

from __future__ import annotations

from bot.clock import Clock, PinnedClock, SystemClock
from bot.deps import Deps
from bot.settings import Settings
from storage.db import Database


def build_deps(settings: Settings, *, clock: Clock | None = None, migrate: bool = True) -> Deps:
    db = Database(settings.database_url)
    if migrate:
        db.migrate()
    if clock is None:
        clock = PinnedClock(settings.now) if settings.now else SystemClock()
    return Deps(settings=settings, db=db, clock=clock)
