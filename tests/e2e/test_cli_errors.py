"""The command line never shows a person a traceback: an unreachable database, an empty one, a
closed pipe or an unexpected failure each get one line on stderr and a documented exit code.

Exit codes: 0 done · 1 the command failed (bad rows, an unexpected error) · 2 the environment or
the input is not usable (a setting, the database, no portfolio yet) · 141 stdout was closed
early (`csobot kpi --json | head -1`), as for any Unix tool killed by SIGPIPE · 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.cli import build_parser
from storage.db import Database
from storage.models import Client
from tests.conftest import SAMPLE_PORTFOLIO, TOKEN, load_portfolio
from tests.e2e.test_cli import run

# Every command that reads or writes the database, with arguments that reach the database.
# `{portfolio}` and `{csv}` are replaced with real files.
DB_COMMANDS: dict[str, list[str]] = {
    "portfolio import": ["portfolio", "import", "{portfolio}"],
    "portfolio show": ["portfolio", "show"],
    "kpi": ["kpi", "--json"],
    "digest": ["digest", "--dry-run"],
    "tick": ["tick"],
    "cadence show": ["cadence", "show"],
    "health import": ["health", "import", "{csv}"],
    "expansion": ["expansion"],
    "renewals": ["renewals"],
    "qbr": ["qbr", "acme"],
    "ebr": ["ebr", "acme"],
    "audit": ["audit", "acme"],
    "report": ["report", "acme"],
    "board fetch": ["board", "fetch"],
    "metrics": ["metrics"],
    "db upgrade": ["db", "upgrade"],
    "onboarding plans": ["onboarding", "plans"],
    "closeout report": ["closeout", "report", "acme"],
}
# Commands that never open DATABASE_URL.
NO_DB_COMMANDS = {
    "demo": "runs on its own temporary database",
    "eval-flags": "reads a JSONL file only",
    "eval-support": "reads JSONL files only",
}
# Long-running processes: they stay up through a database outage (their own tests hold that).
LONG_RUNNING = {"serve", "scheduler"}

PIPE_SIZE = 4096
NO_ORGANIZATION = (
    "csobot: No portfolio imported yet: import yours with "
    "`csobot portfolio import FILE.yaml` (devkit/sample_portfolio.yaml shows the format)."
)


def registered_commands() -> set[str]:
    """Every command the parser knows, with its action when it has one (`db upgrade`)."""
    found: set[str] = set()

    def subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse._SubParsersAction]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                yield action

    for top in subparsers(build_parser()):
        for name, parser in top.choices.items():
            nested = [
                f"{name} {action}" for sub in subparsers(parser) for action in sub.choices
            ] + [
                f"{name} {choice}"
                for a in parser._actions
                if a.dest == "action"
                and a.choices
                and not isinstance(a, argparse._SubParsersAction)
                for choice in a.choices
            ]
            found.update(nested or [name])
    return found


def test_every_registered_command_is_walked_below() -> None:
    # A new command must say whether it touches the database, so the walks below cover it.
    assert registered_commands() == set(DB_COMMANDS) | set(NO_DB_COMMANDS) | LONG_RUNNING


def _files(tmp_path: Path) -> dict[str, str]:
    portfolio = tmp_path / "portfolio.yaml"
    portfolio.write_text(SAMPLE_PORTFOLIO)
    csv = tmp_path / "usage.csv"
    csv.write_text("client,date,signal,value\nacme,2026-11-02,nps,8\n")
    return {"portfolio": str(portfolio), "csv": str(csv)}


def _argv(command: str, files: dict[str, str]) -> list[str]:
    return [a.format(**files) for a in DB_COMMANDS[command]]


def _run_all(
    commands: list[str], env: dict[str, str], files: dict[str, str], cwd: Path
) -> dict[str, subprocess.CompletedProcess[str]]:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": "http://127.0.0.1:1/api/", **env}
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {c: pool.submit(run, *_argv(c, files), env=env, cwd=cwd) for c in commands}
        return {c: f.result() for c, f in futures.items()}


def _unreachable(tmp_path: Path, kind: str) -> tuple[str, str]:
    """(DATABASE_URL, the line csobot must print) for each way a database can be out of reach."""
    if kind == "postgresql refusing":
        url = "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/csobot"
        shown = "postgresql+psycopg://postgres:***@127.0.0.1:1/csobot"
        return url, f"csobot: cannot reach the database at {shown} (connection refused)"
    if kind == "sqlite missing directory":
        where = tmp_path / "no-such-dir" / "csobot.db"
        return (
            f"sqlite:///{where}",
            f"csobot: cannot open the database at sqlite:///{where} "
            f"(the directory {where.parent} does not exist)",
        )
    if kind == "sqlite directory is a file":
        (tmp_path / "a-file").write_text("")
        where = tmp_path / "a-file" / "csobot.db"
        return (
            f"sqlite:///{where}",
            f"csobot: cannot open the database at sqlite:///{where} "
            f"({where.parent} is not a directory)",
        )
    # A directory nobody may create files in, even root: procfs.
    return (
        "sqlite:////proc/csobot.db",
        "csobot: cannot open the database at sqlite:////proc/csobot.db "
        "(unable to open database file)",
    )


@pytest.mark.parametrize(
    "kind",
    [
        "postgresql refusing",
        "sqlite missing directory",
        "sqlite directory is a file",
        "sqlite directory not writable",
    ],
)
def test_an_unreachable_database_is_one_line_without_the_password_and_exit_2(
    kind: str, tmp_path: Path
) -> None:
    url, line = _unreachable(tmp_path, kind)
    results = _run_all(list(DB_COMMANDS), {"DATABASE_URL": url}, _files(tmp_path), tmp_path)
    for command, out in results.items():
        assert out.returncode == 2, (command, out.stderr[-2000:])
        assert out.stderr.strip() == line, (command, out.stderr[-2000:])
        assert "s3cret" not in out.stderr + out.stdout
        assert out.stdout == "", command


def test_a_malformed_database_url_is_named_in_one_line(tmp_path: Path) -> None:
    out = run(
        "kpi", env={"DATABASE_URL": "postgresql+psycopg://u:s3cret@host:port/db"}, cwd=tmp_path
    )
    assert out.returncode == 2
    assert out.stderr.strip().startswith("csobot: DATABASE_URL is malformed:")
    assert len(out.stderr.strip().splitlines()) == 1
    assert "s3cret" not in out.stderr


def test_every_command_on_an_empty_database_answers_with_a_sentence(
    db_url: str, tmp_path: Path
) -> None:
    files = _files(tmp_path)
    env = {"DATABASE_URL": db_url}
    readers = [c for c in DB_COMMANDS if c != "portfolio import"]
    results = _run_all(readers, env, files, tmp_path)
    for command, out in results.items():
        assert "Traceback" not in out.stderr, (command, out.stderr[-2000:])
        if command == "db upgrade":
            assert out.returncode == 0, out.stderr
            assert out.stdout.strip() == "The database schema is already up to date; nothing to do."
        elif command == "cadence show":
            # The default catalogue is still worth showing; it says where it came from.
            assert out.returncode == 0, out.stderr
            assert "No portfolio imported yet: these are the default cadences." in out.stdout
            assert "touchpoint-cutoff" in out.stdout
        else:
            assert (out.returncode, out.stderr.strip()) == (2, NO_ORGANIZATION), command
            assert out.stdout == "", command
    # The sentence's advice works, and then the same commands answer.
    imported = _run_all(["portfolio import"], env, files, tmp_path)["portfolio import"]
    assert imported.returncode == 0, imported.stderr
    after = _run_all(["portfolio show", "kpi", "digest"], env, files, tmp_path)
    assert all(out.returncode == 0 for out in after.values()), {
        c: o.stderr[-500:] for c, o in after.items()
    }
    assert "Acme Corp" in after["portfolio show"].stdout


# -- a closed pipe -------------------------------------------------------------------------------
@pytest.fixture
def portfolio_env(db_url: str) -> dict[str, str]:
    db = Database(db_url)
    load_portfolio(db)
    db.dispose()
    return {"DATABASE_URL": db_url, "CSOBOT_NOW": "2026-11-23T10:00:00-05:00"}


def _env(extra: dict[str, str]) -> dict[str, str]:
    # Buffered stdout, as a person's shell has it: with PYTHONUNBUFFERED, CPython's text layer
    # drops the rest of a partial write without an error (silent too, but exit 0).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "CSOBOT_")) and k != "PYTHONUNBUFFERED"
    }
    return {**env, **extra}


@pytest.mark.parametrize(
    "argv",
    [
        ["kpi", "--json"],
        ["portfolio", "show"],
        ["renewals", "--json"],
        ["digest", "--dry-run", "--format", "md"],
        ["eval-flags"],
    ],
)
def test_a_pipe_closed_before_the_output_is_a_silent_exit_141(
    argv: list[str], portfolio_env: dict[str, str], tmp_path: Path
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before csobot writes a byte
    try:
        out = subprocess.run(
            [sys.executable, "-m", "bot", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=_env(portfolio_env),
            cwd=tmp_path,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert (out.returncode, out.stderr) == (141, "")


def test_head_closing_the_pipe_early_is_a_silent_exit_141(
    portfolio_env: dict[str, str], tmp_path: Path
) -> None:
    # `csobot digest --format html | head -1` through a real pipe. The pipe holds 4 KiB and the
    # page (its chart embedded) is far longer, so `head` closes it while csobot is still writing.
    argv = [sys.executable, "-m", "bot", "digest", "--dry-run", "--format", "html"]
    whole = subprocess.run(argv, env=_env(portfolio_env), cwd=tmp_path, capture_output=True)
    assert whole.returncode == 0 and len(whole.stdout) > 8 * PIPE_SIZE, whole.stderr[-500:]
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    head = subprocess.Popen(["head", "-1"], stdin=read_end, stdout=subprocess.PIPE)
    csobot = subprocess.Popen(
        argv, env=_env(portfolio_env), cwd=tmp_path, stdout=write_end, stderr=subprocess.PIPE
    )
    os.close(read_end)  # only `head` reads, only csobot writes
    os.close(write_end)
    first, _ = head.communicate(timeout=60)
    _, err = csobot.communicate(timeout=60)
    assert first == b"<!doctype html>\n"
    assert (csobot.returncode, err) == (141, b"")


# -- an unexpected failure -----------------------------------------------------------------------
def test_an_unexpected_failure_is_one_line_and_the_traceback_only_at_debug(
    portfolio_env: dict[str, str], tmp_path: Path
) -> None:
    # A hand-edited row the loaders don't expect: a client's contacts that are not a list.
    # (Organization settings edited by hand fall back to their defaults: see test_org_settings.)
    db = Database(portfolio_env["DATABASE_URL"])
    with db.transaction() as session:
        session.execute(update(Client).values(contacts=5))
    db.dispose()
    secret = "xoxb-1111-2222-s3cretvalue"
    env = {**portfolio_env, "SLACK_BOT_TOKEN": secret}
    out = run("metrics", env=env, cwd=tmp_path)
    assert out.returncode == 1
    assert re.fullmatch(
        r"csobot: metrics failed: [A-Za-z]+Error — rerun with CSOBOT_LOG_LEVEL=DEBUG for details",
        out.stderr.strip(),
    )
    assert out.stdout == ""
    debug = run("metrics", env={**env, "CSOBOT_LOG_LEVEL": "DEBUG"}, cwd=tmp_path)
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "'int' object is not iterable" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("csobot: metrics failed:")
    assert secret not in out.stderr + debug.stderr + out.stdout + debug.stdout


def test_slack_out_of_reach_when_posting_the_digest_is_one_line_and_exit_2(
    portfolio_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**portfolio_env, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": "http://127.0.0.1:1/api/"}
    out = run("digest", "--week", "2026-W47", "--format", "md", env=env, cwd=tmp_path)
    assert out.returncode == 2
    # The digest was printed; the one line says why it was not posted (not a privacy refusal).
    assert out.stdout.startswith("# Leadership digest")
    assert out.stderr.strip() == (
        "csobot: cannot reach Slack at http://127.0.0.1:1/api/ (connection refused): "
        "the 2026-W47 digest was not posted"
    )


def test_errors_logged_during_a_command_are_lines_not_tracebacks(
    portfolio_env: dict[str, str], tmp_path: Path
) -> None:
    # Enqueuers of a tick fail on a hand-edited row; each says so in one line.
    db = Database(portfolio_env["DATABASE_URL"])
    with db.transaction() as session:
        session.execute(update(Client).values(contacts=5))
    db.dispose()
    env = {**portfolio_env, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": "http://127.0.0.1:1/api/"}
    out = run("tick", "--now", "2026-11-20T15:05:00-05:00", env=env, cwd=tmp_path)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "csobot: enqueuer health failed\n" in out.stderr
    assert "  enqueuer health failed: TypeError" in out.stderr
    debug = run(
        "tick", "--now", "2026-11-20T15:05:00-05:00", env={**env, "CSOBOT_LOG_LEVEL": "DEBUG"}
    )
    assert "Traceback (most recent call last)" in debug.stderr
    assert TOKEN not in debug.stderr
