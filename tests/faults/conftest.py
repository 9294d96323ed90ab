"""Fixtures for the fault suite: `csobot serve` as a real process, on a database of its own.

- `fault_db_url`: a fresh migrated database, SQLite and (when TEST_DATABASE_URL is set) a private
  PostgreSQL database created for the test and dropped after it.
- `private_pg_url`: the PostgreSQL one alone (skipped without TEST_DATABASE_URL).
- `sqlite_url`: the SQLite one alone.
- `emulator`: the Slack emulator, noting which response_url each reply went to.
- `serve`: a `ServeFactory` (start, restart; every process is killed at teardown).
- `llm`: the local OpenAI-compatible server (tests/llm_server.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, SECRET
from tests.faults.harness import (
    ServeFactory,
    TrackingEmulator,
    create_private_database,
    drop_private_database,
)
from tests.llm_server import FakeLLMServer


@pytest.fixture
def private_pg_url() -> Iterator[str]:
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL is not set")
    url = create_private_database(admin_url)
    try:
        yield url
    finally:
        drop_private_database(admin_url, url)


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "csobot.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=BACKENDS)
def fault_db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "private_pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def emulator() -> Iterator[TrackingEmulator]:
    emu = TrackingEmulator()
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def serve(emulator: TrackingEmulator, tmp_path: Path) -> Iterator[ServeFactory]:
    factory = ServeFactory(emulator=emulator, secret=SECRET, workdir=tmp_path / "serve")
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server
