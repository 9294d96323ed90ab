"""`csobot cadence show [--portfolio FILE]`: the cadence catalogue with the overrides."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli_errors import UsageError
from bot.settings import Settings


def _cmd_cadence(args: argparse.Namespace, settings: Settings) -> int:
    from domain.cadence import CadenceError, effective_catalogue
    from domain.portfolio import PortfolioError, parse_portfolio
    from prompts.cli_views import catalogue_json, catalogue_table
    from prompts.render import render
    from storage.db import Database
    from storage.org_settings_store import org_settings
    from storage.portfolio_store import NoOrganization, require_organization

    if args.portfolio:
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
        imported = True
        with db.session() as tx:
            try:
                require_organization(tx)
                overrides = org_settings(tx).cadences
            except NoOrganization:
                overrides, imported = None, False
        source = "the imported portfolio"
        if not imported and not args.json:
            print(render("cli/default_cadences.j2") + "\n")
    try:
        catalogue = effective_catalogue(overrides)
    except CadenceError as err:
        print(f"csobot: the cadence overrides in {source} are not valid:", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(catalogue_json(catalogue), indent=2, ensure_ascii=False))
        return 0
    print(catalogue_table(catalogue))
    if overrides:
        print(f"\nOverrides from {source}: {', '.join(sorted(_ids(overrides)))}")
    return 0


def _ids(overrides: Any) -> list[str]:
    if isinstance(overrides, dict):
        return [str(k) for k in overrides]
    return [str(e.get("id")) for e in overrides if isinstance(e, dict)]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("cadence", help="the cadence catalogue")
    p.add_argument("action", choices=["show"])
    p.add_argument("--portfolio", help="preview the overrides of a portfolio file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_cmd_cadence)
