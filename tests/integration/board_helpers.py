"""Shared by the board tests: acme with a Linear team and a GitHub repository, both emulators
seeded with a small board, and the bot's connectors pointed at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors import Connectors, RetryPolicy
from devkit.board_emulators import GitHubEmulator, LinearEmulator
from tests.conftest import SAMPLE_PORTFOLIO, BotHarness, load_portfolio

LINEAR_KEY = "lin_api_SECRET_do_not_log_1234"
GITHUB_TOKEN = "ghp_SECRET_do_not_log_5678"
REPO = "acme/analytics"

BOARD_PORTFOLIO = SAMPLE_PORTFOLIO.replace(
    "    contacts: [U0EXT1]\n",
    "    contacts: [U0EXT1]\n"
    "    linear: {team: LIN, project: Attribution}\n"
    f"    github: [{REPO}]\n",
    1,
)


@pytest.fixture
def linear() -> Iterator[LinearEmulator]:
    with LinearEmulator(token=LINEAR_KEY) as emu:
        yield emu


@pytest.fixture
def github() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(token=GITHUB_TOKEN) as emu:
        yield emu


def seed_board(linear: LinearEmulator, github: GitHubEmulator) -> None:
    """Attribution v2 (due Nov 30): LIN-142 In Review with PR #88 open, LIN-143 Done with
    PR #87 merged; LIN-150 blocked; LIN-151 past due; a "Sprint 12" milestone; "Self-serve
    onboarding" (due Nov 13) slipped with LIN-160 open."""
    linear.add_project(
        "LIN",
        "Attribution",
        [
            ("Attribution v2", "2026-11-30"),
            ("Sprint 12", "2026-12-10"),
            ("Self-serve onboarding", "2026-11-13"),
        ],
    )
    linear.add_issue(
        "LIN", 142, "Attribution model v2", state="In Review", state_type="started",
        project="Attribution", milestone="Attribution v2", assignee="Lee Park",
    )  # fmt: skip
    linear.add_issue(
        "LIN", 143, "Dashboard export to CSV", state="Done", state_type="completed",
        project="Attribution", milestone="Attribution v2", completed="2026-11-18T16:00:00Z",
    )  # fmt: skip
    linear.add_issue(
        "LIN", 150, "Warehouse sync", state="Blocked", state_type="started",
        project="Attribution",
    )  # fmt: skip
    linear.add_issue(
        "LIN", 151, "Churn forecast notebook", state="Todo", state_type="unstarted",
        project="Attribution", due="2026-11-18",
    )  # fmt: skip
    linear.add_issue(
        "LIN", 160, "Onboarding checklist emails", state="In Progress", state_type="started",
        project="Attribution", milestone="Self-serve onboarding",
    )  # fmt: skip
    github.add_pull(REPO, 88, "LIN-142 attribution model v2", branch="lee/lin-142")
    github.add_pull(
        REPO, 87, "LIN-143 CSV export", branch="lee/lin-143", merged_at="2026-11-18T15:30:00Z"
    )
    github.add_release(REPO, "v1.4.0", "2026-11-18T17:00:00Z")


def connect(bot: BotHarness, linear_url: str, github_url: str) -> Connectors:
    load_portfolio(bot.db, BOARD_PORTFOLIO)
    connectors = Connectors.build(
        linear_key=LINEAR_KEY,
        github_token=GITHUB_TOKEN,
        linear_url=linear_url,
        github_url=github_url,
        policy=RetryPolicy(attempts=2, backoff=0.01, max_wait=2, timeout=2),
    )
    bot.deps.connectors = connectors
    return connectors
