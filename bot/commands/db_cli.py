"""`csobot db upgrade`: bring the database schema up to date."""

from __future__ import annotations

import argparse
from typing import Any

from bot.settings import Settings


def _cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import Database

    Database(settings.database_url).migrate()
    print("Database schema is up to date.")
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("db", help="database maintenance")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(handler=_cmd_db)
