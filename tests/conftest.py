"""Test harness: a fresh database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is
set), the Slack Web API emulator on loopback, and the real app behind a real HTTP server."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_bolt import App
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.runtime import Service, build_deps, build_service
from bot.server import ServerThread
from bot.settings import Settings
from devkit.emulator import SlackEmulator
from devkit.signing import event_body, interaction_body, post_signed, slash_command_body
from domain.portfolio import parse_portfolio
from storage.db import Database
from storage.models import Base
from storage.portfolio_store import import_portfolio
from tests.llm_server import FakeLLMServer
from usecases.clock import FixedClock

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
NY = ZoneInfo("America/New_York")
SAMPLE_PORTFOLIO = files("devkit").joinpath("sample_portfolio.yaml").read_text()

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


# -- databases ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str]:
    """A private database for this test session, migrated once, dropped at the end."""
    admin_url = os.environ["TEST_DATABASE_URL"]
    name = f"csobot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.migrate()
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "csobot.db"
        shutil.copy(_sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("_postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


def load_portfolio(db: Database, yaml_text: str = SAMPLE_PORTFOLIO) -> None:
    with db.transaction() as session:
        import_portfolio(session, parse_portfolio(yaml_text))


# -- Slack -------------------------------------------------------------------------------------
@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        yield emu


class BotHarness:
    """The real app on a real HTTP server, driven with signed requests like Slack's."""

    def __init__(self, service: Service, emulator: SlackEmulator, server: ServerThread):
        deps = service.deps
        self.service = service
        self.deps = deps
        self.settings = service.settings
        assert deps.slack is not None
        self.web = deps.slack  # the bot's Web API client
        self.jobs = service.jobs  # every feature's enqueuers, in order (bot/features.py)
        self.app: App = service.app
        self.inbox = service.inbox
        self.db = deps.db
        self.clock: FixedClock = deps.clock  # type: ignore[assignment]
        self.emulator = emulator
        self.server = server
        self.url = server.url + "/slack/events"
        self._n = 0

    def post(self, body: bytes, **kwargs: Any) -> tuple[int, bytes]:
        return post_signed(self.url, SECRET, body, **kwargs)

    def command(
        self, command: str, text: str = "", *, user: str = "U0CSO1", channel: str = "C0STANDUP"
    ) -> tuple[int, str]:
        self._n += 1
        body = slash_command_body(
            command,
            text,
            user_id=user,
            channel_id=channel,
            response_url=self.emulator.response_url(f"r{self._n}"),
            trigger_id=f"trig-{uuid.uuid4().hex[:8]}",
        )
        status, raw = self.post(body)
        return status, raw.decode()

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, **kwargs: Any
    ) -> tuple[int, bytes]:
        return self.post(event_body(event, event_id=event_id), **kwargs)

    def message(
        self,
        channel: str,
        user: str,
        text: str,
        at: datetime,
        *,
        event_id: str | None = None,
        **extra: Any,
    ) -> tuple[int, bytes]:
        ts = f"{at.timestamp():.6f}"
        event = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": "channel",
            **extra,
        }
        return self.event(event, event_id=event_id)

    def interact(self, payload: dict[str, Any]) -> tuple[int, bytes]:
        return self.post(interaction_body(payload))

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every acknowledged request's work is done (no sleeps)."""
        assert self.inbox.settle(timeout), "the inbox did not settle"

    def responses(self) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.emulator.calls("response_url")]

    def wait_response(self, count: int = 1, timeout: float = 5.0) -> str:
        calls = self.emulator.wait_for("response_url", count=count, timeout=timeout)
        return str(calls[count - 1].params.get("text", ""))


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


@pytest.fixture
def settings(db_url: str, emulator: SlackEmulator, tmp_path: Path) -> Settings:
    return Settings(
        SLACK_BOT_TOKEN=TOKEN,  # type: ignore[call-arg]
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=emulator.api_url,
        DATABASE_URL=db_url,
        CSOBOT_SCHEDULER=False,
        CSOBOT_SPOOL_DIR=str(tmp_path / "spool"),
        _env_file=None,
    )


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    """The local OpenAI-compatible model server (real HTTP, loopback)."""
    with FakeLLMServer() as server:
        yield server


def with_model(settings: Settings, llm: FakeLLMServer, *, timeout: float = 0.5) -> Settings:
    """The test settings with the local model server configured; a test module that talks to
    the model overrides `settings` with this."""
    return settings.model_copy(
        update={"openai_base_url": llm.base_url, "model": "test-model", "llm_timeout": timeout}
    )


@pytest.fixture
def clock() -> FixedClock:
    # Friday 2026-11-20, 10:00 in New York.
    return FixedClock(datetime(2026, 11, 20, 10, 0, tzinfo=NY))


@pytest.fixture
def bot(
    settings: Settings, db: Database, emulator: SlackEmulator, clock: FixedClock
) -> Iterator[BotHarness]:
    load_portfolio(db)
    deps = build_deps(settings, clock=clock, db=db, migrate=False)
    service = build_service(deps, settings, sweep_every=0.2)
    server = ServerThread(service.wsgi, threads=8).start()
    service.inbox.start()
    yield BotHarness(service, emulator, server)
    server.stop()
    service.inbox.stop(5)
