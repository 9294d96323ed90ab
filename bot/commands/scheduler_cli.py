"""`csobot tick [--now ISO]` and `csobot scheduler`: the tick once, or every minute."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli_errors import parse_when
from bot.settings import ConfigError, Settings


def _cmd_tick(args: argparse.Namespace, settings: Settings) -> int:
    from bot.features import enqueuers
    from bot.runtime import build_deps, slack_of
    from prompts.cli_views import tick_text
    from scheduling.engine import tick
    from storage.portfolio_store import people_by_id, require_organization
    from usecases.clock import FixedClock

    settings.require("SLACK_BOT_TOKEN")
    now = parse_when(args.now) if args.now else None
    deps = build_deps(settings, clock=FixedClock(now) if now else None)
    with deps.db.session() as tx:
        require_organization(tx)
    at = deps.clock.now()
    report = tick(deps, slack_of(deps, settings), at, enqueuers())
    with deps.db.session() as tx:
        names = {p.slack_id: p.name for p in people_by_id(tx).values()}
    print(
        tick_text(
            at,
            sum(report.enqueued.values()),
            report.deliveries,
            report.waiting,
            report.waits,
            names,
        )
    )
    for name, error in report.errors.items():
        print(f"  enqueuer {name} failed: {error}", file=sys.stderr)
    return 1 if report.errors else 0


def _cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from bot.features import enqueuers
    from bot.heap import settle_heap
    from bot.logs import configure_logging
    from bot.runtime import build_deps, slack_of
    from scheduling.runner import make_lock, run_blocking

    settings.require("SLACK_BOT_TOKEN")
    configure_logging(
        settings.log_level, [settings.secret("slack_bot_token")], fmt=settings.log_format
    )
    # Never migrates (`csobot db upgrade` is the release step): a stale schema stops the start.
    deps = build_deps(settings, migrate=False)
    problem = deps.db.schema_state().problem()
    if problem is not None:
        raise ConfigError(problem)
    slack = slack_of(deps, settings)
    settle_heap()  # what the loop keeps is built: out of the collector's way (bot/heap.py)
    run_blocking(deps, slack, enqueuers(), make_lock(settings.database_url))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("tick", help="send everything due now (or at --now), exactly once")
    p.add_argument("--now", help="ISO datetime with offset, e.g. 2026-11-20T15:05:00-05:00")
    p.set_defaults(handler=_cmd_tick)

    p = sub.add_parser("scheduler", help="run only the scheduler loop (a tick every minute)")
    p.set_defaults(handler=_cmd_scheduler)
