"""`csobot onboarding plans` (the effective plans) and `csobot closeout report CLIENT`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from bot.cli_errors import UsageError
from bot.settings import Settings


def _now(settings: Settings) -> datetime:
    from usecases.clock import PinnedClock, SystemClock

    return (PinnedClock(settings.now) if settings.now else SystemClock()).now()


def _cmd_plans(args: argparse.Namespace, settings: Settings) -> int:
    from prompts.cli_views import plans_text
    from storage.db import Database
    from storage.portfolio_store import require_organization
    from usecases.lifecycle_actions import catalogue

    db = Database(settings.database_url)
    db.migrate()
    with db.session() as tx:
        require_organization(tx)
        cat = catalogue(tx)
    if args.json:
        print(json.dumps(cat.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        print(plans_text(cat))
    return 0


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from domain.commands import CLI_CLIENT_LIST, unknown_client_message
    from storage.db import Database
    from storage.portfolio_store import active_clients, client_by_slug, require_organization
    from usecases.lifecycle_actions import impact_report

    db = Database(settings.database_url)
    db.migrate()
    with db.session() as tx:
        require_organization(tx)
        client = client_by_slug(tx, args.client)
        if client is None:
            known = [c.slug for c in active_clients(tx)]
            raise UsageError(unknown_client_message(args.client, known, CLI_CLIENT_LIST))
        print(impact_report(tx, client, _now(settings), args.format))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("onboarding", help="the onboarding plans by segment")
    psub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    plans = psub.add_parser("plans", help="print the effective plans and rules")
    plans.add_argument("--json", action="store_true", help="machine-readable output")
    plans.set_defaults(handler=_cmd_plans)
    c = sub.add_parser("closeout", help="the project close-out")
    csub = c.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = csub.add_parser("report", help="draft a client's final impact report")
    report.add_argument("client")
    report.add_argument("--format", choices=("md", "html"), default="md")
    report.set_defaults(handler=_cmd_report)
