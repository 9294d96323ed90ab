"""The `csobot` command line: serve, portfolio, kpi, db, tick, scheduler; every feature's
commands (bot/features.py); and what installed packages add (`csobot demo`, from devkit)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.cli_errors import SlackUnreachable, UsageError, configure_cli_logging, parse_when
from bot.heap import settle_heap
from bot.settings import ConfigError, Settings, load_settings
from domain.extras import missing_extra
from prompts.render import render
from storage.portfolio_store import NoOrganization

if TYPE_CHECKING:
    pass

__all__ = ["UsageError", "build_parser", "main", "parse_when"]

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    from bot.commands import db_cli, portfolio_cli, scheduler_cli, serve_cli
    from bot.features import add_commands

    parser = argparse.ArgumentParser(
        prog="csobot",
        description="The CSO process, running itself in Slack.",
        epilog="`csobot COMMAND --help` tells more about one command.",
    )
    parser.add_argument("--version", action="version", version=f"csobot {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve_cli.add_commands(sub)
    portfolio_cli.add_commands(sub)

    db_cli.add_commands(sub)
    scheduler_cli.add_commands(sub)
    add_commands(sub)  # every feature's (bot/features.py)
    for entry in plugin_commands():
        entry.load()(sub)
    return parser


# Sub-commands installed packages add (`csobot demo` comes from the development kit this way:
# production code never imports it). Each entry point is an `add_commands(subparsers)`.
PLUGIN_GROUP = "csobot.commands"


def package_version() -> str:
    """The installed package's version (pyproject's `version`)."""
    try:
        return version("csobot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def plugin_commands() -> list[EntryPoint]:
    return sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name)


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
    if args.command is None:  # bare `csobot`: what it can do
        parser.print_help()
        return 0
    settings: Settings | None = None
    try:
        settings = load_settings()
        if args.command not in LONG_RUNNING:  # those settle their heap once they are built
            configure_cli_logging(settings.log_level, secrets_of(settings))
            if argv is None:  # the process's own command (`csobot …`): its heap is this run's
                settle_heap()  # a report over a whole portfolio spends less on the collector
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
    except ModuleNotFoundError as exc:  # an optional extra the command needs (domain/extras.py)
        line = missing_extra(exc)
        if line is None:
            return _failed(exc, args, settings)
        _say(line)
        return 2
    except Exception as exc:
        return _failed(exc, args, settings)


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # stderr closed as well: nothing left to tell
        print(f"csobot: {line}", file=sys.stderr)


def _failed(exc: Exception, args: argparse.Namespace, settings: Settings | None) -> int:
    """One line for anything else; the traceback only at DEBUG, with secrets redacted."""
    from urllib.error import URLError

    from bot.cli_errors import (
        database_error_line,
        is_database_unavailable,
        scrub,
        slack_error_line,
    )

    command = command_name(args)
    url = settings.database_url if settings else ""
    if is_database_unavailable(exc):
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
