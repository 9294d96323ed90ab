"""Wiring: one Bolt App, one Web API client with retry handlers, every feature registered.

The app runs with `process_before_response=True`: the inbox (handlers/inbox.py) dispatches
each request twice — once to answer Slack, once, from what it kept, to do the work — so the
listener itself runs synchronously in both. Signatures are verified once, at the HTTP edge
(bot/server.py), before anything is kept.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.deps import Deps
from bot.templates import render
from handlers import register_listeners
from handlers.common import gate, use_retrying_respond
from handlers.inbox import describe, job_of

logger = logging.getLogger("csobot")


def make_web_client(deps: Deps) -> WebClient:
    """slack_sdk retries only connection errors by default: add 429 and 5xx handlers."""
    return WebClient(
        token=deps.settings.secret("slack_bot_token") or None,
        base_url=deps.settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(deps: Deps, *, token_verification: bool = True) -> App:
    client = make_web_client(deps)
    app = App(
        client=client,
        signing_secret=deps.settings.secret("slack_signing_secret") or "verified-at-the-edge",
        request_verification_enabled=False,
        process_before_response=True,
        token_verification_enabled=token_verification,
        raise_error_for_unhandled_request=False,
        listener_executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="listener"),
        logger=logging.getLogger("csobot.bolt"),
    )
    deps.extras.setdefault("web_client", client)

    def inject_deps(context: BoltContext, next: Any) -> None:
        context["deps"] = deps
        next()

    app.middleware(inject_deps)
    app.middleware(use_retrying_respond)
    app.middleware(gate)
    app.error(_on_error)
    register_listeners(app)
    return app


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
