"""/update: a drafted, linted client update sent as the CSO (the template path; the LLM path is in
test_flag_llm.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Touchpoint
from tests.conftest import BotHarness, wait_until
from tests.integration.flag_helpers import posts, reaction, settle
from usecases import update_actions as client_update_usecase

GOOD = (
    "Status: On track: the attribution model is live, which means your team sees paid social"
    " ROI daily.\nRisks: Waiting on the Hubspot API key.\nAsks: Please ping your IT team today."
    "\nNext: We start the EU rollout tomorrow if the key arrives."
)
VAGUE = "Everything is going well!"


def opened_view(bot: BotHarness) -> dict[str, Any]:
    [call] = bot.emulator.wait_for("views.open")
    view: dict[str, Any] = call["view"]
    return view


def draft_of(view: dict[str, Any]) -> str:
    block = next(b for b in view["blocks"] if b.get("block_id") == "draft")
    return str(block["element"]["initial_value"])


def submit(
    bot: BotHarness, view: dict[str, Any], text: str, *, anyway: bool = False, user: str = "U0CSO1"
) -> tuple[int, dict[str, Any]]:
    values: dict[str, Any] = {
        "draft": {"value": {"type": "plain_text_input", "value": text}},
    }
    if anyway:
        values["send_anyway"] = {
            "value": {
                "type": "checkboxes",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "Send anyway"}, "value": "yes"}
                ],
            }
        }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0EMU", "domain": "emulated"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0EMU"},
        "api_app_id": "A0CSOBOT",
        "token": "legacy-verification-token",
        "trigger_id": "trig-submit",
        "view": {
            **view,
            "id": "V0UPDATE1",
            "team_id": "T0EMU",
            "state": {"values": values},
            "hash": "h1",
        },
    }
    status, raw = bot.interact(payload)
    return status, (json.loads(raw) if raw.strip() else {})


def update_touchpoints(bot: BotHarness) -> list[Touchpoint]:
    with bot.db.session() as s:
        return list(s.scalars(select(Touchpoint).where(Touchpoint.source.startswith("update"))))


def test_update_opens_a_modal_with_a_framed_draft_from_the_record(bot: BotHarness) -> None:
    bot.command("/win", 'acme "Demoed the new pipeline: reports 2 days faster"')
    bot.wait_response()
    bot.emulator.add_message(
        "C0ACME", "1795185900.000100", "The launch moved to Dec 4th.", "U0EXT1"
    )
    reaction(bot, "U0CSO1", "date", ts="1795185900.000100")
    bot.emulator.wait_for("chat.postMessage")
    settle(bot)
    bot.command("/update", "acme eod")
    view = opened_view(bot)
    assert view["callback_id"] == "client_update_modal"
    draft = draft_of(view)
    assert draft.startswith("Status: Demoed the new pipeline: reports 2 days faster")
    assert 'Risks: "The launch moved to Dec 4th."' in draft
    assert "\nAsks: " in draft and "\nNext: " in draft
    text = json.dumps(view, ensure_ascii=False)
    assert "Fill in or delete the placeholder" in text  # linted inline
    assert "*Better:*" in text
    assert "scope creep" not in draft.lower()  # internal labels never reach the client draft


def test_send_posts_in_the_client_channel_as_the_cso_and_records_the_touchpoint(
    bot: BotHarness,
) -> None:
    bot.command("/update", "acme morning")
    view = opened_view(bot)
    status, body = submit(bot, view, GOOD)
    assert (status, body) == (200, {})
    [post] = bot.emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "C0ACME")
    assert post["text"] == GOOD
    assert "Posted by <@U0CSO1> via csobot" in json.dumps(post["blocks"])
    [tp] = wait_until(lambda: (t := update_touchpoints(bot)) and t[0].message_ts and t)
    assert (tp.kind, tp.source, tp.author_id, tp.channel) == (
        "slack",
        "update-morning",  # the slot it answers: the morning update
        "U0CSO1",
        "C0ACME",
    )
    [confirm] = bot.emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "U0CSO1")
    assert "morning update is posted in <#C0ACME>" in confirm["text"]
    # The same submission again (a retry) is posted once.
    submit(bot, view, GOOD)
    settle(bot)
    assert len(posts(bot, "C0ACME")) == 1 and len(update_touchpoints(bot)) == 1


def test_a_send_broken_mid_click_records_nothing_and_takes_the_post_back(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database fails after the post, while recording it: the touchpoint's claim rolls
    back with it and the post is deleted, so the retry posts the update once."""

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(client_update_usecase, "set_touchpoint_message", broken)
    bot.command("/update", "acme morning")
    status, body = submit(bot, opened_view(bot), GOOD)
    assert (status, body) == (200, {})
    [first] = bot.emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "C0ACME")
    bot.settle()  # the first attempt failed; its retry is not due yet
    assert update_touchpoints(bot) == []
    [deleted] = bot.emulator.wait_for("chat.delete")
    assert deleted["channel"] == "C0ACME"
    monkeypatch.undo()
    [tp] = wait_until(lambda: update_touchpoints(bot), timeout=10)
    shown = posts(bot, "C0ACME")
    assert len(shown) == 2 and len(bot.emulator.calls("chat.delete")) == 1  # one left standing
    assert tp.message_ts and tp.message_ts != deleted["ts"]
    assert first["text"] == GOOD


def test_warnings_on_submit_show_inline_with_a_send_anyway_checkbox(bot: BotHarness) -> None:
    bot.command("/update", "acme eod")
    view = opened_view(bot)
    status, body = submit(bot, view, VAGUE)
    assert status == 200 and body["response_action"] == "update"
    shown = " ".join(
        el["text"] for b in body["view"]["blocks"] if b["type"] == "context" for el in b["elements"]
    )
    assert '"Everything is going well" with nothing specific behind it' in shown
    assert "Status: On track. Risk: Waiting on API keys." in shown  # the process's better example
    assert any(b.get("block_id") == "send_anyway" for b in body["view"]["blocks"])
    settle(bot)
    assert posts(bot, "C0ACME") == []
    status, body = submit(bot, body["view"], VAGUE, anyway=True)
    assert (status, body) == (200, {})
    [post] = bot.emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "C0ACME")
    assert post["text"] == VAGUE


def test_an_empty_draft_is_an_inline_error(bot: BotHarness) -> None:
    bot.command("/update", "acme eod")
    status, body = submit(bot, opened_view(bot), "   ")
    assert status == 200
    assert body == {"response_action": "errors", "errors": {"draft": "Write the update first."}}


def test_bad_input_gets_a_clear_message(bot: BotHarness) -> None:
    status, text = bot.command("/update", "")
    assert status == 200 and "Usage: `/update acme morning`" in text
    _, text = bot.command("/update", "acme lunch")
    assert '"lunch" is not an update slot: write morning or eod.' in text
    _, text = bot.command("/update", "acme")
    assert "Is it the morning or the EOD update for acme?" in text
    bot.command("/update", "acmee eod")
    assert "acme" in bot.wait_response()
    bot.command("/update", "acme eod", user="U0CSO2")
    assert "only Acme Corp's team" in bot.wait_response(2)
    assert bot.emulator.calls("views.open") == []
