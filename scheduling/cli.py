"""`csobot cadence show`, `csobot tick [--now ISO]` and `csobot scheduler`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.settings import Settings


def _cmd_cadence(args: argparse.Namespace, settings: Settings) -> int:
    from domain.cadence import CadenceError, effective_catalogue, format_catalogue
    from domain.portfolio import PortfolioError, parse_portfolio
    from prompts.render import render
    from storage.db import Database
    from storage.models import Organization

    if args.portfolio:
        from pathlib import Path

        from bot.cli import UsageError

        try:
            text = Path(args.portfolio).read_text(encoding="utf-8")
            overrides = parse_portfolio(text).organization.settings.get("cadences")
        except OSError as exc:
            raise UsageError(f"cannot read {args.portfolio}: {exc.strerror}") from None
        except PortfolioError as err:
            raise UsageError(f"{args.portfolio}: {err.problems[0]}") from None
        source = args.portfolio
    else:
        db = Database(settings.database_url)
        db.migrate()
        with db.session() as session:
            org = session.get(Organization, 1)
            overrides = ((org.settings if org else None) or {}).get("cadences")
        source = "the imported portfolio"
        if org is None:
            print(render("cli/default_cadences.j2") + "\n")
    try:
        catalogue = effective_catalogue(overrides)
    except CadenceError as err:
        print(f"csobot: the cadence overrides in {source} are not valid:", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(format_catalogue(catalogue))
    if overrides:
        print(f"\nOverrides from {source}: {', '.join(sorted(_ids(overrides)))}")
    return 0


def _ids(overrides: Any) -> list[str]:
    if isinstance(overrides, dict):
        return [str(k) for k in overrides]
    return [str(e.get("id")) for e in overrides if isinstance(e, dict)]


def _cmd_tick(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import make_web_client
    from bot.cli import parse_when
    from bot.runtime import build_deps
    from scheduling.engine import tick
    from storage.portfolio import require_organization
    from usecases.clock import FixedClock

    settings.require("SLACK_BOT_TOKEN")
    now = parse_when(args.now) if args.now else None
    deps = build_deps(settings, clock=FixedClock(now) if now else None)
    with deps.db.session() as session:
        require_organization(session)
    at = deps.clock.now()
    report = tick(deps, make_web_client(deps), at)
    failed = [d for d in report.deliveries if not d.ok]
    print(
        f"tick at {at.isoformat(timespec='seconds')}: "
        f"{sum(report.enqueued.values())} new nudge(s), {report.sent} sent in "
        f"{len([d for d in report.deliveries if d.ok])} message(s)"
        + (f", {len(failed)} message(s) left pending for the next tick" if failed else "")
    )
    for delivery in report.deliveries:
        state = "sent" if delivery.ok else f"pending ({delivery.error})"
        print(f"  {delivery.target}: {len(delivery.keys)} nudge(s) {state}")
    for name, error in report.errors.items():
        print(f"  enqueuer {name} failed: {error}", file=sys.stderr)
    return 1 if report.errors else 0


def _cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from bot.logs import configure_logging
    from bot.runtime import build_deps
    from scheduling.runner import run_blocking

    settings.require("SLACK_BOT_TOKEN")
    configure_logging(settings.log_level, [settings.secret("slack_bot_token")])
    run_blocking(build_deps(settings))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("cadence", help="the cadence catalogue")
    p.add_argument("action", choices=["show"])
    p.add_argument("--portfolio", help="preview the overrides of a portfolio file")
    p.set_defaults(handler=_cmd_cadence)

    p = sub.add_parser("tick", help="send everything due now (or at --now), exactly once")
    p.add_argument("--now", help="ISO datetime with offset, e.g. 2026-11-20T15:05:00-05:00")
    p.set_defaults(handler=_cmd_tick)

    p = sub.add_parser("scheduler", help="run only the scheduler loop (a tick every minute)")
    p.set_defaults(handler=_cmd_scheduler)
