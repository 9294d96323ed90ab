"""`csobot board fetch`, `qbr`, `ebr`, `audit` and `report` as real processes, against the
Linear and GitHub emulators: the board cached on demand, an unreachable API reported without a
traceback (and without the token), and the documents rendered from the cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.board_emulators import GitHubEmulator, LinearEmulator
from storage.db import Database
from tests.conftest import load_portfolio
from tests.e2e.test_cli import run
from tests.integration.board_helpers import (
    BOARD_PORTFOLIO,
    GITHUB_TOKEN,
    LINEAR_KEY,
    seed_board,
)

NOW = "2026-11-20T10:00:00-05:00"


@pytest.fixture
def emulators() -> Iterator[tuple[LinearEmulator, GitHubEmulator]]:
    with LinearEmulator(token=LINEAR_KEY) as lin, GitHubEmulator(token=GITHUB_TOKEN) as gh:
        seed_board(lin, gh)
        yield lin, gh


def _env(db_url: str, lin: LinearEmulator, gh: GitHubEmulator) -> dict[str, str]:
    db = Database(db_url)
    db.migrate()
    load_portfolio(db, BOARD_PORTFOLIO)
    db.dispose()
    return {
        "DATABASE_URL": db_url,
        "CSOBOT_NOW": NOW,
        "LINEAR_API_KEY": LINEAR_KEY,
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "LINEAR_API_URL": lin.url,
        "GITHUB_API_URL": gh.url,
    }


def test_fetch_on_demand_then_the_documents(
    db_url: str, emulators: tuple[LinearEmulator, GitHubEmulator], tmp_path: Path
) -> None:
    lin, gh = emulators
    env = _env(db_url, lin, gh)
    out = run("board", "fetch", env=env)
    assert out.returncode == 0, out.stderr
    assert "acme: linear 8 items cached" in out.stdout  # 5 issues and 3 milestones
    assert "acme: github 3 items cached" in out.stdout
    report = run("report", "acme", "--week", "2026-W47", env=env)
    assert report.returncode == 0, report.stderr
    assert "# Client Health Report: Acme Corp" in report.stdout and "LIN-150" in report.stdout
    html = run("ebr", "acme", "--quarter", "2026Q4", "--format", "html", env=env)
    assert html.returncode == 0 and "Next Roadmap Increment" in html.stdout
    audit = run("audit", "acme", "--month", "2026-11", env=env)
    assert audit.returncode == 0 and "| feature only |" in audit.stdout
    target = tmp_path / "qbr.md"
    qbr = run("qbr", "acme", "--quarter", "2026Q4", "--output", str(target), env=env)
    assert qbr.returncode == 0 and target.read_text().startswith("# Quarterly Business Review")
    bad = run("audit", "acme", "--month", "2026-13", env=env)
    assert bad.returncode == 2 and "not a month" in bad.stderr


def test_an_unreachable_api_is_one_line_without_the_token(
    db_url: str, emulators: tuple[LinearEmulator, GitHubEmulator]
) -> None:
    lin, gh = emulators
    env = _env(db_url, lin, gh) | {"LINEAR_API_URL": "http://127.0.0.1:9"}
    out = run("board", "fetch", "acme", env=env)
    assert out.returncode == 1
    assert "acme: linear unreachable (cannot connect" in out.stdout
    assert "acme: github 3 items cached" in out.stdout
    assert "Traceback" not in out.stderr
    assert LINEAR_KEY not in out.stdout + out.stderr and GITHUB_TOKEN not in out.stdout + out.stderr
    none = run("board", "fetch", "globex", env=env)
    assert none.returncode == 2 and "names no board" in none.stderr
