"""The `csobot` command line: serve, portfolio, kpi, demo (and what later features add)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.cli_errors import SlackUnreachable, UsageError, configure_cli_logging, parse_when
from bot.settings import ConfigError, Settings, load_settings
from prompts.render import render
from storage.portfolio import NoOrganization

if TYPE_CHECKING:
    from usecases.deps import Deps

__all__ = ["UsageError", "build_parser", "main", "parse_when"]

Handler = Callable[[argparse.Namespace, Settings], int]


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.logs import configure_logging
    from bot.runtime import build_deps, build_service, start_scheduler

    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    if args.socket:
        settings.require("SLACK_APP_TOKEN")
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
    )
    log = logging.getLogger("csobot")
    # Acks are short I/O-bound bursts competing for the GIL with the lanes' work: a shorter
    # switch interval lets a waiting ack run sooner (see bench/RESULTS.md).
    sys.setswitchinterval(0.001)
    deps = build_deps(settings, migrate=False)
    schema_ready = _migrate_or_wait(deps, log)
    verified = _check_slack_token(settings, log)
    service = build_service(deps, settings, token_verification=False)
    if not verified:
        log.warning("Slack's token check is postponed until Slack answers")
    service.on_serve.append(start_scheduler)
    # Everything built so far lives as long as the process: keep it out of the collector's
    # generations, and collect less often, so GC pauses don't land on acks.
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)

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


def _migrate_or_wait(deps: Deps, log: logging.Logger) -> threading.Event:
    """Bring the schema up to date; when the database can't be reached, keep serving (requests
    go to the spool) and retry in the background. The event is set once the schema is ready."""
    ready = threading.Event()

    def attempt() -> bool:
        try:
            deps.db.migrate()
        except Exception as exc:
            log.error(
                "cannot reach the database at %s (%s): serving anyway, requests are kept in "
                "the spool; retrying every 5 s",
                deps.db.engine.url.render_as_string(hide_password=True),
                type(exc).__name__,
            )
            return False
        ready.set()
        return True

    if not attempt():

        def retry() -> None:
            while not ready.is_set():
                time.sleep(5)
                try:
                    deps.db.migrate()
                    ready.set()
                    log.info("the database answers: schema up to date, work resumes")
                except Exception:
                    continue

        threading.Thread(target=retry, name="migrate-retry", daemon=True).start()
    return ready


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


def _cmd_portfolio(args: argparse.Namespace, settings: Settings) -> int:
    from domain.portfolio import PortfolioError, parse_portfolio
    from storage.db import Database
    from storage.portfolio import format_portfolio, import_portfolio, require_organization

    db = Database(settings.database_url)
    db.migrate()
    if args.action == "show":
        with db.session() as session:
            require_organization(session)
            print(format_portfolio(session))
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
        result = import_portfolio(session, portfolio)
    print(f"Imported {path}: {result.summary()}")
    return 0


def _cmd_kpi(args: argparse.Namespace, settings: Settings) -> int:
    from domain.calendar import IsoWeek
    from domain.kpi import format_table
    from storage.db import Database
    from storage.kpi import load_week_kpi
    from storage.portfolio import require_organization
    from usecases.clock import PinnedClock, SystemClock

    now = (PinnedClock(settings.now) if settings.now else SystemClock()).now()
    try:
        week = IsoWeek.parse(args.week) if args.week else IsoWeek.of(now.date())
    except ValueError as err:
        raise UsageError(f"--week: {err}") from None
    db = Database(settings.database_url)
    db.migrate()
    with db.session() as session:
        require_organization(session)
        kpi = load_week_kpi(session, week, now)
    if args.json:
        print(json.dumps(kpi.model_dump(mode="json"), indent=2))
    else:
        print(format_table(kpi))
    return 0


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from devkit.demo import run_demo

    return run_demo(keep=args.keep)


def _cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import Database

    Database(settings.database_url).migrate()
    print("Database schema is up to date.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csobot", description="The CSO process, running itself in Slack."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the bot (HTTP on $PORT, or --socket for Socket Mode)")
    p.add_argument("--socket", action="store_true", help="connect with Socket Mode")
    p.set_defaults(handler=_cmd_serve)

    p = sub.add_parser("portfolio", help="import or show the portfolio")
    psub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    pi = psub.add_parser("import", help="upsert organization, people and clients from YAML")
    pi.add_argument("file")
    psub.add_parser("show", help="list the portfolio")
    p.set_defaults(handler=_cmd_portfolio)

    p = sub.add_parser("kpi", help="Communication Consistency for an ISO week")
    p.add_argument("--week", help="ISO week like 2026-W47 (default: this week)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_cmd_kpi)

    p = sub.add_parser("demo", help="run an offline, self-contained demo week")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser("db", help="database maintenance")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(handler=_cmd_db)

    from bot.commands import scheduler_cli
    from bot.features import add_commands

    scheduler_cli.add_commands(sub)
    add_commands(sub)
    return parser


def command_name(args: argparse.Namespace) -> str:
    """`kpi`, `portfolio import`, `db upgrade`: the words the person typed."""
    action = getattr(args, "action", None)
    return f"{args.command} {action}" if isinstance(action, str) else str(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Exit codes: 0 done; 1 the command failed; 2 the environment or the
    input is not usable (a setting, the database, no portfolio yet); 141 stdout was closed
    early (like any Unix tool killed by SIGPIPE); 130 interrupted. Never a traceback, unless
    CSOBOT_LOG_LEVEL=DEBUG asks for one."""
    parser = build_parser()
    args = parser.parse_args(argv)
    settings: Settings | None = None
    try:
        settings = load_settings()
        if args.command not in LONG_RUNNING:
            configure_cli_logging(settings.log_level, secrets_of(settings))
        code = int(args.handler(args, settings))
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except (ConfigError, UsageError) as err:
        _say(str(err))
        return 2
    except NoOrganization:
        _say(render("cli/no_organization.j2"))
        return 2
    except SlackUnreachable as err:
        _say(str(err))
        return 2
    except BrokenPipeError:
        # The reader went away (`csobot kpi --json | head -1`): stop quietly, as a tool killed
        # by SIGPIPE would. Point stdout at /dev/null so the interpreter's last flush is silent.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return 141
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _failed(exc, args, settings)


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # stderr closed as well: nothing left to tell
        print(f"csobot: {line}", file=sys.stderr)


def _failed(exc: Exception, args: argparse.Namespace, settings: Settings | None) -> int:
    """One line for anything else; the traceback only at DEBUG, with secrets redacted."""
    from urllib.error import URLError

    from sqlalchemy.exc import DBAPIError

    from bot.cli_errors import (
        database_error_line,
        is_database_unavailable,
        scrub,
        slack_error_line,
    )

    command = command_name(args)
    url = settings.database_url if settings else ""
    if isinstance(exc, DBAPIError) and is_database_unavailable(exc):
        _say(database_error_line(exc, url, command))
        return 2
    if isinstance(exc, URLError) and settings is not None:
        # slack_sdk is the only HTTP client built on urllib here: Slack did not answer.
        _say(slack_error_line(exc, settings.slack_api_url))
        return 2
    debug = settings is not None and settings.log_level == "DEBUG"
    if debug and settings is not None:
        import traceback

        if args.command in LONG_RUNNING or not logging.getLogger().handlers:
            configure_cli_logging("DEBUG", secrets_of(settings))
        trace = scrub("".join(traceback.format_exception(exc)), url)
        logging.getLogger("csobot").debug("%s failed:\n%s", command, trace.rstrip())
    if isinstance(exc, SlackApiError):
        slack_error = str(exc.response.get("error", "")) if exc.response is not None else ""
    else:
        slack_error = ""
    _say(
        render(
            "cli/command_failed.j2",
            command=command,
            error_type=type(exc).__name__,
            slack_error=slack_error,
            debug=debug,
        )
    )
    return 1


# Processes that run until stopped: they set up their own logging (timestamps, tracebacks).
LONG_RUNNING = ("serve", "scheduler")


def secrets_of(settings: Settings) -> list[str]:
    """Every secret a log line must never show, the database password included."""
    from bot.cli_errors import url_password

    names = ("slack_bot_token", "slack_signing_secret", "slack_app_token", "openai_api_key")
    return [settings.secret(n) for n in names] + [url_password(settings.database_url) or ""]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
