"""`csobot db upgrade`: bring the database schema up to date — the release step.

`csobot serve` and `csobot scheduler` never migrate: several of them may start at once, so they
refuse to run on a schema that is not this release's and name this command instead.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.settings import ConfigError, Settings


def upgrade(database_url: str) -> str:
    """Migrate the database at `database_url` to this release's schema; what was done, in one
    line. ConfigError when the schema is from a newer release."""
    from storage.db import Database

    db = Database(database_url)
    try:
        before = db.schema_state()
        if before.ahead:
            raise ConfigError(str(before.problem()))
        if before.current:
            return "The database schema is already up to date; nothing to do."
        db.migrate()
    finally:
        db.dispose()
    newest = max(before.heads)
    if before.empty:
        return f"Created the database schema ({len(before.known)} migrations, newest {newest})."
    # revisions are numbered: the highest names where the schema stood and where it stands now
    return f"Upgraded the database schema from {max(before.applied)} to {newest}."


def _cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    print(upgrade(settings.database_url))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "db", help="database maintenance: `db upgrade` migrates (run it before each release)"
    )
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(handler=_cmd_db)
