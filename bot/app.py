"""Wiring: one Bolt App, one Web API client with retry handlers, every feature registered.

The app runs with `process_before_response=True`: the inbox (handlers/inbox.py) dispatches
each request twice — once to answer Slack, once, from what it kept, to do the work — so the
listener itself runs synchronously in both. Signatures are verified once, at the HTTP edge
(bot/server.py), before anything is kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.features import FEATURES, Feature
from bot.runtime import make_web_client, slack_of
from bot.settings import Settings
from handlers.common import RequestSetup
from handlers.inbox import describe, job_of
from prompts.render import render
from usecases.deps import Deps

logger = logging.getLogger("csobot")


class BotTokenAuthorize(Authorize):
    """One workspace, one bot token: every request is authorized with it, without a Slack call
    on the way — so a request is kept and answered even while Slack's API is out of reach.
    The bot's own ids come from `auth.test` once it answers."""

    def __init__(self, token: str | None, client: WebClient, *, verify: bool):
        self.token = token
        self.client = client
        self._identity: dict[str, Any] | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()
        if verify:
            self._identity = dict(client.auth_test(token=token).data)  # type: ignore[arg-type]

    def identity(self) -> dict[str, Any]:
        with self._lock:
            if self._identity is None and time.monotonic() >= self._next_try:
                try:
                    self._identity = dict(self.client.auth_test(token=self.token).data)  # type: ignore[arg-type]
                except (SlackApiError, OSError) as exc:
                    self._next_try = time.monotonic() + 30
                    logger.warning("auth.test not answered (%s): retrying later", describe(exc))
            return self._identity or {}

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        me = self.identity()
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id or me.get("team_id"),
            bot_token=self.token,
            bot_id=me.get("bot_id"),
            bot_user_id=me.get("user_id"),
            user_id=user_id,
        )


def create_app(
    deps: Deps,
    settings: Settings,
    features: Sequence[Feature] = FEATURES,
    *,
    token_verification: bool = True,
) -> App:
    client = slack_of(deps, settings)
    authorize = BotTokenAuthorize(
        settings.secret("slack_bot_token") or None, client, verify=token_verification
    )
    app = App(
        # The app's own client carries no token: `BotTokenAuthorize` gives each request its own.
        client=make_web_client(settings, with_token=False),
        authorize=authorize,  # type: ignore[arg-type]  # an Authorize is accepted as is
        signing_secret=settings.secret("slack_signing_secret") or "verified-at-the-edge",
        request_verification_enabled=False,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        listener_executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="listener"),
        logger=_BOLT_LOGGER,
    )

    app.use(RequestSetup(deps))
    app.error(_on_error)
    for feature in features:
        feature.listeners(app)
    return app


class _NoUnusedTokenWarning(logging.Filter):
    """`App()` reads $SLACK_BOT_TOKEN when no token is passed, then warns at every start that
    the client we pass wins over it ("As you gave `client` as well, `token` will be unused"):
    by design here (`BotTokenAuthorize` gives each request the token), so that one line goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


_BOLT_LOGGER = logging.getLogger("csobot.bolt")
_BOLT_LOGGER.addFilter(_NoUnusedTokenWarning())


def _on_error(error: Exception, body: dict[str, Any], context: BoltContext) -> None:
    """Never a traceback to a user. While the work runs from the inbox, a failure is handed to
    the inbox, which retries it (and tells the user only if it finally gives up); while Slack
    waits for its answer, the failure is logged (without secrets) and the user told plainly."""
    state = job_of(context)
    if state is not None and state.phase == "work":
        state.error = error
        return
    logger.error("listener failed: %s", describe(error), exc_info=error)
    respond = context.respond
    if respond is not None:
        try:
            respond(
                text=render("messages/internal_error.j2"),
                response_type="ephemeral",
                replace_original=False,
            )
        except Exception:  # the user channel itself may be what failed
            logger.warning("could not tell the user about the failure")
