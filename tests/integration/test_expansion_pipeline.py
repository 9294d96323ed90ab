"""The real expansion pipeline over signed requests: /expansion add and list, the stage buttons
(qualified calls the hook), the pipeline share in /metrics and the digest, signals apart."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import ExpansionOpportunity
from tests.conftest import NY, BotHarness
from usecases import expansion_actions


def reply_blocks(bot: BotHarness, n: int) -> list[dict[str, Any]]:
    return list(bot.emulator.wait_for("response_url", count=n)[n - 1].get("blocks") or [])


def click(bot: BotHarness, value: str, user: str = "U0CSO1") -> str:
    n = len(bot.emulator.calls("response_url"))
    bot.interact({
        "type": "block_actions", "team": {"id": "T0EMU"},
        "user": {"id": user, "team_id": "T0EMU"}, "api_app_id": "A0CSOBOT",
        "trigger_id": "t", "container": {"type": "ephemeral"},
        "response_url": bot.emulator.response_url(f"stage-{n}"),
        "actions": [{"type": "button", "action_id": "expansion_stage", "block_id": "b",
                     "value": value, "action_ts": "1"}],
    })  # fmt: skip
    return str(bot.emulator.wait_for("response_url", count=n + 1)[n]["text"])


def test_record_list_and_move_an_opportunity(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    qualified: list[str] = []
    real = expansion_actions.opportunity_qualified
    monkeypatch.setattr(
        expansion_actions,
        "opportunity_qualified",
        lambda tx, o, now: (qualified.append(o.title), real(tx, o, now))[1],
    )
    bot.command("/expansion", 'acme add 30000 "EMEA analytics seats" next: "call their COO"')
    assert bot.wait_response().startswith("Recorded an expansion opportunity for Acme Corp")
    bot.command("/expansion", "acme")
    blocks = reply_blocks(bot, 2)
    text = json.dumps(blocks, ensure_ascii=False)
    assert "Expansion pipeline for *Acme Corp*: 30,000 open" in text
    assert "*EMEA analytics seats* — 30,000 · identified · owner <@U0CSO1>" in text
    assert "next: call their COO" in text
    buttons = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    with bot.db.session() as s:
        [row] = s.scalars(select(ExpansionOpportunity))
    assert buttons == [f"{row.id}:qualified", f"{row.id}:won", f"{row.id}:lost"]
    assert click(bot, f"{row.id}:proposed").startswith("That opportunity can't move to proposed")
    assert click(bot, f"{row.id}:qualified").startswith("Moved to *qualified*")
    assert qualified == ["EMEA analytics seats"]  # the hook the lifecycle feature uses
    assert click(bot, f"{row.id}:qualified", user="U0CSO2").startswith("Sorry — only Acme Corp")


def test_the_pipeline_share_counts_open_opportunities_only(bot: BotHarness) -> None:
    bot.command("/expansion", 'acme add 30k "EMEA analytics seats"')
    bot.wait_response()
    bot.command("/expansion", 'globex add 12000 "Second dashboard suite"')
    bot.wait_response(2)
    with bot.db.session() as s:
        rows = {r.title: r.id for r in s.scalars(select(ExpansionOpportunity))}
    assert click(bot, f"{rows['Second dashboard suite']}:lost").startswith("Moved to *lost*")
    bot.command("/metrics", "2026-11", user="U0HOD")
    text = json.dumps(reply_blocks(bot, 4), ensure_ascii=False)
    # 30,000 open of 372,000 managed ARR
    assert "Expansion pipeline (share of managed ARR): 8.1 % (target 15%–20%: off target)" in text
    bot.clock.set(datetime(2026, 11, 23, 10, tzinfo=NY))
    bot.command("/digest", "2026-W47", user="U0HOD")
    text = json.dumps(reply_blocks(bot, 5), ensure_ascii=False)
    assert "*Expansion pipeline* — 30,000 open = 8.1% of managed ARR 372,000" in text


def test_without_opportunities_the_digest_says_so_instead_of_an_estimate(bot: BotHarness) -> None:
    bot.clock.set(datetime(2026, 11, 23, 10, tzinfo=NY))
    bot.command("/digest", "2026-W47", user="U0HOD")
    text = json.dumps(reply_blocks(bot, 1), ensure_ascii=False)
    assert "*Expansion pipeline* — No expansion opportunities recorded" in text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("acme add", "Give the value and what the opportunity is"),
        ('acme add lots "x y"', '"lots" is not an amount'),
        ('acme sell 3 "x"', '"sell" is not something /expansion does'),
    ],
)
def test_bad_input_says_what_to_type(bot: BotHarness, text: str, says: str) -> None:
    status, ack = bot.command("/expansion", text)
    assert status == 200 and says in ack and "/expansion acme add 30000" in ack
