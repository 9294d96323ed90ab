"""Build the process's single instances from settings (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import App

from bot.server import WsgiApp
from bot.settings import Settings
from handlers.inbox import SWEEP_EVERY, Inbox
from handlers.lanes import Lanes
from storage.db import Database
from storage.spool import Spool
from usecases.clock import Clock, PinnedClock, SystemClock
from usecases.deps import Deps


def build_deps(settings: Settings, *, clock: Clock | None = None, migrate: bool = True) -> Deps:
    db = Database(settings.database_url)
    if migrate:
        db.migrate()
    if clock is None:
        clock = PinnedClock(settings.now) if settings.now else SystemClock()
    return Deps(settings=settings, db=db, clock=clock)


@dataclass
class Service:
    """The bot as Slack sees it: the Bolt app, the inbox that keeps and runs its work, and the
    HTTP edge in front of both."""

    deps: Deps
    app: App
    inbox: Inbox
    wsgi: WsgiApp


def build_service(
    deps: Deps,
    *,
    token_verification: bool = True,
    lanes: Lanes | None = None,
    sweep_every: float = SWEEP_EVERY,
) -> Service:
    from bot.app import create_app

    app = create_app(deps, token_verification=token_verification)
    inbox = Inbox(
        app,
        deps,
        spool=Spool(deps.settings.spool_dir),
        lanes=lanes,
        sweep_every=sweep_every,
    )
    wsgi = WsgiApp(inbox, deps.settings.secret("slack_signing_secret"))
    return Service(deps=deps, app=app, inbox=inbox, wsgi=wsgi)
