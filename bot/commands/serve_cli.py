"""`csobot serve [--socket]`: the bot, over HTTP (or Socket Mode), with the scheduler beside it."""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import threading
import time
from typing import Any

from bot.heap import settle_heap
from bot.settings import ConfigError, Settings
from usecases.deps import Deps

# glibc gives each thread that allocates its own heap ("arena"), up to 8 per core; with two
# dozen threads (the server's, the lanes') the freed memory scattered over them stays resident.
# Two arenas keep the process near what it uses (bench/RESULTS.md, peak resident memory).
M_ARENA_MAX = -8
ARENAS = 2


def _few_malloc_arenas() -> None:
    """Before any thread starts; a no-op where the C library is not glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:  # the operator chose
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_ARENA_MAX, ARENAS)
    except (OSError, AttributeError):
        return


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.logs import configure_logging
    from bot.runtime import build_deps, build_service, start_scheduler

    # Socket Mode requests come over the app's own connection: no signature to check.
    settings.require(
        "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN" if args.socket else "SLACK_SIGNING_SECRET"
    )
    configure_logging(
        settings.log_level,
        [
            settings.secret(n)
            for n in (
                "slack_bot_token",
                "slack_signing_secret",
                "slack_app_token",
                "openai_api_key",
            )
        ],
        fmt=settings.log_format,
    )
    log = logging.getLogger("csobot")
    _few_malloc_arenas()
    deps = build_deps(settings, migrate=False)
    schema_ready = _schema_or_wait(deps, log)
    verified = _check_slack_token(settings, log)
    service = build_service(deps, settings, token_verification=False)
    if not verified:
        log.warning("Slack's token check is postponed until Slack answers")
    service.on_serve.append(start_scheduler)
    settle_heap()  # everything built so far lives as long as the process

    def start_work() -> None:
        schema_ready.wait()
        service.inbox.start()  # resumes whatever a previous process left pending
        for start in service.on_serve:
            start(service)

    threading.Thread(target=start_work, name="start-work", daemon=True).start()
    try:
        if args.socket:
            from bot.socket import serve_socket_mode

            log.info("csobot in Socket Mode")
            serve_socket_mode(service, settings.secret("slack_app_token"))
        else:
            from bot.server import serve_forever

            log.info(
                "csobot listening on %s:%s (POST /slack/events, GET /healthz)",
                settings.host,
                settings.port,
            )
            serve_forever(service.wsgi, settings.host, settings.port, settings.threads)
    finally:
        # Acked work still running gets a bounded time to finish; the rest stays in the inbox
        # and the next start resumes it.
        log.info("stopping: up to %gs for running work", settings.drain_seconds)
        if service.scheduler is not None:
            service.scheduler.shutdown(wait=False)
        service.inbox.stop(settings.drain_seconds)
    return 0


def _schema_or_wait(deps: Deps, log: logging.Logger) -> threading.Event:
    """Check the schema is this release's (`csobot db upgrade` migrates; serve never does, so N
    processes never migrate at once). A schema that is empty or outdated stops the start (exit
    2); a database out of reach does not: requests go to the spool and the check is retried in
    the background. The event is set once the schema is ready."""
    ready = threading.Event()

    def check() -> None:
        problem = deps.db.schema_state().problem()
        if problem is not None:
            raise SchemaNotReady(problem)
        ready.set()

    try:
        check()
    except SchemaNotReady as err:
        raise ConfigError(str(err)) from None
    except Exception as exc:
        log.error(
            "cannot reach the database at %s (%s): serving anyway, requests are kept in "
            "the spool; retrying every 5 s",
            deps.db.engine.url.render_as_string(hide_password=True),
            type(exc).__name__,
        )

        def retry() -> None:
            told = ""
            while not ready.is_set():
                time.sleep(5)
                try:
                    check()
                    log.info("the database answers: schema up to date, work resumes")
                except SchemaNotReady as err:
                    if str(err) != told:
                        told = str(err)
                        log.error("%s; requests are kept in the spool meanwhile", err)
                except Exception:
                    continue

        threading.Thread(target=retry, name="schema-retry", daemon=True).start()
    return ready


class SchemaNotReady(Exception):
    """The schema is not this release's (the message names `csobot db upgrade`)."""


def _check_slack_token(settings: Settings, log: logging.Logger) -> bool:
    """auth.test once: a refused token is a configuration error (exit 2); Slack unreachable is
    not — the server starts and Bolt checks again on the first request."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(
        token=settings.secret("slack_bot_token"),
        base_url=settings.slack_api_url,
        timeout=5,
    )
    try:
        client.auth_test()
    except SlackApiError as exc:
        reason = exc.response.get("error", "unknown error") if exc.response is not None else "?"
        if exc.response is not None and exc.response.status_code >= 500:
            log.error("Slack at %s answered %s: starting anyway", settings.slack_api_url, reason)
            return False
        raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({reason})") from None
    except OSError as exc:
        log.error(
            "cannot reach Slack at %s (%s): starting anyway",
            settings.slack_api_url,
            type(exc).__name__,
        )
        return False
    return True


def add_commands(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the bot (HTTP on $PORT, or --socket for Socket Mode)")
    p.add_argument("--socket", action="store_true", help="connect with Socket Mode")
    p.set_defaults(handler=_cmd_serve)
