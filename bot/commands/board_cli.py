"""`csobot board fetch [SLUG]`: fetch the Linear and GitHub board into the cache now
(docs/process.md, "Linear and GitHub")."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli import UsageError
from bot.settings import Settings


def add_commands(sub: Any) -> None:
    p = sub.add_parser("board", help="the Linear and GitHub board cache")
    bsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    f = bsub.add_parser("fetch", help="fetch every configured client's board (or one) now")
    f.add_argument("client", nargs="?", help="client slug (default: every configured client)")
    p.set_defaults(handler=cmd_board)


def cmd_board(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import build_deps
    from domain.commands import CLI_CLIENT_LIST, unknown_client_message
    from storage import connector_store
    from storage.portfolio_store import active_clients, require_organization
    from usecases.connector_actions import refresh_client

    deps = build_deps(settings)
    now = deps.clock.now()
    with deps.db.transaction() as tx:
        require_organization(tx)
        clients = {c.slug: c for c in active_clients(tx)}
        configured = connector_store.all_sources(tx)
    if deps.connectors is None:
        raise UsageError("no connector is configured: set LINEAR_API_KEY and/or GITHUB_TOKEN")
    if args.client and args.client not in clients:
        raise UsageError(unknown_client_message(args.client, sorted(clients), CLI_CLIENT_LIST))
    chosen = [c for slug, c in clients.items() if args.client in (None, slug)]
    failed = 0
    for client in chosen:
        sources = configured.get(client.id)
        if sources is None:
            if args.client:
                raise UsageError(
                    f"{client.slug} names no board: add `linear:` or `github:` to it in the "
                    "portfolio file"
                )
            continue
        for r in refresh_client(deps, client.id, sources, now):
            if r.state is not None:
                failed += 1
                print(f"{client.slug}: {r.source} unreachable ({r.state.error})")
            else:
                print(f"{client.slug}: {r.source} {r.items} item{'s' * (r.items != 1)} cached")
    return 1 if failed else 0
