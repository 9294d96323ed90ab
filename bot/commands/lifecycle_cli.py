"""`csobot onboarding plans` (the effective plans) and `csobot closeout report CLIENT`."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from bot.cli_errors import UsageError
from bot.settings import Settings


def _now(settings: Settings) -> datetime:
    from usecases.clock import PinnedClock, SystemClock

    return (PinnedClock(settings.now) if settings.now else SystemClock()).now()


def _cmd_plans(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import Database
    from storage.portfolio_store import require_organization
    from usecases.lifecycle_actions import catalogue

    db = Database(settings.database_url)
    db.migrate()
    with db.session() as tx:
        require_organization(tx)
        cat = catalogue(tx)
    for segment, plan in cat.plans.items():
        low, high = plan.window_days
        print(f"{segment}: {plan.name} — {plan.approach} — {low}-{high} days")
        print(f"  phases: {' → '.join(plan.phases)}")
        for item in plan.items:
            mark = f" [{item.marks}]" if item.marks else ""
            print(
                f"  {item.section:<12} {item.text:<44} due {item.anchor} +{item.due} business "
                f"days · {item.owner}{mark}"
            )
    rules = cat.rules
    print(
        f"rules: kickoff within {rules.kickoff_within_business_days} business days; stall "
        f"{rules.stall_hours} h (head of delivery {rules.stall_head_hours} h) in "
        f"{', '.join(rules.stall_sections)}; renewal forecast at -{rules.renewal_forecast_days} d"
    )
    return 0


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import Database
    from storage.portfolio_store import client_by_slug, require_organization
    from usecases.lifecycle_actions import impact_report

    db = Database(settings.database_url)
    db.migrate()
    with db.session() as tx:
        require_organization(tx)
        client = client_by_slug(tx, args.client)
        if client is None:
            raise UsageError(f'unknown client "{args.client}"')
        print(impact_report(tx, client, _now(settings), args.format))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("onboarding", help="the onboarding plans by segment")
    psub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    plans = psub.add_parser("plans", help="print the effective plans and rules")
    plans.set_defaults(handler=_cmd_plans)
    c = sub.add_parser("closeout", help="the project close-out")
    csub = c.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = csub.add_parser("report", help="draft a client's final impact report")
    report.add_argument("client")
    report.add_argument("--format", choices=("md", "html"), default="md")
    report.set_defaults(handler=_cmd_report)
