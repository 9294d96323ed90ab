"""Signed requests for the lifecycle tests: the new-client modal, the checklist's buttons,
and ticks at a chosen moment."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import func, select

from devkit.emulator import dm_channel
from scheduling.engine import TickReport, tick
from storage.models import Base, OnboardingItem
from tests.conftest import SAMPLE_PORTFOLIO, BotHarness

SALES_OPS = "C0SALESOPS"
PORTFOLIO = SAMPLE_PORTFOLIO.replace(
    "  leadership_channel: C0LEAD\n",
    f"  leadership_channel: C0LEAD\n  settings:\n    sales_ops_channel: {SALES_OPS}\n",
)


def form(**fields: Any) -> dict[str, Any]:
    """The new-client modal's state for these fields (the element shapes Slack sends)."""
    values: dict[str, Any] = {}
    for key, value in fields.items():
        if key in ("segment",):
            element = {"type": "static_select", "selected_option": {"value": value}}
        elif key in ("signed_on", "contract_start", "contract_end"):
            element = {"type": "datepicker", "selected_date": value}
        elif key in ("cso", "service_lead", "engagement_partner", "ae"):
            element = {"type": "users_select", "selected_user": value}
        elif key in ("client_channel", "internal_channel"):
            element = {"type": "conversations_select", "selected_conversation": value}
        elif key == "contacts":
            element = {"type": "multi_users_select", "selected_users": value}
        else:
            element = {"type": "plain_text_input", "value": value}
        values[key] = {"value": element}
    return values


GOOD = {
    "name": "Hooli",
    "slug": "hooli",
    "segment": "smb",
    "arr": "48,000",
    "signed_on": "2026-11-20",
    "contract_end": "2027-11-19",
    "cso": "U0CSO1",
    "service_lead": "U0SL1",
    "ae": "U0AE1",
    "client_channel": "C0HOOLI",
    "internal_channel": "C0HOOLIINT",
    "timezone": "America/Chicago",
    "contacts": ["U0EXT9"],
    "success_criteria": "Reports in 1 day\n- 80% of analysts active",
    "stakeholders": "Gavin (CEO, sponsor); Big Head (champion)",
    "deal_context": "Replacing spreadsheets",
    "timeline": "Live by January",
}


def submit(bot: BotHarness, values: dict[str, Any], user: str = "U0CSO1") -> tuple[int, Any]:
    status, raw = bot.interact(
        {
            "type": "view_submission",
            "team": {"id": "T0EMU"},
            "user": {"id": user},
            "trigger_id": "t-new",
            "view": {
                "id": f"VNEW{abs(hash(json.dumps(values, sort_keys=True))) % 10**8}",
                "type": "modal",
                "callback_id": "client_new_modal",
                "private_metadata": "{}",
                "state": {"values": values},
            },
        }
    )
    return status, json.loads(raw) if raw else None


def click(bot: BotHarness, action_id: str, value: str, user: str = "U0CSO1") -> None:
    bot.interact(
        {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T0EMU"},
            "trigger_id": f"t-click-{uuid.uuid4().hex[:8]}",
            "actions": [
                {"action_id": action_id, "type": "button", "block_id": "b", "value": value}
            ],
            "channel": {"id": dm_channel(user)},
            "container": {"type": "message", "channel_id": dm_channel(user), "message_ts": "1.1"},
            "message": {"ts": "1.1", "text": "", "blocks": []},
            "response_url": bot.emulator.response_url(f"click-{value}-{user}"),
        }
    )


def row_counts(bot: BotHarness) -> dict[str, int]:
    with bot.db.session() as s:
        return {
            t.name: int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
            if t.name not in ("inbox", "service_status")
        }


def items(bot: BotHarness, slug_id: int) -> dict[str, OnboardingItem]:
    with bot.db.session() as s:
        rows = s.scalars(select(OnboardingItem).where(OnboardingItem.client_id == slug_id))
        return {r.item_id: r for r in rows}


def tick_at(bot: BotHarness, at: datetime) -> TickReport:
    bot.clock.set(at.astimezone(UTC))
    assert isinstance(bot.web, WebClient)
    report = tick(bot.deps, bot.web, at.astimezone(UTC), bot.jobs)
    assert report.errors == {}
    return report


def dms(bot: BotHarness, user: str) -> list[str]:
    return [str(m.get("text", "")) for m in bot.emulator.messages_in(dm_channel(user))]
