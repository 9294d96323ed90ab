"""`csobot metrics`: every feature's leadership figures for a quarter or a month."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.cli_errors import UsageError
from bot.settings import Settings


def _formulas_epilog() -> str:
    from bot.features import metric_sources
    from usecases.metric_sources import formulas

    lines = ['formulas (a figure with nothing recorded in the period reads "no data"):']
    lines += [f"  {label}: {formula}" for label, formula in formulas(metric_sources())]
    return "\n".join(lines)


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "metrics",
        help="leadership metrics for a quarter or a month (retention, NPS, KPIs, ...)",
        epilog=_formulas_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument("--quarter", help="like 2026Q4 (default: this quarter)")
    when.add_argument("--month", help="like 2026-11")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_metrics)


def cmd_metrics(args: argparse.Namespace, settings: Settings) -> int:
    from bot.features import metric_sources
    from domain.metric import month_period, quarter_containing, quarter_period
    from prompts.metrics_views import metrics_json, metrics_table
    from storage.db import Database
    from storage.portfolio_store import require_organization
    from usecases.clock import PinnedClock, SystemClock
    from usecases.metric_sources import collect

    now = (PinnedClock(settings.now) if settings.now else SystemClock()).now()
    try:
        if args.month:
            period = month_period(args.month)
        elif args.quarter:
            period = quarter_period(args.quarter, now.date())
        else:
            period = quarter_containing(now.date())
    except ValueError as err:
        raise UsageError(f"--{'month' if args.month else 'quarter'}: {err}") from None
    db = Database(settings.database_url)
    db.migrate()
    with db.transaction() as tx:
        require_organization(tx)
        metrics = collect(metric_sources(), tx, period, now)
    if args.json:
        print(json.dumps(metrics_json(period, metrics), indent=2, ensure_ascii=False))
    else:
        print(metrics_table(period, metrics))
    return 0
