"""`csobot health import`, `csobot expansion`, `csobot renewals`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

from bot.cli import UsageError
from bot.settings import Settings
from domain.expansion import PIPELINE_TARGET, pipeline_share
from domain.health import HealthModelError
from domain.health_inputs import USAGE_CSV_HELP
from domain.renewals import FORECAST_RULE, parse_quarter, quarter_of
from prompts.cli_views import expansion_table, renewals_table
from prompts.render import plural
from prompts.tables import wrap
from storage.db import Database
from storage.expansion_store import expansion_rows
from storage.portfolio_store import require_organization
from usecases import health_actions as health


def _now(settings: Settings) -> datetime:
    from usecases.clock import PinnedClock, SystemClock

    return (PinnedClock(settings.now) if settings.now else SystemClock()).now()


def _db(settings: Settings) -> Database:
    """The migrated database, once a portfolio was imported (NoOrganization before that)."""
    db = Database(settings.database_url)
    db.migrate()
    with db.session() as session:
        require_organization(session)
    return db


def _quarter(text: str, today: date) -> tuple[date, date]:
    try:
        return parse_quarter(text, today)
    except ValueError as err:
        raise UsageError(f"--quarter: {err}") from None


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{value:.1%}"


# -- health import ---------------------------------------------------------------------------------


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a UTF-8 text file") from None
    db = _db(settings)
    now = _now(settings)
    with db.transaction() as tx:
        try:
            result, errors = health.import_usage_csv(tx, text, source=path.name, now=now)
        except HealthModelError as err:
            raise UsageError(f"the health model in the settings is not valid: {err}") from None
    for problem in errors:
        print(f"{path.name}: {problem}", file=sys.stderr)
    print(
        wrap(
            f"Imported {path.name}: {plural(result.readings, 'row')} kept for "
            f"{plural(len(result.clients), 'client')}, "
            f"{plural(result.snapshots, 'health snapshot')} written; "
            f"{plural(len(errors), 'bad row')} skipped."
        )
    )
    return 1 if errors else 0


def cmd_expansion(args: argparse.Namespace, settings: Settings) -> int:
    db = _db(settings)
    with db.transaction() as tx:
        rows, total_arr = expansion_rows(tx, _now(settings))
    pipeline = sum(r.estimated_value for r in rows if r.in_pipeline)
    share = pipeline_share(pipeline, total_arr)
    if args.json:
        print(
            json.dumps(
                {
                    "clients": [asdict(r) for r in rows],
                    "pipeline": pipeline,
                    "portfolio_arr": total_arr,
                    "share": share.model_dump(),
                },
                indent=2,
            )
        )
        return 0
    print(expansion_table(rows))
    low, high = PIPELINE_TARGET
    print(
        wrap(
            f"\nPipeline {pipeline:,.0f} of portfolio ARR {total_arr:,.0f} = {_pct(share.share)} "
            f"(target {low:.0%}–{high:.0%}: {share.status})"
        )
    )
    return 0


# -- renewals --------------------------------------------------------------------------------------


def cmd_renewals(args: argparse.Namespace, settings: Settings) -> int:
    now = _now(settings)
    start, end = _quarter(args.quarter or quarter_of(now.date()), now.date())
    db = _db(settings)
    with db.transaction() as tx:
        rows = health.renewal_rows(tx, start, end, now)
    totals: dict[str, float] = {"likely": 0.0, "at risk": 0.0, "churn": 0.0}
    for r in rows:
        totals[r["call"]] += r["arr"]
    quarter = quarter_of(start)
    if args.json:
        print(json.dumps({"quarter": quarter, "renewals": rows, "totals": totals}, indent=2))
        return 0
    print(f"Renewal forecast {quarter} ({start} – {end})")
    print(renewals_table(rows))
    total = sum(totals.values())
    print(
        f"\nTotal {total:,.0f}: likely {totals['likely']:,.0f} · at risk "
        f"{totals['at risk']:,.0f} · churn {totals['churn']:,.0f}"
    )
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "health",
        help="import product-usage signals from a CSV",
        description=USAGE_CSV_HELP,
        formatter_class=raw,
    )
    hsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    hi = hsub.add_parser(
        "import", help="import usage.csv", description=USAGE_CSV_HELP, formatter_class=raw
    )
    hi.add_argument("file")
    p.set_defaults(handler=cmd_health)

    p = sub.add_parser(
        "expansion",
        help="expansion pipeline: scored clients, estimated value, share of ARR",
        description="Expansion signals (+3 seats > 80% active, +3 new department interest, "
        "+2 premium feature requests, +2 executive engagement rising, +2 renewal "
        "within 90 days). Estimated value = ARR × 2.5% × points. Pipeline share = pipeline / "
        "portfolio ARR, target 15–20%. Guardrail: a client not Green for 60 days is held out.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_expansion)

    p = sub.add_parser(
        "renewals",
        help="renewal forecast for a quarter",
        description=FORECAST_RULE,
        formatter_class=raw,
    )
    p.add_argument("--quarter", help="like 2027Q1 (default: this quarter)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_renewals)
