"""Loops that must close, driven by the tick (enqueuers + the exactly-once outbox)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from slack_sdk import WebClient

from scheduling import flag_jobs as flag_loops
from storage.models import ClientQuestion, InternalMessage, Organization
from tests.conftest import NY, BotHarness, wait_until
from tests.integration.flag_helpers import (
    SCOPE_TEXT,
    TS,
    action_ids,
    click,
    flags,
    posts,
    reaction,
    settle,
)
from usecases.outbox import deliver_due

FRI = datetime(2026, 11, 20, 9, 45, tzinfo=NY)


def web(bot: BotHarness) -> WebClient:
    client: WebClient = bot.web
    return client


def run(bot: BotHarness, at: datetime) -> int:
    """A tick of the loops only (the cadence, health and digest enqueuers have their tests)."""
    for _name, enqueue in flag_loops.ENQUEUERS:
        enqueue(bot.deps, at)
    return sum(len(d.keys) for d in deliver_due(bot.db, web(bot), at) if d.ok)


def dms(bot: BotHarness, user: str) -> list[str]:
    return [p["text"] for p in posts(bot, user)]


# -- (a) an open flag with no decision ---------------------------------------------------------
def open_a_flag(bot: BotHarness) -> int:
    bot.emulator.add_message("C0ACME", TS, SCOPE_TEXT, "U0EXT1")
    reaction(bot, "U0CSO1")  # the clock: Friday 10:00 New York = 09:00 in Chicago (acme)
    [flag] = wait_until(lambda: (f := flags(bot)) and f[0].post_ts and f)
    return flag.id


def test_an_undecided_flag_nudges_the_cso_after_1_business_day_then_the_service_lead(
    bot: BotHarness,
) -> None:
    flag_id = open_a_flag(bot)
    assert run(bot, datetime(2026, 11, 20, 16, tzinfo=NY)) == 0
    assert run(bot, datetime(2026, 11, 23, 9, 55, tzinfo=NY)) == 0  # Monday, not yet 1 day
    assert run(bot, datetime(2026, 11, 23, 10, 5, tzinfo=NY)) == 1
    [cso] = dms(bot, "U0CSO1")
    assert "Your flag on *Acme Corp* has waited 1 business day for a decision" in cso
    assert "potential scope creep" in cso and "one more chart" in cso
    assert run(bot, datetime(2026, 11, 23, 15, tzinfo=NY)) == 0  # exactly once
    assert dms(bot, "U0SL1") == []
    assert run(bot, datetime(2026, 11, 24, 10, 5, tzinfo=NY)) == 1
    [sl_post] = posts(bot, "U0SL1")
    assert (
        "waited 2 business days" in sl_post["text"] and "<@U0CSO1> was reminded" in sl_post["text"]
    )
    assert action_ids(sl_post) == ["flag_in_scope", "flag_change_request", "flag_resolved"]
    # Deciding from the reminder DM updates the internal post and just that DM's buttons.
    bot.clock.at = datetime(2026, 11, 24, 10, 30, tzinfo=NY)
    click(
        bot,
        "flag_resolved",
        str(flag_id),
        user="U0SL1",
        channel="D0SL1",
        ts="9.000001",
        blocks=sl_post["blocks"],
    )
    updates = bot.emulator.wait_for("chat.update", count=2)
    by_channel = {u["channel"]: u for u in updates}
    assert action_ids(by_channel["C0ACMEINT"]) == [] and action_ids(by_channel["D0SL1"]) == []
    assert "*Resolved* — decided by <@U0SL1> on 2026-11-24" in json.dumps(
        by_channel["D0SL1"]["blocks"], ensure_ascii=False
    )
    assert flags(bot)[0].decision == "resolved"


def test_a_decided_flag_nudges_no_one(bot: BotHarness) -> None:
    flag_id = open_a_flag(bot)
    ts = str(flags(bot)[0].post_ts)
    click(bot, "flag_in_scope", str(flag_id), user="U0CSO1", channel="C0ACMEINT", ts=ts)
    wait_until(lambda: flags(bot)[0].status == "decided")
    assert run(bot, datetime(2026, 11, 25, 12, tzinfo=NY)) == 0


def test_a_flag_over_the_weekend_and_thanksgiving_counts_business_days(bot: BotHarness) -> None:
    bot.clock.at = datetime(2026, 11, 25, 10, tzinfo=NY)  # Wednesday before Thanksgiving
    open_a_flag(bot)
    # Thursday is a US holiday: one business day later is Friday 09:00 Chicago (10:00 NY).
    assert run(bot, datetime(2026, 11, 26, 12, tzinfo=NY)) == 0
    assert run(bot, datetime(2026, 11, 27, 9, 55, tzinfo=NY)) == 0
    assert run(bot, datetime(2026, 11, 27, 10, 5, tzinfo=NY)) == 1


# -- (b) a client question with no team reply --------------------------------------------------
def ask(bot: BotHarness, at: datetime = FRI, **extra: str) -> None:
    bot.message("C0ACME", "U0EXT1", "Where can I find the Q3 numbers?", at, **extra)
    wait_until(lambda: _count(bot, ClientQuestion))


def _count(bot: BotHarness, model: type) -> int:
    with bot.db.session() as s:
        return s.query(model).count()


def test_an_unanswered_client_question_reaches_the_cso_after_4_business_hours(
    bot: BotHarness,
) -> None:
    ask(bot)  # 08:45 in Chicago: the clock starts at 09:00, so it is due at 13:00 (14:00 NY)
    assert run(bot, datetime(2026, 11, 20, 13, 55, tzinfo=NY)) == 0
    assert run(bot, datetime(2026, 11, 20, 14, 5, tzinfo=NY)) == 1
    [text] = dms(bot, "U0CSO1")
    assert "<@U0EXT1> asked in *Acme Corp*'s channel 4 business hours ago" in text
    assert "Where can I find the Q3 numbers?" in text and "|open it>)" in text
    assert run(bot, datetime(2026, 11, 20, 16, tzinfo=NY)) == 0


@pytest.mark.parametrize("in_thread", [True, False])
def test_a_team_reply_in_the_thread_or_channel_closes_the_question(
    bot: BotHarness, in_thread: bool
) -> None:
    ask(bot)
    extra = {"thread_ts": f"{FRI.timestamp():.6f}"} if in_thread else {}
    bot.message("C0ACME", "U0SL1", "It's on the revenue tab.", FRI.replace(hour=11), **extra)
    settle(bot)
    assert run(bot, datetime(2026, 11, 20, 16, tzinfo=NY)) == 0


def test_a_reply_in_another_thread_does_not_count(bot: BotHarness) -> None:
    ask(bot)
    other = {"thread_ts": "1763000000.000100"}
    bot.message("C0ACME", "U0SL1", "Deployed the fix.", FRI.replace(hour=11), **other)
    settle(bot)
    assert run(bot, datetime(2026, 11, 20, 16, tzinfo=NY)) == 1


def test_the_reply_window_is_configurable(bot: BotHarness) -> None:
    with bot.db.transaction() as s:
        org = s.get(Organization, 1)
        assert org is not None
        org.settings = {"flags": {"reply_within_hours": 2}}
    ask(bot)
    assert run(bot, datetime(2026, 11, 20, 12, 5, tzinfo=NY)) == 1
    assert "2 business hours ago" in dms(bot, "U0CSO1")[0]


# -- (c) orphaned internal threads -------------------------------------------------------------
def internal_thread(bot: BotHarness) -> str:
    q_ts = f"{FRI.timestamp():.6f}"
    bot.message("C0ACMEINT", "U0CSO1", "Lee, what's the estimate for the EU dashboard?", FRI)
    answer = FRI.replace(hour=11)
    bot.message("C0ACMEINT", "U0SL1", "About 3 days", answer, thread_ts=q_ts)
    wait_until(lambda: _count(bot, InternalMessage) == 2)
    return f"{answer.timestamp():.6f}"


def test_an_answered_question_never_acknowledged_nudges_the_asker(bot: BotHarness) -> None:
    internal_thread(bot)  # answered Friday 10:45 Chicago: due Monday 10:45 Chicago
    assert run(bot, datetime(2026, 11, 23, 11, 40, tzinfo=NY)) == 0
    assert run(bot, datetime(2026, 11, 23, 11, 50, tzinfo=NY)) == 1
    [text] = dms(bot, "U0CSO1")
    assert "<@U0SL1> answered your question in <#C0ACMEINT>" in text
    assert "estimate for the EU dashboard" in text
    assert run(bot, datetime(2026, 11, 23, 15, tzinfo=NY)) == 0
    assert dms(bot, "U0SL1") == []


def test_a_reply_by_the_asker_closes_the_thread(bot: BotHarness) -> None:
    internal_thread(bot)
    q_ts = f"{FRI.timestamp():.6f}"
    bot.message(
        "C0ACMEINT", "U0CSO1", "Thanks, telling the client.", FRI.replace(hour=12), thread_ts=q_ts
    )
    wait_until(lambda: _count(bot, InternalMessage) == 3)
    assert run(bot, datetime(2026, 11, 24, 12, tzinfo=NY)) == 0


def test_a_reaction_by_the_asker_closes_the_thread(bot: BotHarness) -> None:
    answer_ts = internal_thread(bot)
    reaction(bot, "U0CSO1", "+1", channel="C0ACMEINT", ts=answer_ts, item_user="U0SL1")
    wait_until(lambda: _acknowledged(bot))
    assert run(bot, datetime(2026, 11, 24, 12, tzinfo=NY)) == 0


def _acknowledged(bot: BotHarness) -> bool:
    with bot.db.session() as s:
        return any(m.acknowledged_at for m in s.query(InternalMessage))


def test_an_unanswered_internal_question_is_not_an_orphan(bot: BotHarness) -> None:
    bot.message("C0ACMEINT", "U0CSO1", "Anyone know the EU go-live?", FRI)
    wait_until(lambda: _count(bot, InternalMessage))
    assert run(bot, datetime(2026, 11, 24, 12, tzinfo=NY)) == 0
