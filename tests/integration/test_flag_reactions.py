"""Flag reactions end to end: signed reaction events, the emulator, and every decision button."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

import usecases.flag_actions as flag_usecases
from storage.db import Transaction
from storage.models import Flag, Organization
from tests.conftest import BotHarness, wait_until
from tests.integration.flag_helpers import (
    SCOPE_TEXT,
    TS,
    action_ids,
    click,
    flags,
    posts,
    reaction,
    settle,
    writes_to,
)


def posted_flags(bot: BotHarness) -> list[Flag]:
    """The flags, once every one of them has its internal post recorded."""
    return wait_until(lambda: (f := flags(bot)) and all(x.post_ts for x in f) and f)


def seed(bot: BotHarness, text: str = SCOPE_TEXT, ts: str = TS, **kw: str) -> None:
    bot.emulator.add_message("C0ACME", ts, text, kw.pop("user", "U0EXT1"), **kw)


def test_a_flag_reaction_posts_in_the_internal_channel_mentioning_the_service_lead(
    bot: BotHarness,
) -> None:
    seed(bot)
    assert reaction(bot, "U0CSO1") == 200
    [post] = bot.emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "C0ACMEINT")
    text = post["text"]
    assert text.startswith("<@U0SL1> Flagging potential scope creep on *Acme Corp*:")
    assert '"Love it! Could you just add one more chart for churn by region?"' in text
    assert "(<http://" in text and "|link>)" in text
    assert text.endswith("Let's discuss in our sync before replying.")
    assert action_ids(post) == ["flag_in_scope", "flag_change_request", "flag_resolved"]
    [flag] = posted_flags(bot)
    assert (flag.kind, flag.status, flag.author_id, flag.flagged_by) == (
        "scope_creep",
        "open",
        "U0EXT1",
        "U0CSO1",
    )
    assert flag.excerpt == SCOPE_TEXT and flag.permalink and flag.source == "reaction"
    assert flag.post_channel == "C0ACMEINT"
    assert bot.emulator.state.messages[("C0ACMEINT", str(flag.post_ts))]["text"] == text
    # The text came from conversations.history (latest=ts, inclusive, limit=1).
    [history] = bot.emulator.calls("conversations.history")
    assert (history["latest"], history["limit"]) == (TS, "1")
    assert history["inclusive"] in ("1", "true", "True")
    assert writes_to(bot, "C0ACME") == []


def test_a_second_reaction_and_event_retries_are_one_flag(bot: BotHarness) -> None:
    seed(bot)
    reaction(bot, "U0CSO1", event_id="EvFLAG1")
    bot.emulator.wait_for("chat.postMessage")
    reaction(bot, "U0CSO1", event_id="EvFLAG1", retry=1)  # Slack's retry of the same event
    reaction(bot, "U0CSO1", event_id="EvFLAG1", retry=2)
    reaction(bot, "U0SL1")  # a second team member's identical reaction
    reaction(bot, "U0EP1", "triangular_flag_on_post::skin-tone-2")
    settle(bot)
    assert len(flags(bot)) == 1
    assert len(posts(bot, "C0ACMEINT")) == 1


def test_a_different_kind_on_the_same_message_is_another_flag(bot: BotHarness) -> None:
    seed(bot, "Heads up: the board moved the launch to December 4th.")
    reaction(bot, "U0CSO1", "date")
    reaction(bot, "U0CSO1", "warning")
    bot.emulator.wait_for("chat.postMessage", count=2)
    settle(bot)
    assert sorted(f.kind for f in flags(bot)) == ["deadline_change", "risk"]
    texts = [p["text"] for p in posts(bot, "C0ACMEINT")]
    assert any("potential deadline change" in t for t in texts)
    assert any("potential blocker / risk" in t for t in texts)


def test_only_the_clients_team_and_only_flag_emoji_count(bot: BotHarness) -> None:
    seed(bot)
    reaction(bot, "U0EXT1")  # the client's own person
    reaction(bot, "U0CSO2")  # a CSO, but not Acme's
    reaction(bot, "U0CSO1", "tada")  # not a flag emoji
    reaction(bot, "U0CSO1", channel="C0RANDOM")  # not a client channel
    settle(bot)
    assert flags(bot) == [] and posts(bot) == []


def test_the_emoji_map_is_configurable_in_the_organization_settings(bot: BotHarness) -> None:
    with bot.db.transaction() as s:
        org = s.get(Organization, 1)
        assert org is not None
        org.settings = {"flags": {"reactions": {"eyes": "scope creep", "fire": "risk"}}}
    seed(bot)
    reaction(bot, "U0CSO1")  # the default emoji no longer flags
    reaction(bot, "U0CSO1", "eyes")
    bot.emulator.wait_for("chat.postMessage")
    settle(bot)
    assert [(f.kind, f.reaction) for f in flags(bot)] == [("scope_creep", "eyes")]


def test_a_thread_reply_is_read_with_conversations_replies(bot: BotHarness) -> None:
    root, reply = "1763650000.000100", "1763650100.000200"
    seed(bot, "Kickoff notes", ts=root)
    seed(bot, "While you're in there, can you also add a YoY view?", ts=reply, thread_ts=root)
    reaction(bot, "U0SL1", ts=reply)
    bot.emulator.wait_for("chat.postMessage")
    settle(bot)  # the post is written in the same transaction as the flag
    [flag] = flags(bot)
    assert flag.thread_ts == root and flag.excerpt.startswith("While you're in there")
    assert bot.emulator.calls("conversations.replies")


@pytest.mark.parametrize("shared", [True, False])
def test_a_slack_connect_client_channel_gets_nothing(bot: BotHarness, shared: bool) -> None:
    if shared:
        bot.emulator.set_shared("C0ACME")
    seed(bot)
    reaction(bot, "U0CSO1")
    bot.emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "C0ACMEINT")
    [post] = bot.emulator.calls("chat.postMessage")
    assert post["channel"] == "C0ACMEINT"
    settle(bot)
    [flag] = flags(bot)
    click(bot, "flag_in_scope", str(flag.id), user="U0SL1", channel="C0ACMEINT", ts="1.1")
    bot.emulator.wait_for("chat.update")
    settle(bot)
    assert writes_to(bot, "C0ACME") == []


@pytest.mark.parametrize("problem", ["unreadable", "shared"])
def test_an_unreadable_or_shared_internal_channel_means_a_dm_to_the_cso(
    bot: BotHarness, problem: str
) -> None:
    if problem == "unreadable":
        bot.emulator.set_unreadable("C0ACMEINT")
    else:
        bot.emulator.set_shared("C0ACMEINT")
    seed(bot)
    reaction(bot, "U0SL1")
    [post] = bot.emulator.wait_for("chat.postMessage")
    assert post["channel"] == "U0CSO1"
    assert "Flagging potential scope creep on *Acme Corp*" in post["text"]
    context = json.dumps(post["blocks"])
    assert "missing or shared with the client" in context
    settle(bot)
    assert writes_to(bot, "C0ACMEINT") == [] and writes_to(bot, "C0ACME") == []
    assert posted_flags(bot)[0].post_channel == "D0CSO1"


def _flag_and_post(bot: BotHarness) -> tuple[int, str]:
    seed(bot)
    reaction(bot, "U0CSO1")
    [flag] = posted_flags(bot)
    assert flag.post_ts
    return flag.id, flag.post_ts


@pytest.mark.parametrize(
    ("action", "decision", "label"),
    [
        ("flag_in_scope", "in_scope", "In scope"),
        ("flag_change_request", "change_request", "Needs change request"),
        ("flag_resolved", "resolved", "Resolved"),
    ],
)
def test_every_decision_button_records_who_and_when_and_updates_the_message(
    bot: BotHarness, action: str, decision: str, label: str
) -> None:
    flag_id, ts = _flag_and_post(bot)
    assert click(bot, action, str(flag_id), user="U0SL1", channel="C0ACMEINT", ts=ts) == 200
    [upd] = bot.emulator.wait_for("chat.update")
    assert (upd["channel"], upd["ts"]) == ("C0ACMEINT", ts)
    assert action_ids(upd) == []  # the buttons are gone
    blocks = json.dumps(upd["blocks"], ensure_ascii=False)
    assert f"*{label}* — decided by <@U0SL1> on 2026-11-20" in blocks
    [flag] = flags(bot)
    assert (flag.status, flag.decision, flag.decided_by) == ("decided", decision, "U0SL1")
    assert flag.decided_at == bot.clock.now().astimezone(UTC)


def test_a_second_click_says_it_is_already_decided(bot: BotHarness) -> None:
    flag_id, ts = _flag_and_post(bot)
    click(bot, "flag_in_scope", str(flag_id), user="U0SL1", channel="C0ACMEINT", ts=ts)
    bot.emulator.wait_for("chat.update")
    click(bot, "flag_resolved", str(flag_id), user="U0CSO1", channel="C0ACMEINT", ts=ts)
    said = bot.wait_response()
    assert said == "Already decided: *In scope* by <@U0SL1>."
    assert flags(bot)[0].decision == "in_scope"


def test_a_click_that_breaks_midway_leaves_nothing_half_written(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag_id, ts = _flag_and_post(bot)
    real_close = flag_usecases.close
    broken: list[str] = []

    def close_then_break(tx: Transaction, key: str, *, by: str, now: datetime) -> None:
        # The decision is written; the database breaks on the click's next write.
        real_close(tx, key, by=by, now=now)
        if not broken:
            broken.append(key)
            raise RuntimeError("the database went away mid-click")

    monkeypatch.setattr(flag_usecases, "close", close_then_break)
    click(bot, "flag_in_scope", str(flag_id), user="U0SL1", channel="C0ACMEINT", ts=ts)
    wait_until(lambda: bot.inbox.counters.retried >= 1)  # the failed attempt is over
    assert broken
    [flag] = flags(bot)
    assert (flag.status, flag.decision, flag.decided_by, flag.decided_at) == (
        "open",
        None,
        None,
        None,
    )
    assert bot.emulator.calls("chat.update") == []  # nothing shown for a click not kept
    # The inbox runs the click again, whole: decided once, shown once.
    [upd] = bot.emulator.wait_for("chat.update")
    settle(bot)
    assert (upd["channel"], upd["ts"]) == ("C0ACMEINT", ts)
    assert [(f.status, f.decision) for f in flags(bot)] == [("decided", "in_scope")]
    assert len(bot.emulator.calls("chat.update")) == 1


def test_removing_the_reaction_before_a_decision_withdraws_the_flag(bot: BotHarness) -> None:
    flag_id, ts = _flag_and_post(bot)
    reaction(bot, "U0SL1", removed=True)  # someone else's reaction: no effect
    settle(bot)
    assert flags(bot)[0].status == "open"
    reaction(bot, "U0CSO1", removed=True)
    [upd] = bot.emulator.wait_for("chat.update")
    assert (upd["channel"], upd["ts"]) == ("C0ACMEINT", ts)
    assert "Withdrawn: <@U0CSO1> removed the flag before a decision." in upd["text"]
    assert action_ids(upd) == []
    assert flags(bot)[0].status == "withdrawn"
    # Flagging it again re-opens the same flag, in the same message.
    reaction(bot, "U0CSO1")
    [_, again] = bot.emulator.wait_for("chat.update", count=2)
    settle(bot)
    assert action_ids(again) == ["flag_in_scope", "flag_change_request", "flag_resolved"]
    assert [(f.id, f.status) for f in flags(bot)] == [(flag_id, "open")]
    assert len(posts(bot, "C0ACMEINT")) == 1


def test_removing_the_reaction_after_a_decision_changes_nothing(bot: BotHarness) -> None:
    flag_id, ts = _flag_and_post(bot)
    click(bot, "flag_resolved", str(flag_id), user="U0SL1", channel="C0ACMEINT", ts=ts)
    bot.emulator.wait_for("chat.update")
    reaction(bot, "U0CSO1", removed=True)
    settle(bot)
    assert flags(bot)[0].status == "decided"
    assert len(bot.emulator.calls("chat.update")) == 1
