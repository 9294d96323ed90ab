"""Story vs board end to end: the team's messages in the client channel (signed events), the
board fetched from the two emulators by the tick, each mismatch kind nudged to the CSO once,
and the /health breakdown showing them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import select

from devkit.board_emulators import GitHubEmulator, LinearEmulator
from scheduling import connector_jobs
from scheduling.engine import tick
from storage.models import Nudge, Touchpoint
from tests.conftest import NY, BotHarness, wait_until
from tests.integration.board_helpers import connect, github, linear, seed_board

__all__ = ["github", "linear"]  # fixtures


def _web(bot: BotHarness) -> WebClient:
    assert isinstance(bot.web, WebClient)
    return bot.web


def _story_nudges(bot: BotHarness) -> list[Nudge]:
    with bot.db.session() as s:
        # in the order they were written (PostgreSQL returns updated rows in any order)
        stmt = select(Nudge).where(Nudge.cadence_id == "story_mismatch").order_by(Nudge.id)
        return list(s.scalars(stmt))


def _tell(bot: BotHarness, text: str, at: datetime) -> None:
    before = _count(bot)
    bot.message("C0ACME", "U0CSO1", text, at)
    wait_until(lambda: _count(bot) > before)


def _count(bot: BotHarness) -> int:
    with bot.db.session() as s:
        return len(list(s.scalars(select(Touchpoint.id))))


def test_each_mismatch_kind_is_nudged_once_and_shown_on_health(
    bot: BotHarness, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    seed_board(linear, github)
    connect(bot, linear.url, github.url)
    now = datetime(2026, 11, 20, 10, 0, tzinfo=NY)
    _tell(bot, "Great news: the attribution model shipped on Tuesday!", now - timedelta(days=3))
    _tell(bot, "The churn forecast notebook is on track for you.", now - timedelta(days=2))

    report = tick(bot.deps, _web(bot), now.astimezone(UTC), connector_jobs.ENQUEUERS)
    assert report.errors == {}
    nudges = _story_nudges(bot)
    kinds = sorted(n.data["kind"] for n in nudges)
    assert kinds == [
        "blocked_unmentioned",
        "milestone_name",
        "milestone_slipped",
        "told_done",
        "told_on_track",
    ]
    assert {n.target for n in nudges} == {"U0CSO1"}
    assert all(n.status == "sent" for n in nudges)
    told_done = next(n for n in nudges if n.data["kind"] == "told_done")
    assert "LIN-142" in told_done.text and "In Review" in told_done.text
    assert "PR #88" in told_done.text and "unmerged" in told_done.text
    dm_texts = " ".join(
        str(c.params.get("text", "")) + str(c.params.get("blocks", ""))
        for c in bot.emulator.calls("chat.postMessage")
    )
    for fragment in ("LIN-142", "LIN-150", "LIN-151", "Self-serve onboarding", "Sprint 12"):
        assert fragment in dm_texts
    posts = len(bot.emulator.calls("chat.postMessage"))

    # The next scans find the same mismatches: nothing new is written or sent.
    for later in (timedelta(hours=1), timedelta(days=1)):
        again = tick(bot.deps, _web(bot), (now + later).astimezone(UTC), connector_jobs.ENQUEUERS)
        assert again.errors == {}
        assert sum(again.enqueued.values()) == 0
    assert len(_story_nudges(bot)) == 5
    assert len(bot.emulator.calls("chat.postMessage")) == posts

    # A new mismatch once the board is refetched: only it is nudged.
    linear.add_issue("LIN", 170, "Invoice parser", state="Blocked", project="Attribution")
    at = (now + timedelta(days=1, hours=1)).astimezone(UTC)
    later = tick(bot.deps, _web(bot), at, connector_jobs.ENQUEUERS)
    assert later.enqueued["story_scan"] == 1
    assert len(_story_nudges(bot)) == 6
    assert "LIN-170" in _story_nudges(bot)[-1].text

    status, _ = bot.command("/health", "acme")
    assert status == 200
    bot.settle()
    calls = bot.emulator.wait_for("response_url", count=1)
    shown = str(calls[-1].params.get("blocks", ""))
    assert "Story vs board" in shown and "LIN-142" in shown and "Linear fetched" in shown
