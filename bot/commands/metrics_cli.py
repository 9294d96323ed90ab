"""`csobot metrics`: every feature's leadership figures for a quarter or a month."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.cli_errors import UsageError
from bot.settings import Settings


def _formulas_epilog() -> str:
    """Every metric source's formulas, read from the sources themselves: each is run on an
    empty scratch database (its figures say "no data" but carry their formulas), so a new
    source needs no declaration to be listed. Only for `--help`."""
    import tempfile

    from bot.features import metric_sources
    from domain.metric import quarter_containing
    from storage.db import Database
    from usecases.clock import SystemClock
    from usecases.metric_sources import formulas, formulas_of

    sources = metric_sources()
    try:
        with tempfile.TemporaryDirectory(prefix="csobot-formulas-") as scratch:
            db = Database(f"sqlite:///{scratch}/formulas.db")
            try:
                db.migrate()
                now = SystemClock().now()
                pairs = formulas_of(sources, db.transaction, quarter_containing(now.date()), now)
            finally:
                db.dispose()
    except Exception:  # no scratch database: what the sources declare
        pairs = formulas(sources)
    lines = ['formulas (a figure with nothing recorded in the period reads "no data"):']
    lines += [f"  {label}: {formula}" for label, formula in pairs]
    return "\n".join(lines)


class _HelpWithFormulas(argparse.Action):
    """`--help` that lists the formulas, worked out only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show this help and the formulas")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        parser.epilog = _formulas_epilog()
        parser.print_help()
        parser.exit()


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "metrics",
        help="leadership metrics for a quarter or a month (retention, NPS, KPIs, ...)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    p.add_argument("-h", "--help", action=_HelpWithFormulas)
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
