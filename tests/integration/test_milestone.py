"""/milestone acme "Attribution v2" close over signed requests, the board from the emulators:
refused while an issue is not Done (listed), then the completion summary in the update form,
sent to the client channel."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk import WebClient

from devkit.board_emulators import GitHubEmulator, LinearEmulator
from scheduling import connector_jobs
from scheduling.engine import tick
from storage import connector_store
from tests.conftest import NY, BotHarness
from tests.integration.board_helpers import connect, github, linear, seed_board
from tests.integration.test_client_update import draft_of, opened_view, submit
from usecases.connector_actions import refresh_client

__all__ = ["github", "linear"]  # fixtures

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=NY)


def _reply(bot: BotHarness, text: str, n: int) -> str:
    status, _ = bot.command("/milestone", text)
    assert status == 200
    bot.settle()
    return str(bot.emulator.wait_for("response_url", count=n)[n - 1].params.get("text", ""))


def _refetch(bot: BotHarness) -> None:
    with bot.db.session() as tx:
        sources = connector_store.all_sources(tx)
    [(client_id, src)] = sources.items()
    refresh_client(bot.deps, client_id, src, bot.clock.now())


def test_close_refuses_while_issues_are_open_then_drafts_the_summary(
    bot: BotHarness, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    seed_board(linear, github)
    connect(bot, linear.url, github.url)
    web = bot.web
    assert isinstance(web, WebClient)
    assert tick(bot.deps, web, NOW.astimezone(UTC), connector_jobs.ENQUEUERS).errors == {}

    text = _reply(bot, 'acme "Attribution v2" close', 1)
    assert "can't close yet: 1 of its 2 issues is not Done" in text
    assert "<https://linear.app/acme/issue/lin-142|LIN-142>" in text and "In Review" in text
    assert "LIN-143" not in text  # Done: not listed
    assert bot.emulator.calls("views.open") == []

    # LIN-142 moves to Done in Linear; the board is fetched again.
    issue = next(i for i in linear.issues if i["identifier"] == "LIN-142")
    issue["state"] = {"name": "Done", "type": "completed"}
    _refetch(bot)
    text = _reply(bot, "acme “attribution v2” close", 2)
    assert "is done: the completion summary for Acme Corp is open" in text
    view = opened_view(bot)
    assert view["title"]["text"] == "Phase complete"
    draft = draft_of(view)
    assert draft.startswith("Status: Attribution v2 is complete: Attribution model v2; ")
    assert "Risks: Warehouse sync (blocked)" in draft
    assert "Next: we start Sprint 12 (target Dec 10)." in draft

    status, _ = submit(bot, view, draft.replace("[date]", "Friday"), anyway=True)
    assert status == 200
    bot.settle()
    posts = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "C0ACME"]
    assert len(posts) == 1 and "Attribution v2 is complete" in str(posts[0].params)


def test_unknown_milestone_bad_words_and_no_board(
    bot: BotHarness, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    text = _reply(bot, 'acme "Attribution v2" close', 1)
    assert "has no Linear board" in text
    seed_board(linear, github)
    connect(bot, linear.url, github.url)
    _refetch(bot)
    text = _reply(bot, 'acme "Atribution v2" close', 2)
    assert "No milestone “Atribution v2”" in text and "Did you mean “attribution v2”" in text
    _, body = bot.command("/milestone", 'acme "Attribution v2" open')
    assert "Unknown action `open`" in body and "Usage:" in body
    _, body = bot.command("/milestone", "acme")
    assert "Usage:" in body
