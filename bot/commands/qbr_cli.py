"""`csobot qbr|ebr|audit|report SLUG --format md|html`: the QBR, the EBR, the monthly Value
Realization Audit and the weekly Client Health Report, drafted from the record
(docs/process.md, "QBR/EBR and the Value Realization Audit", "Client Health Report")."""

from __future__ import annotations

import argparse
import calendar
import re
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.cli import UsageError
from bot.settings import Settings

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _now(settings: Settings) -> datetime:
    from usecases.clock import PinnedClock, SystemClock

    return (PinnedClock(settings.now) if settings.now else SystemClock()).now()


def _quarter(text: str | None, today: date) -> tuple[date, date]:
    from domain.renewals import parse_quarter, quarter_of

    try:
        return parse_quarter(text or quarter_of(today), today)
    except ValueError as err:
        raise UsageError(f"--quarter: {err}") from None


def _month(text: str | None, today: date) -> tuple[date, date]:
    if text is None:
        year, month = today.year, today.month
    else:
        m = _MONTH.match(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise UsageError(f'--month: "{text}" is not a month; write it like 2026-11')
        year, month = int(m.group(1)), int(m.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _write(document: str, output: str | None) -> None:
    if output:
        Path(output).write_text(document, encoding="utf-8")
        print(f"Wrote {output}")
    else:
        sys.stdout.write(document)


def cmd_document(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import make_llm
    from domain.calendar import IsoWeek
    from domain.commands import CLI_CLIENT_LIST, unknown_client_message
    from storage.db import Database
    from storage.portfolio_store import active_clients, client_by_slug, require_organization
    from usecases import qbr_actions, report_actions

    now = _now(settings)
    today = now.date()
    db = Database(settings.database_url)
    db.migrate()
    llm = make_llm(settings) if getattr(args, "narrative", False) else None
    if getattr(args, "narrative", False) and llm is None:
        raise UsageError("--narrative needs a model: set OPENAI_API_KEY or OPENAI_BASE_URL")
    with db.transaction() as tx:
        require_organization(tx)
        client = client_by_slug(tx, args.client)
        if client is None:
            known = [c.slug for c in active_clients(tx)]
            raise UsageError(unknown_client_message(args.client, known, CLI_CLIENT_LIST))
        if args.kind == "qbr":
            start, end = _quarter(args.quarter, today)
            doc = qbr_actions.qbr_document(tx, client, start, end, args.format, now, llm)
        elif args.kind == "ebr":
            start, end = _quarter(args.quarter, today)
            doc = qbr_actions.ebr_document(tx, client, start, end, args.format, now, llm)
        elif args.kind == "audit":
            start, end = _month(args.month, today)
            doc = qbr_actions.audit_document(tx, client, start, end, args.format, now)
        else:
            try:
                week = IsoWeek.parse(args.week) if args.week else IsoWeek.of(today)
            except ValueError as err:
                raise UsageError(f"--week: {err}") from None
            doc = report_actions.export(tx, client, week, now, args.format)
    _write(doc, args.output)
    return 0


def add_commands(sub: Any) -> None:
    helps = {
        "qbr": "a client's Quarterly Business Review, drafted from the record",
        "ebr": "a client's Executive Business Review: the QBR with long-term ROI and the roadmap",
        "audit": "a client's monthly Value Realization Audit: outputs marked outcome/feature",
        "report": "a client's weekly Client Health Report (export)",
    }
    for kind, text in helps.items():
        p = sub.add_parser(kind, help=text, description=text)
        p.add_argument("client", help="client slug")
        if kind in ("qbr", "ebr"):
            p.add_argument("--quarter", help="like 2026Q4 (default: this quarter)")
            p.add_argument(
                "--narrative", action="store_true", help="add the model's grounded summary"
            )
        elif kind == "audit":
            p.add_argument("--month", help="like 2026-11 (default: this month)")
        else:
            p.add_argument("--week", help="like 2026-W47 (default: this week)")
        p.add_argument("--format", choices=["md", "html"], default="md")
        p.add_argument("--output", help="write to this file instead of stdout")
        p.set_defaults(handler=cmd_document, kind=kind)
