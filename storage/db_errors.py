"""What a database failure or a database URL says, read without showing a password: for the
command line's one-line errors and for settings (bot/), which never import sqlalchemy."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

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


def is_transient_database_error(exc: BaseException) -> bool:
    """Worth retrying: the database was unreachable, busy, or its pool was full."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass(frozen=True)
class DatabaseFailure:
    reason: str  # short, like Slack's: "connection refused"
    sqlite: bool
    connecting: bool  # raised while connecting (or the connection was lost), not by a query


def database_failure(exc: BaseException, url: str) -> DatabaseFailure:
    """What went wrong, in a few words, for a DBAPIError raised against `url`."""
    parsed = _parsed(url)
    sqlite = parsed is not None and parsed.get_backend_name() == "sqlite"
    reason = _reason(exc)
    if sqlite and parsed is not None and "unable to open" in reason:
        reason = _sqlite_reason(parsed.database) or reason
    connecting = isinstance(exc, DBAPIError) and (
        exc.statement is None or exc.connection_invalidated
    )
    return DatabaseFailure(reason=reason, sqlite=sqlite, connecting=connecting)


def _parsed(url: str) -> URL | None:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        return None


def _reason(exc: BaseException) -> str:
    """Slack-style short reason from the driver's message: `connection refused`."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    text = str(orig) if orig is not None else str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = next((line for line in lines if "failed: " in line), lines[0] if lines else "")
    reason = reason.rsplit("failed: ", 1)[-1]
    reason = re.sub(r"^(FATAL|ERROR):\s+", "", reason).strip().rstrip(".")
    if len(reason) > 1 and reason[0].isupper() and reason[1].islower():
        reason = reason[0].lower() + reason[1:]
    return reason[:200] or type(orig).__name__


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
