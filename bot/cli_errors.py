"""What the command line says when something outside the command goes wrong: one line, no
traceback, no password. `bot.cli.main` is the one place that uses these."""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from bot.settings import ConfigError
from prompts.render import render

# The errors that mean "the database is not there or not usable", as opposed to a bug.
_UNREACHABLE_WORDS = (
    "connection",
    "server closed",
    "timeout",
    "timed out",
    "unable to open",
    "readonly database",
    "disk i/o",
    "database is locked",
    "no space",
    "disk is full",
    "too many clients",
    "shutting down",
)


def safe_url(url: str) -> str:
    """The URL with its password replaced by ***; never raises (a bad URL is just hidden)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "DATABASE_URL"


def url_password(url: str) -> str | None:
    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


def is_database_unavailable(exc: BaseException) -> bool:
    """An error that says the database can't be reached or used, rather than a bug in a query."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or exc.statement is None:
        return True  # raised while connecting (or the connection was lost)
    if not isinstance(exc, OperationalError | InterfaceError):
        return False  # a constraint or a query that is wrong: a bug, not the environment
    reason = str(exc.orig).lower()
    return any(word in reason for word in _UNREACHABLE_WORDS)


def database_error_line(exc: DBAPIError, url: str, command: str) -> str:
    """`cannot reach the database at postgresql+psycopg://u:***@host:1/db (connection refused)`."""
    parsed = _parsed(url)
    sqlite = parsed is not None and parsed.get_backend_name() == "sqlite"
    reason = _reason(exc)
    if sqlite and parsed is not None and "unable to open" in reason:
        reason = _sqlite_reason(parsed.database) or reason
    if exc.statement is None or exc.connection_invalidated:
        line = render(
            "cli/database_unreachable.j2", url=safe_url(url), reason=reason, sqlite=sqlite
        )
    else:
        line = render("cli/database_failed.j2", url=safe_url(url), reason=reason, command=command)
    return scrub(line, url)


def scrub(text: str, url: str) -> str:
    """Remove the database password from a line, whatever put it there."""
    password = url_password(url)
    if password:
        text = text.replace(password, "***")
    return text


def _parsed(url: str) -> URL | None:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        return None


def _reason(exc: DBAPIError) -> str:
    """Slack-style short reason from the driver's message: `connection refused`."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = next((line for line in lines if "failed: " in line), lines[0] if lines else "")
    reason = reason.rsplit("failed: ", 1)[-1]
    reason = re.sub(r"^(FATAL|ERROR):\s+", "", reason).strip().rstrip(".")
    if len(reason) > 1 and reason[0].isupper() and reason[1].islower():
        reason = reason[0].lower() + reason[1:]
    return reason[:200] or type(exc.orig).__name__


def _sqlite_reason(database: str | None) -> str | None:
    """Why SQLite could not open its file, said about the directory a person can fix."""
    if not database or database == ":memory:":
        return None
    parent = Path(database).expanduser().absolute().parent
    if not parent.exists():
        existing = next((p for p in parent.parents if p.exists()), None)
        if existing is not None and not existing.is_dir():
            return f"{existing} is not a directory"
        return f"the directory {parent} does not exist"
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"the directory {parent} is not writable"
    return None


class UsageError(Exception):
    """Bad arguments or input data: printed as one clear line."""


def parse_when(text: str) -> datetime:
    """Parse an aware ISO datetime for --now style options."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f'"{text}" is not an ISO datetime like 2026-11-20T15:05:00-05:00'
        ) from None
    if value.tzinfo is None:
        raise UsageError(f'"{text}" needs a UTC offset, like 2026-11-20T15:05:00-05:00')
    return value


class SlackUnreachable(Exception):
    """Slack's Web API did not answer: the message says where and why, in one line."""


def check_slack(client: WebClient, api_url: str, *, consequence: str = "") -> None:
    """Before a command posts: is Slack there, and does it take our token? One line if not."""
    try:
        client.auth_test()
    except SlackApiError as err:
        code = err.response.get("error", "") if err.response is not None else ""
        raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({code or 'no reason'})") from None
    except OSError as err:  # URLError, refused, reset, timed out
        raise SlackUnreachable(slack_error_line(err, api_url, consequence)) from None


def slack_error_line(err: OSError, api_url: str, consequence: str = "") -> str:
    """`cannot reach Slack at https://slack.com/api/ (connection refused)`."""
    return render(
        "cli/slack_unreachable.j2", url=api_url, reason=_os_reason(err), consequence=consequence
    )


def _os_reason(err: OSError) -> str:
    inner = getattr(err, "reason", err)  # URLError wraps the socket error
    if isinstance(inner, TimeoutError):
        return "timed out"
    text = inner.strerror if isinstance(inner, OSError) and inner.strerror else str(inner)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


class _OneLine(logging.Formatter):
    """`csobot: <message>` — the traceback of a logged exception only at DEBUG, and the whole
    text (traceback included) redacted."""

    def __init__(self, debug: bool, redact: logging.Filter):
        super().__init__("csobot: %(message)s")
        self.debug = debug
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        if not self.debug and (record.exc_info or record.exc_text or record.stack_info):
            record = logging.makeLogRecord(record.__dict__)
            record.exc_info = record.exc_text = record.stack_info = None
        whole = logging.makeLogRecord({"msg": super().format(record)})
        self.redact.filter(whole)
        return str(whole.msg)


def configure_cli_logging(level: str, secrets: list[str]) -> None:
    """Logging for a one-shot command: warnings and errors as single lines on stderr, secrets
    redacted; everything, tracebacks included, at DEBUG. (`serve` and `scheduler` log with
    timestamps instead, see bot.logs.)"""
    from bot.logs import RedactingFilter

    root = logging.getLogger()
    debug = level == "DEBUG"
    redact = RedactingFilter(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(_OneLine(debug, redact))
    handler.addFilter(redact)
    root.handlers = [handler]
    root.setLevel(level if level in ("DEBUG", "ERROR") else "WARNING")
    # slack_sdk logs every failed attempt of a call; the command says what failed, once.
    logging.getLogger("slack_sdk").setLevel(logging.DEBUG if debug else logging.CRITICAL)
