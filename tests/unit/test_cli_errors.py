"""The one-line answers of the command line: reasons from driver messages, hidden passwords,
what counts as the database being out of reach, and log lines without tracebacks."""

from __future__ import annotations

import io
import logging
from argparse import Namespace
from collections.abc import Iterator
from pathlib import Path
from urllib.error import URLError

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bot.cli import _failed
from bot.cli_errors import (
    configure_cli_logging,
    database_error_line,
    is_database_unavailable,
    safe_url,
)
from bot.settings import Settings

PG = "postgresql+psycopg://csobot:s3cret@db.internal:5432/csobot"


def _connect_error(message: str) -> OperationalError:
    return OperationalError(None, None, Exception(message))


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
            "Connection refused\n\tIs the server running on that host and accepting TCP/IP "
            "connections?",
            "connection refused",
        ),
        (
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  '
            'password authentication failed for user "csobot"',
            'password authentication failed for user "csobot"',
        ),
        (
            "Multiple connection attempts failed. All failures were:\n- host: 'db.internal', "
            "port: '5432', hostaddr: '::1': connection failed: Connection refused\n- host: "
            "'db.internal', port: '5432', hostaddr: '127.0.0.1': connection failed: "
            "Connection refused",
            "connection refused",
        ),
        (
            "failed to resolve host 'db.internal': [Errno -2] Name or service not known",
            "failed to resolve host 'db.internal': [Errno -2] Name or service not known",
        ),
    ],
)
def test_the_reason_is_the_drivers_last_word(message: str, reason: str) -> None:
    line = database_error_line(_connect_error(message), PG, "kpi")
    shown = "postgresql+psycopg://csobot:***@db.internal:5432/csobot"
    assert line == f"cannot reach the database at {shown} ({reason})"


def test_the_password_never_shows_even_if_a_driver_echoes_it() -> None:
    line = database_error_line(_connect_error("connection failed: bad s3cret"), PG, "kpi")
    assert "s3cret" not in line
    assert safe_url("postgresql+psycopg://u:pw@h:x/db") == "DATABASE_URL"  # unparsable: hidden


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[object]:
    engine = create_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    yield engine
    engine.dispose()


def test_a_bug_is_not_an_outage(sqlite_engine: object) -> None:
    engine = sqlite_engine
    with pytest.raises(IntegrityError) as dup, engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert not is_database_unavailable(dup.value)
    with pytest.raises(OperationalError) as missing, engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("SELECT * FROM no_such_table"))
    assert not is_database_unavailable(missing.value)


def test_a_failure_during_the_command_names_the_command() -> None:
    locked = OperationalError("UPDATE t SET x=1", {}, Exception("database is locked"))
    assert is_database_unavailable(locked)
    line = database_error_line(locked, "sqlite:////srv/csobot.db", "tick")
    assert (
        line == "the database at sqlite:////srv/csobot.db failed during `tick` (database is locked)"
    )
    assert not is_database_unavailable(ValueError("x"))
    assert isinstance(locked, DBAPIError)


def _log_with(level: str) -> str:
    root, sdk = logging.getLogger(), logging.getLogger("slack_sdk")
    saved = (list(root.handlers), root.level, sdk.level)
    stream = io.StringIO()
    try:
        configure_cli_logging(level, ["xoxb-secret-token-123"])
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        try:
            raise RuntimeError("boom with xoxb-secret-token-123")
        except RuntimeError:
            logging.getLogger("scheduling.engine").exception("enqueuer %s failed", "cadences")
        logging.getLogger("csobot").info("an info line")
    finally:
        root.handlers, root.level = saved[0], saved[1]
        sdk.setLevel(saved[2])
    return stream.getvalue()


def test_logged_errors_are_one_line_and_tracebacks_only_at_debug() -> None:
    assert _log_with("INFO") == "csobot: enqueuer cadences failed\n"
    debug = _log_with("DEBUG")
    assert debug.startswith("csobot: enqueuer cadences failed\nTraceback (most recent call last)")
    assert "csobot: an info line" in debug
    assert "boom with xoxb-[redacted]" in debug and "secret-token" not in debug


def test_slack_out_of_reach_at_start_up_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What `csobot serve` raises when auth.test can't connect (slack_sdk gives up with URLError).
    settings = Settings(SLACK_API_URL="http://127.0.0.1:1/api/", _env_file=None)  # type: ignore[call-arg]
    refused = URLError(ConnectionRefusedError(111, "Connection refused"))
    assert _failed(refused, Namespace(command="serve"), settings) == 2
    assert capsys.readouterr().err == (
        "csobot: cannot reach Slack at http://127.0.0.1:1/api/ (connection refused)\n"
    )
    assert _failed(URLError(TimeoutError()), Namespace(command="serve"), settings) == 2
    assert "(timed out)" in capsys.readouterr().err
