"""`csobot kpi`: Communication Consistency for an ISO week (a table, or --json)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.settings import Settings


def add_commands(sub: Any) -> None:
    p = sub.add_parser("kpi", help="Communication Consistency for an ISO week")
    p.add_argument("--week", help="ISO week like 2026-W47 (default: this week)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_cmd_kpi)


def _cmd_kpi(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_errors import UsageError
    from domain.calendar import IsoWeek
    from domain.kpi import kpi_json
    from prompts.cli_views import kpi_table
    from storage.db import Database
    from storage.kpi_store import load_week_kpi
    from storage.portfolio_store import require_organization
    from usecases.clock import PinnedClock, SystemClock

    now = (PinnedClock(settings.now) if settings.now else SystemClock()).now()
    try:
        week = IsoWeek.parse(args.week) if args.week else IsoWeek.of(now.date())
    except ValueError as err:
        raise UsageError(f"--week: {err}") from None
    db = Database(settings.database_url)
    db.migrate()
    with db.transaction() as tx:
        require_organization(tx)
        kpi = load_week_kpi(tx, week, now, evidence=args.json)  # the table shows no evidence
    if args.json:
        print(json.dumps(kpi_json(kpi), indent=2))
    else:
        print(kpi_table(kpi))
    return 0
