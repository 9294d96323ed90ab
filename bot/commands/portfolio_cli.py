"""`csobot portfolio import FILE` and `csobot portfolio show`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli_errors import UsageError
from bot.settings import Settings


def _cmd_portfolio(args: argparse.Namespace, settings: Settings) -> int:
    from domain.portfolio import PortfolioError, parse_portfolio
    from prompts.cli_views import portfolio_json, portfolio_text
    from prompts.tables import wrap
    from storage.db import Database
    from storage.portfolio_store import active_clients, people_by_id, require_organization
    from usecases.clock import PinnedClock, SystemClock
    from usecases.lifecycle_actions import import_clients

    db = Database(settings.database_url)
    db.migrate()
    if args.action == "show":
        with db.session() as session:
            org = require_organization(session)
            people = list(people_by_id(session).values())
            clients = active_clients(session)
        if args.json:
            print(json.dumps(portfolio_json(org, people, clients), indent=2, ensure_ascii=False))
        else:
            print(portfolio_text(org, people, clients))
        return 0
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        portfolio = parse_portfolio(text)
    except PortfolioError as err:
        print(f"csobot: {path} was not imported (nothing was written):", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    with db.transaction() as session:
        now = (PinnedClock(settings.now) if settings.now else SystemClock()).now()
        result = import_clients(session, portfolio, by="portfolio", now=now)
    print(wrap(f"Imported {path}: {result.summary()}"))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("portfolio", help="import or show the portfolio")
    psub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    pi = psub.add_parser("import", help="upsert organization, people and clients from YAML")
    pi.add_argument("file")
    show = psub.add_parser("show", help="list the portfolio")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_cmd_portfolio)
