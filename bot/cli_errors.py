"""What the command line says when something outside the command goes wrong: one line, no
traceback, no password. `bot.cli.main` is the one place that uses these."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.settings import ConfigError
from prompts.render import render
from storage.db_errors import database_failure, is_database_unavailable, safe_url, url_password

__all__ = [
    "SlackUnreachable",
    "UsageError",
    "check_slack",
    "configure_cli_logging",
    "database_error_line",
    "is_database_unavailable",
    "parse_when",
    "safe_url",
    "scrub",
    "slack_error_line",
    "url_password",
]


def database_error_line(exc: BaseException, url: str, command: str) -> str:
    """`cannot reach the database at postgresql+psycopg://u:***@host:1/db (connection refused)`."""
    failure = database_failure(exc, url)
    if failure.connecting:
        line = render(
            "cli/database_unreachable.j2",
            url=safe_url(url),
            reason=failure.reason,
            sqlite=failure.sqlite,
        )
    else:
        line = render(
            "cli/database_failed.j2", url=safe_url(url), reason=failure.reason, command=command
        )
    return scrub(line, url)


def scrub(text: str, url: str) -> str:
    """Remove the database password from a line, whatever put it there."""
    password = url_password(url)
    if password:
        text = text.replace(password, "***")
    return text


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
    from bot.logs import ContextFilter, RedactingFilter

    root = logging.getLogger()
    debug = level == "DEBUG"
    redact = RedactingFilter(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(_OneLine(debug, redact))
    handler.addFilter(ContextFilter())  # Slack's error code on a Slack failure
    handler.addFilter(redact)
    root.handlers = [handler]
    root.setLevel(level if level in ("DEBUG", "ERROR") else "WARNING")
    # slack_sdk logs every failed attempt of a call; the command says what failed, once.
    logging.getLogger("slack_sdk").setLevel(logging.DEBUG if debug else logging.CRITICAL)
