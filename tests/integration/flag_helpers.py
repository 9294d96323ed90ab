"""Shared helpers for the flag tests: Slack-shaped reaction events and button clicks."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import select

from devkit.emulator import Call
from storage.models import Flag
from tests.conftest import NY, BotHarness

AT = datetime(2026, 11, 20, 9, 30, tzinfo=NY)
TS = f"{AT.timestamp():.6f}"
SCOPE_TEXT = "Love it! Could you just add one more chart for churn by region?"
WRITES = ("chat.postMessage", "chat.update", "chat.postEphemeral", "reactions.add", "chat.delete")


def reaction(
    bot: BotHarness,
    user: str,
    name: str = "triangular_flag_on_post",
    *,
    channel: str = "C0ACME",
    ts: str = TS,
    item_user: str = "U0EXT1",
    removed: bool = False,
    event_id: str | None = None,
    retry: int = 0,
) -> int:
    event = {
        "type": "reaction_removed" if removed else "reaction_added",
        "user": user,
        "reaction": name,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": f"{time.time():.6f}",
    }
    headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    status, _ = bot.event(event, event_id=event_id, headers=headers if retry else None)
    return status


def click(
    bot: BotHarness,
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str,
    ts: str,
    blocks: list[dict[str, Any]] | None = None,
    block_id: str | None = None,
    token: str = "act",
) -> int:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0EMU"},
        "api_app_id": "A0CSOBOT",
        "token": "legacy-verification-token",
        "team": {"id": "T0EMU", "domain": "emulated"},
        "trigger_id": f"trig-{time.time_ns()}",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "channel": {"id": channel, "name": channel.lower()},
        "message": {"type": "message", "ts": ts, "text": "", "blocks": blocks or []},
        "response_url": bot.emulator.response_url(token),
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id or f"flag_decide:{value}",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    status, _ = bot.interact(payload)
    return status


def flags(bot: BotHarness) -> list[Flag]:
    with bot.db.session() as s:
        return list(s.scalars(select(Flag).order_by(Flag.id)))


def posts(bot: BotHarness, channel: str | None = None) -> list[Call]:
    return [
        c
        for c in bot.emulator.calls("chat.postMessage")
        if channel is None or c.get("channel") == channel
    ]


def writes_to(bot: BotHarness, channel: str) -> list[Call]:
    return [c for c in bot.emulator.calls() if c.method in WRITES and c.get("channel") == channel]


def action_ids(call: Call) -> list[str]:
    return [
        el["action_id"]
        for block in call.get("blocks") or []
        if block.get("type") == "actions"
        for el in block["elements"]
    ]


def settle(bot: BotHarness) -> None:
    """Wait until every acknowledged request's work (and its follow-up tasks) is done."""
    bot.settle()
