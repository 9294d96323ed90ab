"""/pulse, /win and /touchpoint over signed requests."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Exemption, Pulse, Touchpoint, Win
from tests.conftest import NY, BotHarness, wait_until
from usecases import touchpoint_log as touchpoint_usecase

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _all(bot: BotHarness, model: type) -> list:  # type: ignore[type-arg]
    with bot.db.session() as s:
        return list(s.scalars(select(model)))


# -- /pulse ------------------------------------------------------------------------------------
def test_pulse_records_sentiment_hook_and_update(bot: BotHarness) -> None:
    status, _ack = bot.command(
        "/pulse", "acme anxious hook: asking about MCPs | update: sent new analytics report"
    )
    assert status == 200
    assert "Pulse recorded for *Acme Corp*" in bot.wait_response()
    [pulse] = _all(bot, Pulse)
    assert (pulse.sentiment, pulse.hook, pulse.update) == (
        "anxious",
        "asking about MCPs",
        "sent new analytics report",
    )


def test_pulse_card_shows_each_owned_client(bot: BotHarness) -> None:
    bot.command("/pulse", "acme worried hook: asking about MCPs | update: sent the report")
    bot.wait_response()
    bot.message(
        "C0ACME",
        "U0CSO1",
        "Morning! The revenue model is ready to review",
        datetime(2026, 11, 20, 9, tzinfo=NY),
    )
    wait_until(lambda: _all(bot, Touchpoint))
    bot.command("/win", 'acme "Demoed the new pipeline: reports 2 days faster"')
    bot.wait_response(2)
    bot.command("/pulse")
    call = bot.emulator.wait_for("response_url", count=3)[2]
    assert call["response_type"] == "ephemeral"
    blob = json.dumps(call["blocks"])
    assert "Acme Corp" in blob and "Globex" in blob and "Initech" not in blob  # Dana's clients
    assert "anxious" in blob and "asking about MCPs" in blob and "sent the report" in blob
    assert "Touchpoint today" in blob and "No touchpoint yet today" in blob  # acme vs globex
    assert "Weekly win: :trophy: yes" in blob
    assert len(call["blocks"]) <= 50
    assert "Acme Corp: anxious" in call["text"]  # plain-text fallback


def test_pulse_share_posts_in_the_standup_channel(bot: BotHarness) -> None:
    bot.command("/pulse", "share", channel="C0STANDUP")
    [post] = bot.emulator.wait_for("chat.postMessage")
    assert post["channel"] == "C0STANDUP"
    assert "Acme Corp" in json.dumps(post["blocks"])


def test_pulse_share_refuses_a_client_channel(bot: BotHarness) -> None:
    bot.command("/pulse", "share", channel="C0ACME")
    assert "shared with a client" in bot.wait_response()
    assert bot.emulator.calls("chat.postMessage") == []


def test_pulse_share_refuses_a_slack_connect_channel(bot: BotHarness) -> None:
    bot.emulator.set_shared("C0SHARED")
    bot.command("/pulse", "share", channel="C0SHARED")
    assert "shared with a client" in bot.wait_response()
    assert bot.emulator.calls("chat.postMessage") == []


def test_pulse_unknown_slug_suggests_the_right_one(bot: BotHarness) -> None:
    bot.command("/pulse", "acmee thrilled")
    assert bot.wait_response() == 'Unknown client "acmee" — did you mean acme?'
    assert _all(bot, Pulse) == []


def test_pulse_malformed_text_gets_usage_in_the_ack(bot: BotHarness) -> None:
    status, ack = bot.command("/pulse", "acme sooo-happy")
    assert status == 200
    assert 'Unknown sentiment "sooo-happy"' in ack and "Usage:" in ack
    assert _all(bot, Pulse) == []


def test_pulse_for_someone_without_clients(bot: BotHarness) -> None:
    bot.command("/pulse", user="U0FND")  # in the portfolio, on no client's team
    assert "don't own any clients" in bot.wait_response()


def test_pulse_for_someone_outside_the_portfolio_is_refused(bot: BotHarness) -> None:
    bot.command("/pulse", user="U0NEW")
    assert "you're not in it" in bot.wait_response()


# -- /win --------------------------------------------------------------------------------------
def test_win_records_this_weeks_presentation(bot: BotHarness) -> None:
    bot.command("/win", 'acme "Demoed the new pipeline: reports 2 days faster" https://x.io/d')
    text = bot.wait_response()
    assert "2026-W47" in text and "Acme Corp" in text
    assert "activity" not in text
    [win] = _all(bot, Win)
    assert (win.iso_week, win.link, win.activity_list) == ("2026-W47", "https://x.io/d", False)


def test_win_written_as_activity_is_kept_but_nudged(bot: BotHarness) -> None:
    bot.command("/win", 'globex "Closed 15 tickets and had 3 meetings"')
    text = bot.wait_response()
    assert "reads like a list of activity" in text and "2 days faster" in text
    [win] = _all(bot, Win)
    assert win.activity_list is True


def test_win_usage_on_missing_text(bot: BotHarness) -> None:
    _, ack = bot.command("/win", "acme")
    assert "I need a client and the win" in ack and "Usage: `/win" in ack


# -- /touchpoint -------------------------------------------------------------------------------
def test_touchpoint_command_logs_an_email(bot: BotHarness) -> None:
    bot.command("/touchpoint", 'acme email "Sent the attribution deck" https://x.io/deck')
    assert "Logged a email touchpoint" in bot.wait_response() or "Logged an" in bot.wait_response()
    [tp] = _all(bot, Touchpoint)
    assert (tp.kind, tp.link, tp.local_date) == ("email", "https://x.io/deck", date(2026, 11, 20))


def test_touchpoint_skip_records_an_exemption_with_its_reason(bot: BotHarness) -> None:
    bot.command("/touchpoint", 'initech skip "client offsite"', user="U0CSO2")
    assert "client offsite" in bot.wait_response()
    [ex] = _all(bot, Exemption)
    assert (ex.reason, ex.created_by) == ("client offsite", "U0CSO2")


def test_touchpoint_typo_in_kind(bot: BotHarness) -> None:
    _, ack = bot.command("/touchpoint", 'acme emial "hi"')
    assert "did you mean email" in ack and "Usage:" in ack


def test_touchpoint_without_text_opens_the_modal_and_the_submission_logs_it(
    bot: BotHarness,
) -> None:
    bot.command("/touchpoint", "")
    [call] = bot.emulator.wait_for("views.open")
    view = call["view"]
    assert view["callback_id"] == "touchpoint_modal"
    slugs = [o["value"] for o in view["blocks"][0]["element"]["options"]]
    assert slugs == ["acme", "globex"]
    submission = json.loads((FIXTURES / "view_submission_touchpoint.json").read_text())
    status, raw = bot.interact(submission)
    assert status == 200 and raw in (b"", b"{}")
    [dm] = bot.emulator.wait_for("chat.postMessage")
    assert dm["channel"] == "U0CSO1" and "Globex" in dm["text"]
    [tp] = _all(bot, Touchpoint)
    assert (tp.kind, tp.local_date, tp.source) == ("call", date(2026, 11, 19), "modal")
    bot.settle()
    assert bot.responses() == []  # the form is the answer: no refusal, no other reply


def test_modal_submission_with_missing_note_returns_field_errors(bot: BotHarness) -> None:
    submission = {
        "type": "view_submission",
        "user": {"id": "U0CSO1"},
        "view": {
            "id": "V9",
            "type": "modal",
            "callback_id": "touchpoint_modal",
            "state": {
                "values": {
                    "client": {"value": {"selected_option": {"value": "acme"}}},
                    "kind": {"value": {"selected_option": {"value": "email"}}},
                    "note": {"value": {"value": ""}},
                    "day": {"value": {"selected_date": "2026-11-25"}},
                }
            },
        },
    }
    status, raw = bot.interact(submission)
    body = json.loads(raw)
    assert status == 200 and body["response_action"] == "errors"
    assert set(body["errors"]) == {"note", "day"}
    assert _all(bot, Touchpoint) == []


def test_a_form_submission_broken_mid_click_leaves_nothing_half_written(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database fails right after the touchpoint's write: the click's one transaction
    rolls back, nobody is told it was logged; the retry logs it once."""
    real = touchpoint_usecase.record_touchpoint

    def write_then_break(*args: Any, **kwargs: Any) -> bool:
        real(*args, **kwargs)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(touchpoint_usecase, "record_touchpoint", write_then_break)
    submission = json.loads((FIXTURES / "view_submission_touchpoint.json").read_text())
    status, _ = bot.interact(submission)
    assert status == 200
    bot.settle()  # the first attempt failed; its retry is not due yet
    assert _all(bot, Touchpoint) == []
    assert bot.emulator.calls("chat.postMessage") == []
    monkeypatch.undo()
    [dm] = bot.emulator.wait_for("chat.postMessage", timeout=10)
    assert dm["channel"] == "U0CSO1" and "Globex" in dm["text"]
    [tp] = _all(bot, Touchpoint)
    assert (tp.kind, tp.local_date, tp.source) == ("call", date(2026, 11, 19), "modal")


def test_pulse_share_survives_a_rate_limit(bot: BotHarness) -> None:
    bot.emulator.fail_next("chat.postMessage", 429, retry_after=1)
    bot.command("/pulse", "share", channel="C0STANDUP")
    posts = bot.emulator.wait_for("chat.postMessage", count=2, timeout=10)
    assert [p["channel"] for p in posts] == ["C0STANDUP", "C0STANDUP"]
    assert bot.responses() == []  # no error reply: the retry went through
