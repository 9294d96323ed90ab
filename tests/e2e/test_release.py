"""Migrations are a release step: `csobot db upgrade` migrates; `csobot serve` and `csobot
scheduler` never do — on an empty or outdated schema they refuse to start and name the command."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from storage.db import Database, alembic_config
from tests.conftest import BACKENDS
from tests.e2e.test_cli import run


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new database with no tables at all (a new SQLite file, or a new PostgreSQL
    database when TEST_DATABASE_URL is set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/new.db"
        return
    admin_url = os.environ["TEST_DATABASE_URL"]
    name = f"csobot_release_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _serve_env(url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-release",
        "SLACK_SIGNING_SECRET": "release-secret",
        # Nothing listens here: the schema check comes first, Slack is never asked.
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "CSOBOT_SCHEDULER": "false",
    }


def _outdate(url: str) -> None:
    """Take one feature's newest migration back out, as an older release left the schema."""
    engine = create_engine(url)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012_connectors@-1")
    engine.dispose()


def test_db_upgrade_creates_then_says_up_to_date(empty_db_url: str, tmp_path: Path) -> None:
    first = run("db", "upgrade", env={"DATABASE_URL": empty_db_url}, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Created the database schema")
    assert "up to date" not in first.stdout
    assert "client" in _tables(empty_db_url)

    again = run("db", "upgrade", env={"DATABASE_URL": empty_db_url}, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "The database schema is already up to date; nothing to do."

    _outdate(empty_db_url)
    upgraded = run("db", "upgrade", env={"DATABASE_URL": empty_db_url}, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.startswith("Upgraded the database schema from ")
    assert Database(empty_db_url).schema_state().current


@pytest.mark.parametrize("command", ["serve", "scheduler"])
def test_serve_and_scheduler_refuse_an_empty_schema(
    empty_db_url: str, tmp_path: Path, command: str
) -> None:
    out = run(command, env=_serve_env(empty_db_url), cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("csobot: ")]
    assert lines == [
        "csobot: the database has no schema yet: run `csobot db upgrade` first (a release step)"
    ], out.stderr
    assert "Traceback" not in out.stderr
    assert _tables(empty_db_url) == set()  # it did not migrate behind the operator's back


@pytest.mark.parametrize("command", ["serve", "scheduler"])
def test_serve_and_scheduler_refuse_an_outdated_schema(
    empty_db_url: str, tmp_path: Path, command: str
) -> None:
    assert run("db", "upgrade", env={"DATABASE_URL": empty_db_url}, cwd=tmp_path).returncode == 0
    _outdate(empty_db_url)
    out = run(command, env=_serve_env(empty_db_url), cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "csobot: the database schema is outdated: run `csobot db upgrade` first" in out.stderr
    assert "Traceback" not in out.stderr
    assert not Database(empty_db_url).schema_state().current  # still as the operator left it


def test_a_schema_from_a_newer_release_is_named(empty_db_url: str, tmp_path: Path) -> None:
    assert run("db", "upgrade", env={"DATABASE_URL": empty_db_url}, cwd=tmp_path).returncode == 0
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999_future')"))
    engine.dispose()
    for argv in (("db", "upgrade"), ("serve",)):
        out = run(*argv, env=_serve_env(empty_db_url), cwd=tmp_path)
        assert out.returncode == 2, out.stdout + out.stderr
        assert "the database schema is newer than this csobot (9999_future)" in out.stderr


def test_procfile_runs_the_upgrade_as_the_release_step() -> None:
    procfile = Path(__file__).resolve().parents[2] / "Procfile"
    lines = dict(line.split(": ", 1) for line in procfile.read_text().splitlines() if line)
    assert lines["release"] == "csobot db upgrade"
    assert lines["web"] == "csobot serve"
