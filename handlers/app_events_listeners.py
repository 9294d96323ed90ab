"""Slack telling us the app lost its access: the token revoked, the app uninstalled.

Logged at error level and recorded for every process: the scheduler stops sending, and
`/healthz` answers 503 with the reason until the app is installed again (a new token, then
`csobot serve` restarted, clears it). `app_rate_limited` — Slack dropping our events — is
handled at the HTTP edge (handlers/inbox.py), as it is not an event callback.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from handlers import registry
from handlers.common import after_ack, deps_of
from storage import status as service_status

logger = logging.getLogger(__name__)


def on_revoked(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    deps = deps_of(context)
    reason = str(event.get("type") or "tokens_revoked")

    def record() -> None:
        now = deps.clock.now()
        logger.error("Slack says %s: the bot stops sending until it is installed again", reason)
        with deps.db.transaction() as session:
            service_status.put(
                session, service_status.REVOKED, {"reason": reason, "at": now.isoformat()}, now
            )

    after_ack(context, record)


def register(app: App) -> None:
    registry.event(app, "tokens_revoked", on_revoked)
    registry.event(app, "app_uninstalled", on_revoked)
