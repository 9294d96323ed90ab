"""/metrics over signed requests: every source's figures grouped by heading, for leadership
only; "no data" where nothing was recorded; a bad period says what to type."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from slack_sdk import WebClient

from scheduling.engine import tick
from tests.conftest import NY, BotHarness
from tests.metrics_helpers import record_quarter


def _blocks_text(bot: BotHarness) -> str:
    [call] = bot.emulator.calls("response_url")
    assert call["response_type"] == "ephemeral"
    return json.dumps(call["blocks"], ensure_ascii=False)


@pytest.mark.parametrize("user", ["U0HOD", "U0FND"])
def test_metrics_shows_every_figure_grouped_to_leadership(bot: BotHarness, user: str) -> None:
    record_quarter(bot.db)
    status, body = bot.command("/metrics", "2026Q4", user=user)
    assert status == 200 and body == ""
    bot.wait_response()
    text = _blocks_text(bot)
    assert "Leadership metrics — 2026Q4" in text
    assert "*Retention*" in text and "*Client value*" in text
    assert "Gross revenue retention: 87.0 % (target ≥ 90 %: off target)" in text
    assert "Logo retention: 50.0 %" in text
    assert "NPS: 25 (target 50+ or average 8.5+: off target)" in text
    assert text.index("*Retention*") < text.index("*Client value*")


def test_metrics_for_an_empty_month_says_no_data(bot: BotHarness) -> None:
    bot.command("/metrics", "2026-10", user="U0HOD")
    bot.wait_response()
    text = _blocks_text(bot)
    assert "Leadership metrics — 2026-10" in text
    assert "Gross revenue retention: no data (target ≥ 90 %)" in text
    assert "NPS: no data" in text


def test_metrics_defaults_to_this_quarter(bot: BotHarness) -> None:
    bot.command("/metrics", "", user="U0FND")  # the clock says 2026-11-20
    bot.wait_response()
    assert "Leadership metrics — 2026Q4" in _blocks_text(bot)


@pytest.mark.parametrize("user", ["U0CSO1", "U0SL1", "U0EXT1", "U0NOBODY"])
def test_metrics_refuses_everyone_else_and_leaks_nothing(bot: BotHarness, user: str) -> None:
    record_quarter(bot.db)
    bot.command("/metrics", "2026Q4", user=user)
    reply = bot.wait_response()
    assert reply.startswith("Sorry —")
    [call] = bot.emulator.calls("response_url")
    assert not call.get("blocks") and "%" not in reply and "retention" not in reply.lower()


def test_a_bad_period_is_answered_with_what_to_type(bot: BotHarness) -> None:
    status, ack = bot.command("/metrics", "last quarter", user="U0HOD")
    assert status == 200
    assert '"last quarter" is neither a quarter nor a month' in ack
    assert "`/metrics 2026Q4`" in ack and "`/metrics 2026-11`" in ack
    assert bot.emulator.calls("response_url") == []


# -- the monthly leadership section of the digest
def test_the_first_digest_of_a_month_reviews_the_month_just_ended(bot: BotHarness) -> None:
    record_quarter(bot.db)  # everything sits in November 2026
    bot.clock.set(datetime(2026, 12, 7, 10, tzinfo=NY))
    bot.command("/digest", "2026-W49", user="U0HOD")  # Nov 30 – Dec 6: out on Mon Dec 7
    bot.wait_response()
    text = _blocks_text(bot)
    assert "*November 2026 — Retention* — monthly review" in text
    assert "Gross revenue retention: 87.0 % (target ≥ 90 %: off target)" in text
    assert "*November 2026 — Client value*" in text


def test_the_other_digests_of_the_month_carry_no_review(bot: BotHarness) -> None:
    record_quarter(bot.db)
    bot.clock.set(datetime(2026, 12, 1, 10, tzinfo=NY))
    bot.command("/digest", "2026-W48", user="U0HOD")  # out on Mon Nov 30
    bot.wait_response()
    text = _blocks_text(bot)
    assert "Leadership digest — 2026-W48" in text
    assert "review" not in text and "Gross revenue retention" not in text


def test_the_scheduled_first_digest_of_december_posts_the_november_review(
    bot: BotHarness,
) -> None:
    record_quarter(bot.db)
    at = datetime(2026, 12, 7, 8, 0, tzinfo=NY)
    bot.clock.set(at)
    client = bot.web
    assert isinstance(client, WebClient)
    report = tick(bot.deps, client, at, bot.jobs)
    assert report.errors == {}
    posts = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "C0LEAD"]
    body = json.dumps([c.get("blocks") for c in posts], ensure_ascii=False)
    assert "November 2026 — Retention" in body
    assert "Logo retention: 50.0 %" in body
