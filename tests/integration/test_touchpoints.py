"""Touchpoints recorded by themselves from client-channel messages.

(docs/process.md, "Touchpoints")
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from storage.models import InboundMessage, Touchpoint
from tests.conftest import NY, BotHarness, wait_until


def _touchpoints(bot: BotHarness) -> list[Touchpoint]:
    with bot.db.session() as s:
        return list(s.scalars(select(Touchpoint).order_by(Touchpoint.id)))


def _inbound(bot: BotHarness) -> list[InboundMessage]:
    with bot.db.session() as s:
        return list(s.scalars(select(InboundMessage)))


def test_team_message_is_a_touchpoint_dated_in_the_clients_timezone(bot: BotHarness) -> None:
    # 00:30 on Saturday in New York is still Friday evening in Chicago (acme's timezone).
    at = datetime(2026, 11, 21, 0, 30, tzinfo=NY)
    bot.message("C0ACME", "U0SL1", "Backfill finished — numbers go back to 2023.", at)
    [tp] = wait_until(lambda: _touchpoints(bot))
    assert tp.local_date == date(2026, 11, 20)
    assert tp.author_id == "U0SL1" and tp.kind == "slack" and tp.source == "event"
    assert tp.occurred_at == at.astimezone(UTC)
    assert tp.occurred_at.tzinfo is not None


def test_thread_replies_count(bot: BotHarness) -> None:
    at = datetime(2026, 11, 20, 10, tzinfo=NY)
    bot.message("C0GLOBEX", "U0CSO1", "Yes, sharing by 5pm", at, thread_ts="1763650000.000100")
    [tp] = wait_until(lambda: _touchpoints(bot))
    assert tp.thread_ts == "1763650000.000100"


@pytest.mark.parametrize(
    "extra",
    [
        {"subtype": "bot_message", "bot_id": "B1"},
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
        {"bot_id": "B1"},
    ],
)
def test_bots_edits_deletes_and_joins_are_not_touchpoints(
    bot: BotHarness, extra: dict[str, str]
) -> None:
    at = datetime(2026, 11, 20, 10, tzinfo=NY)
    status, _ = bot.message("C0ACME", "U0CSO1", "something", at, **extra)
    assert status == 200
    # A real message afterwards proves the listener ran and the first one was skipped.
    bot.message("C0ACME", "U0CSO1", "real one", datetime(2026, 11, 20, 11, tzinfo=NY))
    wait_until(lambda: _touchpoints(bot))
    bot.settle()  # every acknowledged message's work is done
    assert [t.excerpt for t in _touchpoints(bot)] == ["real one"]


def test_client_messages_are_inbound_activity_with_a_short_excerpt(bot: BotHarness) -> None:
    at = datetime(2026, 11, 20, 14, tzinfo=NY)
    long_text = "Could you add just one more chart for EMEA? " + "details " * 100
    bot.message("C0ACME", "U0EXT1", long_text, at, thread_ts="1763650000.000100")
    [msg] = wait_until(lambda: _inbound(bot))
    assert msg.author_id == "U0EXT1"
    assert msg.thread_ts == "1763650000.000100"
    assert len(msg.excerpt) <= 200 and msg.excerpt.startswith("Could you add just one more")
    assert _touchpoints(bot) == []


def test_messages_in_other_channels_are_ignored(bot: BotHarness) -> None:
    at = datetime(2026, 11, 20, 14, tzinfo=NY)
    bot.message("C0ACMEINT", "U0CSO1", "internal chatter", at)
    bot.message("C0RANDOM", "U0CSO1", "lunch?", at)
    bot.message("C0ACME", "U0CSO1", "to the client", at)
    wait_until(lambda: _touchpoints(bot))
    bot.settle()  # every acknowledged message's work is done
    assert [t.channel for t in _touchpoints(bot)] == ["C0ACME"]
