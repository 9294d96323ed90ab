"""`csobot health import`, `csobot expansion`, `csobot renewals`, `csobot qbr`, `csobot metrics`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import UsageError
from bot.settings import Settings
from domain import metrics as m
from domain.expansion import (
    PIPELINE_TARGET,
    pipeline_share,
)
from domain.health import Band, HealthModelError
from domain.health_inputs import USAGE_CSV_HELP, parse_usage_csv
from domain.renewals import (
    FORECAST_RULE,
    RENEWED_OUTCOMES,
    Outcome,
    forecast_call,
    parse_quarter,
    quarter_of,
    renewal_stage,
)
from storage.board import client_days, org_model
from storage.db import Database
from storage.expansion import expansion_rows
from storage.health import (
    count_open_flags,
    effective_contract_end,
    import_usage,
    latest_snapshots,
    nps_answers,
    outcomes_between,
    outcomes_by_client,
    qbrs_for,
)
from storage.models import Client as ClientRow
from storage.portfolio import (
    active_clients,
    client_by_slug,
    client_record,
    organization,
    require_organization,
)

DEPARTMENT_WORDS = ("department", "another team", "other team", "new team", "division")
PREMIUM_WORDS = ("premium", "upgrade", "enterprise tier", "add-on", "addon")


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
    with db.transaction() as session:
        try:
            model = org_model(session)
        except HealthModelError as err:
            raise UsageError(f"the health model in the settings is not valid: {err}") from None
        slugs = [c.slug for c in active_clients(session)]
        parsed = parse_usage_csv(text, slugs, model, today=now.date() + timedelta(days=1))
        result = import_usage(session, parsed.rows, model, source=path.name, now=now)
    for problem in parsed.errors:
        print(f"{path.name}: {problem}", file=sys.stderr)
    print(
        f"Imported {path.name}: {result.readings} row(s) kept for {len(result.clients)} "
        f"client(s), {result.snapshots} health snapshot(s) written; "
        f"{len(parsed.errors)} bad row(s) skipped."
    )
    return 1 if parsed.errors else 0


def cmd_expansion(args: argparse.Namespace, settings: Settings) -> int:
    db = _db(settings)
    with db.session() as session:
        rows, total_arr = expansion_rows(session, _now(settings))
    pipeline = sum(r["estimated_value"] for r in rows if r["in_pipeline"])
    share = pipeline_share(pipeline, total_arr)
    if args.json:
        print(
            json.dumps(
                {
                    "clients": rows,
                    "pipeline": pipeline,
                    "portfolio_arr": total_arr,
                    "share": share.model_dump(),
                },
                indent=2,
            )
        )
        return 0
    print(f"{'Client':<22} {'Pts':>3} {'Est. value':>12}  Signals / guardrail")
    for r in rows:
        if r["points"] == 0:
            note = "no expansion signal"
        elif not r["allowed"]:
            note = "held: not Green for 60 days (no expansion prompt)"
        else:
            note = "; ".join(f"{a} → {b}" for a, b in zip(r["reasons"], r["actions"], strict=True))
        value = f"{r['estimated_value']:,.0f}" if r["in_pipeline"] else "-"
        print(f"{r['name'][:22]:<22} {r['points']:>3} {value:>12}  {note}")
    low, high = PIPELINE_TARGET
    print(
        f"\nPipeline {pipeline:,.0f} of portfolio ARR {total_arr:,.0f} = {_pct(share.share)} "
        f"(target {low:.0%}–{high:.0%}: {share.status})"
    )
    return 0


# -- renewals --------------------------------------------------------------------------------------


def renewal_rows(session: Session, start: date, end: date, now: datetime) -> list[dict[str, Any]]:
    clients = [
        client_record(c) for c in session.scalars(select(ClientRow).order_by(ClientRow.slug))
    ]
    ids = [c.id for c in clients]
    today = client_days(session, clients, now)
    latest = latest_snapshots(session, ids)
    flags = count_open_flags(session, ids)
    outcomes = outcomes_by_client(session, ids)
    rows = []
    for c in clients:
        mine = outcomes.get(c.id, {})
        # the contracts of this client that end in the quarter: recorded ones and the open one
        ends = {e for e in mine if start <= e <= end}
        open_end, _ = effective_contract_end(c, mine)
        if open_end is not None and start <= open_end <= end and c.active:
            ends.add(open_end)
        snap = latest.get(c.id)
        band = Band(snap.band) if snap else None
        for contract_end in sorted(ends):
            outcome = mine.get(contract_end)
            left = (contract_end - today[c.id]).days
            stage = renewal_stage(contract_end, today[c.id])
            call = forecast_call(
                Band(outcome.band_at_renewal) if outcome and outcome.band_at_renewal else band,
                left,
                outcome.outcome if outcome else None,
                flags.get(c.id, 0),
            )
            rows.append(
                {
                    "slug": c.slug,
                    "name": c.name,
                    "contract_end": contract_end.isoformat(),
                    "days_left": left,
                    "arr": outcome.arr_before if outcome else c.arr,
                    "band": band.value if band else None,
                    "stage": (
                        f"{outcome.outcome}"
                        if outcome
                        else stage.title
                        if stage
                        else "overdue"
                        if left < 0
                        else "not started (>120 days)"
                    ),
                    "call": call,
                }
            )
    return rows


def cmd_renewals(args: argparse.Namespace, settings: Settings) -> int:
    now = _now(settings)
    start, end = _quarter(args.quarter or quarter_of(now.date()), now.date())
    db = _db(settings)
    with db.session() as session:
        rows = renewal_rows(session, start, end, now)
    totals: dict[str, float] = {"likely": 0.0, "at risk": 0.0, "churn": 0.0}
    for r in rows:
        totals[r["call"]] += r["arr"]
    quarter = quarter_of(start)
    if args.json:
        print(json.dumps({"quarter": quarter, "renewals": rows, "totals": totals}, indent=2))
        return 0
    print(f"Renewal forecast {quarter} ({start} – {end})")
    print(f"{'Client':<22} {'Ends':<10} {'ARR':>10} {'Band':<7} {'Stage':<24} Call")
    for r in rows:
        print(
            f"{r['name'][:22]:<22} {r['contract_end']:<10} {r['arr']:>10,.0f} "
            f"{(r['band'] or '-'):<7} {r['stage'][:24]:<24} {r['call']}"
        )
    if not rows:
        print("  (no contract ends in this quarter)")
    total = sum(totals.values())
    print(
        f"\nTotal {total:,.0f}: likely {totals['likely']:,.0f} · at risk "
        f"{totals['at risk']:,.0f} · churn {totals['churn']:,.0f}"
    )
    return 0


# -- qbr -------------------------------------------------------------------------------------------


def cmd_qbr(args: argparse.Namespace, settings: Settings) -> int:
    from storage.qbr import render_qbr

    now = _now(settings)
    start, end = _quarter(args.quarter or quarter_of(now.date()), now.date())
    db = _db(settings)
    with db.session() as session:
        client = client_by_slug(session, args.client)
        if client is None:
            from domain.commands import unknown_client_message

            known = [c.slug for c in active_clients(session)]
            raise UsageError(unknown_client_message(args.client, known))
        document = render_qbr(session, client, start, end, now=now, fmt=args.format)
    if args.output:
        Path(args.output).write_text(document, encoding="utf-8")
        print(f"Wrote {args.output}")
    else:
        sys.stdout.write(document)
    return 0


# -- metrics ---------------------------------------------------------------------------------------


def portfolio_metrics(session: Session, start: date, end: date) -> dict[str, Any]:
    records = [
        m.RenewalRecord(
            client=str(r.client_id),
            arr_before=r.arr_before,
            arr_after=r.arr_after if Outcome(r.outcome) in RENEWED_OUTCOMES else 0,
            outcome=Outcome(r.outcome),
            band_at_renewal=Band(r.band_at_renewal) if r.band_at_renewal else None,
        )
        for r in outcomes_between(session, start, end)
    ]
    t0 = datetime.combine(start, time(0), tzinfo=UTC)
    t1 = datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC)
    quarter = quarter_of(start)
    threshold = float((organization(session).settings or {}).get("qbr_arr_threshold", 0))
    clients = active_clients(session)
    delivered = qbrs_for(session, quarter)
    qbrs = [
        m.QbrRecord(
            client=c.slug,
            quarter=quarter,
            delivered=c.id in delivered and delivered[c.id].delivered_at is not None,
        )
        for c in clients
        if c.arr >= threshold
    ]
    managed = sum(c.arr for c in clients)
    values = {
        "grr": m.grr(records),
        "nrr": m.nrr(records),
        "logo_retention": m.logo_retention(records),
        "health_score_accuracy": m.health_score_accuracy(records),
        "qbr_completion": m.qbr_completion(qbrs),
        "nps": m.nps(nps_answers(session, t0, t1)),
        "expansion_share": m.expansion_share(m.renewal_expansion_arr(records), managed),
    }
    return {
        "quarter": quarter,
        "renewals": len(records),
        "managed_arr": managed,
        "metrics": {
            name: {"value": value, "target": m.TARGETS[name], "formula": m.formula(m.METRICS[name])}
            for name, value in values.items()
        },
    }


def cmd_metrics(args: argparse.Namespace, settings: Settings) -> int:
    now = _now(settings)
    start, end = _quarter(args.quarter or quarter_of(now.date()), now.date())
    db = _db(settings)
    with db.session() as session:
        report = portfolio_metrics(session, start, end)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Portfolio metrics {report['quarter']} ({report['renewals']} renewal(s) recorded)")
    for name, item in report["metrics"].items():
        value, target = item["value"], item["target"]
        shown = "no data" if value is None else f"{value:g}" if name == "nps" else f"{value:.1%}"
        goal = f"{target:g}" if name == "nps" else f"{target:.0%}"
        print(f"  {name:<22} {shown:>9}  (target {goal})")
    return 0


def _formulas() -> str:
    return (
        "formulas:\n"
        + "\n".join(f"  {name}: {m.formula(fn)}" for name, fn in m.METRICS.items())
        + (
            "\n  (renewals: outcomes recorded with /renewal for contracts ending in the quarter;"
            "\n   NPS: /nps answers in the quarter; QBRs due: active clients with ARR at or above"
            "\n   organization.settings.qbr_arr_threshold, delivered: `/qbr acme Q4 delivered`)"
        )
    )


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

    p = sub.add_parser("qbr", help="render a client's QBR for a quarter (the QBR template)")
    p.add_argument("client", help="client slug")
    p.add_argument("--quarter", help="like 2026Q4 (default: this quarter)")
    p.add_argument("--format", choices=["md", "html"], default="md")
    p.add_argument("--output", help="write to this file instead of stdout")
    p.set_defaults(handler=cmd_qbr)

    p = sub.add_parser(
        "metrics",
        help="portfolio metrics for a quarter (GRR, NRR, logo retention, ...)",
        epilog=_formulas(),
        formatter_class=raw,
    )
    p.add_argument("--quarter", help="like 2026Q4 (default: this quarter)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_metrics)
