"""/brief over signed requests, without a model: every fact linked to its source, the board
from the emulators (cached by the tick), the Triangle Sync's story-vs-board part, and a board
that cannot be read said plainly while the brief still comes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import select

from devkit.board_emulators import GitHubEmulator, LinearEmulator
from scheduling import connector_jobs
from scheduling.engine import tick
from storage.models import Touchpoint
from tests.conftest import NY, BotHarness, wait_until
from tests.integration.board_helpers import connect, github, linear, seed_board

__all__ = ["github", "linear"]  # fixtures

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=NY)


def _web(bot: BotHarness) -> WebClient:
    assert isinstance(bot.web, WebClient)
    return bot.web


def _tell(bot: BotHarness, text: str, at: datetime) -> None:
    bot.message("C0ACME", "U0CSO1", text, at)
    wait_until(lambda: _has(bot, text[:20]))


def _has(bot: BotHarness, fragment: str) -> bool:
    with bot.db.session() as s:
        return any(fragment in t for t in s.scalars(select(Touchpoint.excerpt)))


def brief(bot: BotHarness, text: str, n: int) -> str:
    status, _ = bot.command("/brief", text)
    assert status == 200
    bot.settle()
    calls = bot.emulator.wait_for("response_url", count=n)
    call = calls[n - 1]
    return str(call.params.get("text", "")) + "\n" + str(call.params.get("blocks", ""))


def _ready(bot: BotHarness, linear: LinearEmulator, github: GitHubEmulator) -> None:
    seed_board(linear, github)
    connect(bot, linear.url, github.url)
    _tell(bot, "Great news: the attribution model shipped on Tuesday!", NOW - timedelta(days=3))
    report = tick(bot.deps, _web(bot), NOW.astimezone(UTC), connector_jobs.ENQUEUERS)
    assert report.errors == {}


def test_brief_without_a_model_lists_every_fact_with_its_link(
    bot: BotHarness, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    _ready(bot, linear, github)
    text = brief(bot, "acme", 1)
    assert "Brief: Acme Corp — weekly presentation" in text
    assert "(from the record)" in text
    # Board progress: done, in progress, blocked, slipped; the merged PR; each linked.
    assert "<https://linear.app/acme/issue/lin-143|LIN-143>" in text  # done this week
    assert "<https://linear.app/acme/issue/lin-142|LIN-142>" in text  # in progress
    assert "<https://linear.app/acme/issue/lin-150|LIN-150>" in text  # blocked
    assert "<https://linear.app/acme/issue/lin-151|LIN-151>" in text  # slipped
    assert "<https://github.com/acme/analytics/pull/87|acme/analytics#87>" in text  # merged
    assert "attribution model shipped" in text  # last week's touchpoint, linked to its message
    assert re.search(r"<https://slack\.com/archives/C0ACME/p\d+\|tp\d+> slack", text)
    assert "Suggested agenda" in text and "Decisions needed" in text
    assert "How to unblock LIN-150" in text and "A new date for LIN-151" in text
    assert "Story vs board" not in text  # that is the Triangle Sync's


def test_the_triangle_sync_brief_carries_the_story_vs_board_mismatches(
    bot: BotHarness, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    _ready(bot, linear, github)
    text = brief(bot, "acme triangle", 1)
    assert "Triangle Sync" in text and "Story vs board" in text
    assert "LIN-142 is still In Review" in text and "PR #88 unmerged" in text
    assert "Set the story and the board right" in text


def test_an_unreachable_board_is_said_and_the_brief_still_comes(
    bot: BotHarness, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    _ready(bot, linear, github)
    linear.go_down()  # Linear drops every connection
    later = NOW + timedelta(hours=1, minutes=40)  # 11:40 in New York, 10:40 in Chicago
    bot.clock.set(later)
    report = tick(bot.deps, _web(bot), later.astimezone(UTC), connector_jobs.ENQUEUERS)
    assert report.errors == {}
    text = brief(bot, "acme", 1)
    assert "Linear unreachable since 10:40" in text  # the client's zone (Chicago)
    assert "LIN-142" in text  # the last good board is still shown
    assert "acme/analytics#87" in text  # GitHub still fine


def test_a_board_never_reached_is_said_too(bot: BotHarness) -> None:
    connect(bot, "http://127.0.0.1:9", "http://127.0.0.1:9")
    report = tick(bot.deps, _web(bot), NOW.astimezone(UTC), connector_jobs.ENQUEUERS)
    assert report.errors == {}
    text = brief(bot, "acme", 1)
    assert "Linear unreachable since 09:00" in text and "nothing cached yet" in text
    assert "GitHub unreachable since 09:00" in text


def test_bad_input_and_strangers(bot: BotHarness) -> None:
    status, body = bot.command("/brief", "")
    assert status == 200 and "Usage: `/brief acme" in body
    status, body = bot.command("/brief", "acme standup")
    assert "Unknown meeting" in body
    text = brief(bot, "acmee", 1)
    assert "acme" in text  # did you mean
    status, _ = bot.command("/brief", "acme", user="U0EXT1")  # a client contact
    bot.settle()
    refused = str(bot.emulator.wait_for("response_url", count=2)[1].params.get("text", ""))
    assert "Brief" not in refused
    text = brief(bot, "acme", 3)
    assert "No Linear or GitHub board is configured" in text


def test_briefs_go_out_before_the_triangle_sync_and_the_weekly_presentation_once(
    bot: BotHarness, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    from scheduling import brief_jobs
    from storage.models import Nudge

    def at(moment: datetime) -> int:
        report = tick(bot.deps, _web(bot), moment.astimezone(UTC), brief_jobs.ENQUEUERS)
        assert report.errors == {}
        return sum(report.enqueued.values())

    def briefs(meeting: str) -> list[Nudge]:
        with bot.db.session() as s:
            rows = s.scalars(select(Nudge).where(Nudge.cadence_id == "meeting_brief"))
            return [r for r in rows if r.data["meeting"] == meeting and "Acme Corp" in r.text]

    seed_board(linear, github)
    connect(bot, linear.url, github.url)
    assert at(datetime(2026, 11, 17, 8, 50, tzinfo=NY)) == 0  # Tuesday: no meeting

    wednesday = datetime(2026, 11, 18, 8, 50, tzinfo=NY)  # the Triangle Sync is at 11:00
    tick(bot.deps, _web(bot), wednesday.astimezone(UTC), connector_jobs.ENQUEUERS)
    assert at(wednesday) > 0
    assert {r.status for r in briefs("triangle")} == {"pending"}  # due at 09:00
    assert at(wednesday + timedelta(minutes=10)) == 0  # written once, not rebuilt
    rows = briefs("triangle")
    assert sorted(r.target for r in rows) == ["U0CSO1", "U0EP1", "U0SL1"]
    assert all(r.status == "sent" and "Triangle Sync" in r.text for r in rows)
    flat = str(rows[0].blocks)
    assert "is blocked and the client was not told" in flat
    assert "Why:" in flat and "/cso prefs" in flat
    dms = [c for c in bot.emulator.calls("chat.postMessage") if "Brief: Acme" in str(c.params)]
    assert len(dms) == 3

    thursday = datetime(2026, 11, 19, 13, 50, tzinfo=NY)  # Friday's preparation is at 14:00
    assert at(thursday) > 0
    assert at(thursday + timedelta(minutes=10)) == 0
    assert [(r.target, r.status) for r in briefs("weekly")] == [("U0CSO1", "sent")]
