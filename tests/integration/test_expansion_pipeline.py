"""The real expansion pipeline over signed requests: /expansion add and list, the stage buttons
(qualified calls the hook), the pipeline share in /metrics and the digest, signals apart."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from storage import expansion_store
from storage.models import ExpansionOpportunity
from tests.conftest import NY, BotHarness
from tests.integration import lifecycle_helpers as lifecycle
from tests.integration.test_cadence_buttons import at, client_id, submit
from tests.integration.test_cadence_buttons import click as press
from tests.integration.test_cadence_buttons import nudge as reminder
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
        lambda tx, o, *, by, now: (qualified.append(o.title), real(tx, o, by=by, now=now))[1],
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


# -- the Friday reminder: Add opportunity, Draft a note to leadership ----------------------------
FRIDAY_REFLECTION = datetime(2026, 11, 20, 16, 1, tzinfo=NY)


def _friday_reminder(bot: BotHarness) -> Any:
    at(bot, FRIDAY_REFLECTION)
    row = reminder(bot, "expansion-reflection", slug_id=client_id(bot, "acme"))
    sent = [
        c for c in bot.emulator.calls("chat.postMessage")
        if c["channel"] == "U0CSO1" and "expansion_add" in json.dumps(c.get("blocks"))
    ]  # fmt: skip
    assert sent, "the Friday reminder offers Add opportunity"
    offers = [
        b for b in sent[-1]["blocks"]
        if b["type"] == "actions" and b.get("block_id") == f"offers-{row.id}-{row.client_id}"
    ]  # fmt: skip
    offered = [
        (e["text"]["text"], e["action_id"], e["value"]) for b in offers for e in b["elements"]
    ]
    assert offered == [
        ("Add opportunity", "expansion_add", row.key),
        ("Draft a note to leadership", "expansion_note", row.key),
    ]
    return row


def test_add_opportunity_from_the_friday_reminder_records_it_like_the_command(
    bot: BotHarness,
) -> None:
    row = _friday_reminder(bot)
    press(bot, row, "expansion_add")
    [opened] = bot.emulator.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == "expansion_add_modal" and "Acme Corp" in json.dumps(view)
    status, body = submit(bot, view, {"value": {"value": {"value": "lots"}},
                                      "title": {"value": {"value": "EMEA seats"}}})  # fmt: skip
    assert status == 200 and '"lots\\" is not an amount' in body.decode()
    values = {
        "value": {"value": {"value": "30k"}},
        "title": {"value": {"value": "EMEA analytics seats"}},
        "next_step": {"value": {"value": "call their COO"}},
    }
    assert submit(bot, view, values)[0] == 200
    assert submit(bot, view, values)[0] == 200  # Slack retries: recorded once
    bot.settle()
    told = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0CSO1"]
    assert any(
        str(c["text"]).startswith("Recorded an expansion opportunity for Acme Corp") for c in told
    )
    with bot.db.session() as s:
        [opp] = s.scalars(select(ExpansionOpportunity))
        assert (opp.title, opp.value, opp.next_step, opp.owner_id, opp.stage) == (
            "EMEA analytics seats", 30000, "call their COO", "U0CSO1", "identified",
        )  # fmt: skip


def test_another_clients_cso_cannot_add_from_the_reminder(bot: BotHarness) -> None:
    row = _friday_reminder(bot)
    press(bot, row, "expansion_add", user="U0CSO2")
    bot.settle()
    assert bot.emulator.calls("views.open") == []
    view = {"type": "modal", "callback_id": "expansion_add_modal", "id": "V9",
            "private_metadata": json.dumps({"slug": "acme", "nudge": row.key})}  # fmt: skip
    values = {"value": {"value": {"value": "30000"}}, "title": {"value": {"value": "Seats"}}}
    submit(bot, view, values, user="U0CSO2")
    bot.settle()
    [told] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0CSO2"]
    assert str(told["text"]).startswith("Sorry — only Acme Corp's team")
    with bot.db.session() as s:
        assert s.scalars(select(ExpansionOpportunity)).all() == []


def test_draft_a_note_from_the_friday_reminder_goes_to_leadership(bot: BotHarness) -> None:
    bot.command("/pulse", "acme curious hook: asking about MCPs for EMEA")
    bot.wait_response()
    row = _friday_reminder(bot)
    press(bot, row, "expansion_note")
    [opened] = bot.emulator.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == "expansion_note_modal"
    note = next(b for b in view["blocks"] if b.get("block_id") == "note")
    assert "Signals: asking about MCPs for EMEA" in note["element"]["initial_value"]
    submit(bot, view, {"note": {"value": {"value": "Offer MCP analytics to EMEA."}}})
    bot.settle()
    at(bot, FRIDAY_REFLECTION)
    [post] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "C0LEAD"]
    assert "Offer MCP analytics to EMEA." in str(post["text"])


# -- qualified: the context package to the account executive, once -------------------------------
def test_qualifying_sends_the_ae_the_package_once(bot: BotHarness) -> None:
    status, answer = lifecycle.submit(bot, lifecycle.form(**lifecycle.GOOD))  # Hooli, AE U0AE1
    assert status == 200 and answer is None, answer
    bot.settle()
    bot.command("/pulse", "hooli curious hook: asking about a finance team rollout")
    bot.wait_response()
    bot.command("/expansion", 'hooli add 20000 "Finance team seats"')
    assert bot.wait_response(2).startswith("Recorded an expansion opportunity for Hooli")
    with bot.db.session() as s:
        [row] = s.scalars(select(ExpansionOpportunity))
    said = click(bot, f"{row.id}:qualified")
    assert said.startswith("Moved to *qualified*")
    assert "The expansion package for Hooli is on its way to <@U0AE1>." in said
    assert click(bot, f"{row.id}:qualified").startswith("That opportunity can't move")
    # A retried move (the stage set back by hand, the hook run again) sends nothing more.
    with bot.db.transaction() as tx:
        again = expansion_actions.opportunity_qualified(
            tx, expansion_store.opportunity_by_id(tx, row.id), by="U0CSO1", now=bot.clock.now()
        )
    assert "already sent" in again
    lifecycle.tick_at(bot, bot.clock.now())
    lifecycle.tick_at(bot, bot.clock.now())
    packages = [t for t in lifecycle.dms(bot, "U0AE1") if "Qualified expansion" in t]
    assert len(packages) == 1
    assert "Finance team seats" in packages[0]
    assert "asking about a finance team rollout" in packages[0]  # the client's recent signals
