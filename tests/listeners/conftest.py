"""A fast layer: the real Bolt app (every feature registered, every middleware), driven in
process with `app.dispatch` and a signed `BoltRequest` — no HTTP server, no inbox. The work
after the ack then runs inline, so a test reads the database and Slack's calls right away.
The Slack Web API and response_url are the emulator's (a thread, not a process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App, BoltRequest, BoltResponse

from bot.app import create_app
from bot.runtime import build_deps
from bot.settings import Settings
from devkit.emulator import SlackEmulator
from devkit.signing import sign, slash_command_body
from storage.db import Database
from tests.conftest import SECRET, load_portfolio
from usecases.clock import FixedClock
from usecases.deps import Deps


class Listeners:
    def __init__(self, app: App, deps: Deps, emulator: SlackEmulator):
        self.app = app
        self.deps = deps
        self.db = deps.db
        self.emulator = emulator

    def command(self, command: str, text: str = "", *, user: str = "U0CSO1") -> BoltResponse:
        body = slash_command_body(
            command,
            text,
            user_id=user,
            response_url=self.emulator.response_url(uuid.uuid4().hex[:6]),
            trigger_id=f"trig-{uuid.uuid4().hex[:8]}",
        ).decode()
        headers: dict[str, Any] = {
            "content-type": "application/x-www-form-urlencoded",
            **{k.lower(): v for k, v in sign(SECRET, body.encode()).items()},
        }
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def replies(self) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.emulator.calls("response_url")]


@pytest.fixture
def listeners(
    settings: Settings, db: Database, emulator: SlackEmulator, clock: FixedClock
) -> Iterator[Listeners]:
    load_portfolio(db)
    deps = build_deps(settings, clock=clock, db=db, migrate=False)
    yield Listeners(create_app(deps, settings, token_verification=False), deps, emulator)
