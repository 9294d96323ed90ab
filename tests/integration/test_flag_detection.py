"""Detection without a reaction: every client message classified, suggestions DM'd to the CSO
through the outbox (Flag it / Dismiss), expansion signals as the Hook in /pulse."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from storage.models import ClientQuestion, InboundMessage, InternalMessage, Nudge, Pulse
from tests.conftest import NY, BotHarness, wait_until
from tests.integration.flag_helpers import (
    SCOPE_TEXT,
    action_ids,
    click,
    flags,
    posts,
    settle,
    writes_to,
)

AT = datetime(2026, 11, 20, 9, 45, tzinfo=NY)
EXPANSION = "We'd love to roll this out to the EU team next quarter — can you send a proposal?"


def suggestion_dm(bot: BotHarness, count: int = 1) -> list:  # type: ignore[type-arg]
    return bot.emulator.wait_for(
        "chat.postMessage", count=count, where=lambda c: c["channel"] == "U0CSO1"
    )


def test_a_client_message_becomes_a_suggested_flag_dmd_to_the_cso(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0EXT1", SCOPE_TEXT, AT)
    [dm] = suggestion_dm(bot)
    assert "Possible *scope creep* on *Acme Corp* from <@U0EXT1>" in dm["text"]
    assert "one more chart" in dm["text"]
    assert action_ids(dm) == ["flag_suggestion_flag", "flag_suggestion_dismiss"]
    assert "Detected by the rules" in json.dumps(dm["blocks"])
    [flag] = flags(bot)
    assert (flag.status, flag.kind, flag.source, flag.author_id) == (
        "suggested",
        "scope_creep",
        "rules",
        "U0EXT1",
    )
    wait_until(lambda: _sent_ts(bot))
    [nudge] = _all(bot, Nudge)
    assert (nudge.cadence_id, nudge.status, nudge.target) == ("flag_suggestion", "sent", "U0CSO1")
    settle(bot)
    assert writes_to(bot, "C0ACME") == [] and writes_to(bot, "C0ACMEINT") == []


def test_event_retries_of_the_message_dm_once(bot: BotHarness) -> None:
    for retry in range(3):
        headers = {"X-Slack-Retry-Num": str(retry)} if retry else None
        bot.message("C0ACME", "U0EXT1", SCOPE_TEXT, AT, event_id="EvMSG1", headers=headers)
    suggestion_dm(bot)
    settle(bot)
    assert len(posts(bot, "U0CSO1")) == 1 and len(flags(bot)) == 1


def test_team_messages_and_plain_client_messages_are_not_suggested(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0CSO1", SCOPE_TEXT, AT)  # the team's own words
    bot.message("C0ACME", "U0EXT1", "Thanks, looks great!", AT.replace(minute=50))
    wait_until(lambda: _count(bot, InboundMessage))
    settle(bot)
    assert flags(bot) == [] and posts(bot) == []


def _count(bot: BotHarness, model: type) -> int:
    with bot.db.session() as s:
        return len(list(s.scalars(select(model))))


def test_flag_it_posts_the_flag_internally_and_updates_the_dm(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0EXT1", SCOPE_TEXT, AT)
    [dm] = suggestion_dm(bot)
    [flag] = flags(bot)
    dm_ts = wait_until(lambda: _sent_ts(bot))
    block_id = f"flag_suggestion:{flag.id}"
    status = click(
        bot,
        "flag_suggestion_flag",
        str(flag.id),
        user="U0CSO1",
        channel="D0CSO1",
        ts=dm_ts,
        blocks=dm["blocks"],
        block_id=block_id,
    )
    assert status == 200
    [post] = bot.emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "C0ACMEINT")
    assert "<@U0SL1> Flagging potential scope creep on *Acme Corp*" in post["text"]
    assert action_ids(post) == ["flag_in_scope", "flag_change_request", "flag_resolved"]
    [upd] = bot.emulator.wait_for("chat.update")
    assert (upd["channel"], upd["ts"]) == ("D0CSO1", dm_ts)
    assert "Flagged scope creep on *Acme Corp*" in upd["text"] and "<#C0ACMEINT>" in upd["text"]
    assert action_ids(upd) == []
    wait_until(lambda: flags(bot)[0].post_ts)
    [flag] = flags(bot)
    assert (flag.status, flag.flagged_by) == ("open", "U0CSO1")
    # A flag emoji on the same message now is the same flag: no second post.
    bot.emulator.add_message("C0ACME", f"{AT.timestamp():.6f}", SCOPE_TEXT, "U0EXT1")
    from tests.integration.flag_helpers import reaction

    reaction(bot, "U0SL1", ts=f"{AT.timestamp():.6f}")
    settle(bot)
    assert len(posts(bot, "C0ACMEINT")) == 1


def _sent_ts(bot: BotHarness) -> str | None:
    with bot.db.session() as s:
        nudge = s.scalars(select(Nudge)).first()
        return nudge.message_ts if nudge else None


def test_dismiss_records_it_and_updates_the_dm(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0EXT1", SCOPE_TEXT, AT)
    [dm] = suggestion_dm(bot)
    [flag] = flags(bot)
    dm_ts = wait_until(lambda: _sent_ts(bot))
    click(
        bot,
        "flag_suggestion_dismiss",
        str(flag.id),
        user="U0CSO1",
        channel="D0CSO1",
        ts=dm_ts,
        blocks=dm["blocks"],
        block_id=f"flag_suggestion:{flag.id}",
    )
    [upd] = bot.emulator.wait_for("chat.update")
    assert upd["text"].startswith("Dismissed: scope creep on *Acme Corp*")
    [flag] = flags(bot)
    assert (flag.status, flag.decided_by) == ("dismissed", "U0CSO1")
    assert posts(bot, "C0ACMEINT") == []
    # Clicking again says so, and changes nothing.
    click(
        bot,
        "flag_suggestion_dismiss",
        str(flag.id),
        user="U0CSO1",
        channel="D0CSO1",
        ts=dm_ts,
        token="again",
    )
    assert bot.wait_response() == "This suggestion was dismissed by <@U0CSO1>."


def test_only_the_team_can_act_on_a_suggestion(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0EXT1", SCOPE_TEXT, AT)
    suggestion_dm(bot)
    [flag] = flags(bot)
    click(bot, "flag_suggestion_flag", str(flag.id), user="U0CSO2", channel="D0CSO2", ts="1.2")
    assert "only Acme Corp's team" in bot.wait_response()
    assert flags(bot)[0].status == "suggested"


def test_an_expansion_signal_is_the_clients_hook_in_pulse(bot: BotHarness) -> None:
    bot.command("/pulse", "acme happy hook: asking about MCPs | update: sent the report")
    bot.wait_response()
    bot.clock.advance(minutes=5)
    bot.message("C0ACME", "U0EXT1", EXPANSION, AT)
    [dm] = suggestion_dm(bot)
    assert "*expansion signal*" in dm["text"]
    with bot.db.session() as s:
        detected = wait_until(
            lambda: list(s.scalars(select(Pulse).where(Pulse.source == "detected")))
        )
    assert detected[0].hook and "roll this out to the EU team" in detected[0].hook
    bot.command("/pulse")
    card = bot.wait_response(2)
    assert "roll this out to the EU team" in card  # the newer detected signal is the Hook
    assert "happy" in card and "sent the report" in card  # sentiment and update are kept


def test_a_client_question_is_recorded_for_the_reply_loop(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0EXT1", "Where can I find the Q3 numbers?", AT)
    [q] = wait_until(lambda: _all(bot, ClientQuestion))
    assert q.excerpt == "Where can I find the Q3 numbers?" and q.permalink
    settle(bot)
    assert posts(bot) == []  # a question alone is not a flag


def _all(bot: BotHarness, model: type) -> list:  # type: ignore[type-arg]
    with bot.db.session() as s:
        return list(s.scalars(select(model)))


def test_internal_channel_messages_are_kept_short(bot: BotHarness) -> None:
    long = "Lee, what's the estimate for the EU dashboard? " + "context " * 60
    bot.message("C0ACMEINT", "U0CSO1", long, AT)
    [m] = wait_until(lambda: _all(bot, InternalMessage))
    assert m.is_question and len(m.excerpt) <= 120 and m.thread_ts is None
    assert _all(bot, InboundMessage) == []
