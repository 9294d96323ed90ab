"""Build the process's single instances from settings (the composition root): the deps every
listener and job is handed, the Bolt app and inbox behind the HTTP edge, and the scheduler."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from apscheduler.schedulers.base import BaseScheduler
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.features import FEATURES, Feature, enqueuers, metric_sources
from bot.server import WsgiApp
from bot.settings import Settings
from connectors import Connectors
from handlers.inbox import SWEEP_EVERY, Inbox
from handlers.lanes import Lanes
from llm.model_client import Model, build_classifier, build_llm
from scheduling.engine import Jobs
from scheduling.runner import SchedulerLock, make_lock, start_background
from storage.db import Database
from storage.spool import Spool
from usecases.clock import Clock, PinnedClock, SystemClock
from usecases.deps import Deps

logger = logging.getLogger("csobot")


def make_web_client(settings: Settings, *, with_token: bool = True) -> WebClient:
    """slack_sdk retries only connection errors by default: add 429 and 5xx handlers."""
    return WebClient(
        token=(settings.secret("slack_bot_token") or None) if with_token else None,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def make_connectors(settings: Settings) -> Connectors | None:
    """Linear and GitHub, each when its token is set (None: neither is)."""
    linear = settings.linear_api_key.get_secret_value() if settings.linear_api_key else None
    github = settings.github_token.get_secret_value() if settings.github_token else None
    if not linear and not github:
        return None
    return Connectors.build(
        linear_key=linear,
        github_token=github,
        linear_url=settings.linear_api_url,
        github_url=settings.github_api_url,
    )


def make_llm(settings: Settings) -> Model | None:
    """The model client, when an LLM is configured (OPENAI_API_KEY or OPENAI_BASE_URL)."""
    if not settings.llm_enabled:
        return None
    return build_llm(
        api_key=settings.secret("openai_api_key") or None,
        base_url=settings.openai_base_url,
        model=settings.model,
        timeout=settings.llm_timeout,
    )


def build_deps(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    migrate: bool = True,
) -> Deps:
    if db is None:
        db = Database(settings.database_url)
    if migrate:
        db.migrate()
    if clock is None:
        clock = PinnedClock(settings.now) if settings.now else SystemClock()
    llm = make_llm(settings)
    return Deps(
        connectors=make_connectors(settings),
        db=db,
        clock=clock,
        slack=make_web_client(settings),
        llm=llm,
        classifier=build_classifier(llm),
        metric_sources=metric_sources(),
    )


@dataclass
class Service:
    """The bot as Slack sees it: the Bolt app, the inbox that keeps and runs its work, and the
    HTTP edge in front of both; with what runs next to them (the scheduler)."""

    deps: Deps
    settings: Settings
    app: App
    inbox: Inbox
    wsgi: WsgiApp
    jobs: Jobs = ()
    # What `csobot serve` starts once the schema is ready (the scheduler, by default).
    on_serve: list[Callable[[Service], None]] = field(default_factory=list)
    lock: SchedulerLock | None = None
    scheduler: BaseScheduler | None = None


def build_service(
    deps: Deps,
    settings: Settings,
    *,
    features: Sequence[Feature] = FEATURES,
    token_verification: bool = True,
    lanes: Lanes | None = None,
    sweep_every: float = SWEEP_EVERY,
) -> Service:
    from bot.app import create_app

    app = create_app(deps, settings, features, token_verification=token_verification)
    inbox = Inbox(
        app,
        deps,
        spool=Spool(settings.spool_dir),
        lanes=lanes,
        sweep_every=sweep_every,
    )
    wsgi = WsgiApp(inbox, settings.secret("slack_signing_secret"))
    return Service(
        deps=deps,
        settings=settings,
        app=app,
        inbox=inbox,
        wsgi=wsgi,
        jobs=enqueuers(features),
    )


def slack_of(deps: Deps, settings: Settings) -> WebClient:
    if deps.slack is None:
        deps.slack = make_web_client(settings)
    return deps.slack


def start_scheduler(service: Service) -> BaseScheduler | None:
    """The default `on_serve` hook: tick every minute next to the HTTP server (when this
    process holds the scheduler lock)."""
    if not service.settings.run_scheduler:
        logger.info("scheduler off (CSOBOT_SCHEDULER=false): no nudges from this process")
        return None
    if service.lock is None:
        service.lock = make_lock(service.settings.database_url)
    service.scheduler = start_background(
        service.deps, slack_of(service.deps, service.settings), service.jobs, service.lock
    )
    return service.scheduler
