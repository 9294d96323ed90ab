"""What counts as the day's touch, end to end: real Slack payloads (tests/fixtures/) sent as
signed events to the real app, then the KPI `csobot kpi --json` prints (docs/process.md,
"What counts")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from domain.calendar import IsoWeek
from domain.kpi import kpi_json
from storage.kpi_store import load_week_kpi
from storage.models import InboundMessage, Touchpoint
from tests.conftest import NY, SAMPLE_PORTFOLIO, BotHarness, load_portfolio

FIXTURES = Path(__file__).parent.parent / "fixtures"
W47 = IsoWeek(2026, 47)
FRIDAY = "2026-11-20"  # the clock: Friday 10:00 in New York, 09:00 in Chicago (acme)
AT = datetime(2026, 11, 20, 10, tzinfo=NY)
SUBSTANTIVE = "Here is the Globex renewal summary we discussed this morning"


def fixture(name: str, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    payload.update(changes)
    return payload


def acme(bot: BotHarness) -> dict[str, Any]:
    """Acme's part of `csobot kpi --week 2026-W47 --json`."""
    with bot.db.session() as tx:
        kpi = kpi_json(load_week_kpi(tx, W47, bot.clock.now()))
    [client] = [c for cso in kpi["csos"] for c in cso["clients"] if c["slug"] == "acme"]
    return dict(client["daily"])


def touchpoints(bot: BotHarness) -> list[Touchpoint]:
    with bot.db.session() as s:
        return list(s.scalars(select(Touchpoint).order_by(Touchpoint.id)))


def settled(bot: BotHarness) -> None:
    bot.settle()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ok", "an acknowledgement"),
        ("Thanks!", "an acknowledgement"),
        ("will do :+1:", "an acknowledgement"),
        ("Sounds good.", "an acknowledgement"),
        (":+1: :tada:", "emoji or mentions only"),
        ("<@U0EXT1> :eyes:", "emoji or mentions only"),
        ("Dashboard is live!", "fewer than 5 words"),
    ],
)
def test_noise_is_kept_and_shown_but_does_not_make_the_day(
    bot: BotHarness, text: str, reason: str
) -> None:
    bot.message("C0ACME", "U0CSO1", text, AT)
    settled(bot)
    daily = acme(bot)
    assert daily["evidence"] == {} and daily["done"] == 0 and daily["pending"] == [FRIDAY]
    [ignored] = daily["ignored"]
    assert ignored["reason"] == reason and ignored["by"] == "U0CSO1"
    assert ignored["date"] == FRIDAY and ignored["kind"] == "message"
    assert ignored["permalink"].startswith("https://slack.com/archives/C0ACME/p")


def test_a_substantive_message_makes_the_day_with_its_evidence(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0CSO1", "ok", AT)
    bot.message("C0ACME", "U0CSO1", SUBSTANTIVE, AT.replace(minute=5))
    settled(bot)
    daily = acme(bot)
    assert daily["done"] == 1 and daily["pending"] == []
    [item] = daily["evidence"][FRIDAY]
    ts = f"{AT.replace(minute=5).timestamp():.6f}"
    assert item == {
        "kind": "message",
        "update": None,  # neither the morning's plan nor a recap
        "by": "U0CSO1",
        "at": "2026-11-20T15:05:00+00:00",
        "excerpt": SUBSTANTIVE,
        "permalink": f"https://slack.com/archives/C0ACME/p{ts.replace('.', '')}",
        "link": None,
    }
    assert [i["excerpt"] for i in daily["ignored"]] == ["ok"]


def test_the_service_lead_counts_only_where_the_organization_says_so(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0SL1", SUBSTANTIVE, AT)
    settled(bot)
    [ignored] = acme(bot)["ignored"]
    assert ignored["reason"] == "by the service lead (counted roles: cso)"
    load_portfolio(
        bot.db,
        SAMPLE_PORTFOLIO.replace(
            "  leadership_channel: C0LEAD\n",
            "  leadership_channel: C0LEAD\n  settings:\n"
            "    kpi: {touchpoint_roles: [cso, service_lead], min_words: 3}\n",
        ),
    )
    daily = acme(bot)  # the same record, judged with the new settings
    assert daily["done"] == 1 and daily["ignored"] == []
    assert daily["evidence"][FRIDAY][0]["by"] == "U0SL1"


def test_a_deleted_message_stops_counting_and_its_evidence_goes(bot: BotHarness) -> None:
    posted = fixture("message_deleted.json")["previous_message"]
    bot.event({**posted, "channel": "C0ACME", "event_ts": posted["ts"]})
    settled(bot)
    assert acme(bot)["done"] == 1
    bot.event(fixture("message_deleted.json"))
    settled(bot)
    daily = acme(bot)
    assert daily["done"] == 0 and daily["evidence"] == {} and daily["pending"] == [FRIDAY]
    assert touchpoints(bot) == []


def test_an_edit_updates_the_excerpt_and_is_judged_again(bot: BotHarness) -> None:
    edit = fixture("message_changed.json", ts="1795186900.000300", event_ts="1795186900.000300")
    edit["message"]["ts"] = "1795186800.000200"  # U0CSO1's message below, edited
    bot.event({"type": "message", "channel": "C0ACME", "user": "U0CSO1", "text": "ok",
               "ts": "1795186800.000200", "event_ts": "1795186800.000200"})  # fmt: skip
    settled(bot)
    assert acme(bot)["done"] == 0
    edit["message"]["text"] = "Attached the corrected revenue model, please use this one"
    bot.event(edit)
    settled(bot)
    daily = acme(bot)
    assert daily["done"] == 1 and daily["ignored"] == []
    assert daily["evidence"][FRIDAY][0]["excerpt"].startswith("Attached the corrected")
    edit["message"]["text"] = "thanks"
    bot.event({**edit, "event_ts": "1795187000.000100"})
    settled(bot)
    assert acme(bot)["done"] == 0 and acme(bot)["ignored"][0]["excerpt"] == "thanks"
    [tp] = touchpoints(bot)  # one record, never a second touchpoint for an edit
    assert tp.excerpt == "thanks"


def test_a_huddle_with_the_client_is_a_call_for_each_team_member_in_it(bot: BotHarness) -> None:
    bot.event(fixture("huddle_thread.json"))  # started by the CSO alone: no client yet
    settled(bot)
    assert touchpoints(bot) == []
    bot.event(fixture("huddle_ended.json"))  # the CSO, a client contact and the SL took part
    bot.event(fixture("huddle_ended.json", event_ts="1795190500.000100"))  # Slack updates again
    settled(bot)
    tps = touchpoints(bot)
    assert sorted((t.author_id, t.kind, t.source) for t in tps) == [
        ("U0CSO1", "call", "huddle"),
        ("U0SL1", "call", "huddle"),
    ]
    daily = acme(bot)
    [item] = daily["evidence"][FRIDAY]
    assert item["kind"] == "huddle" and item["by"] == "U0CSO1"
    assert item["excerpt"] == "Huddle in the client channel with 1 of the client's people"
    [ignored] = daily["ignored"]  # the Service Lead is not a counted role by default
    assert ignored["by"] == "U0SL1" and ignored["kind"] == "huddle"


def test_a_team_only_huddle_is_not_a_touchpoint(bot: BotHarness) -> None:
    ended = fixture("huddle_ended.json")
    ended["message"]["room"]["participant_history"] = ["U0CSO1", "U0SL1"]
    bot.event(ended)
    settled(bot)
    assert touchpoints(bot) == []


def test_me_messages_count_from_the_team_and_are_inbound_from_the_client(
    bot: BotHarness,
) -> None:
    bot.event(fixture("me_message.json"))
    bot.event(fixture("me_message.json", user="U0EXT1", ts="1795186900.000100",
                      event_ts="1795186900.000100", text="is out until Monday"))  # fmt: skip
    settled(bot)
    [item] = acme(bot)["evidence"][FRIDAY]
    assert item["kind"] == "me_message" and item["excerpt"].startswith("is walking the team")
    with bot.db.session() as s:
        [inbound] = s.scalars(select(InboundMessage))
    assert inbound.author_id == "U0EXT1"


def test_a_file_counts_with_a_comment_and_not_without(bot: BotHarness) -> None:
    bot.event(fixture("file_share.json", text=""))
    settled(bot)
    daily = acme(bot)
    assert daily["done"] == 0
    assert daily["ignored"][0]["reason"] == "a file shared without a comment"
    assert daily["ignored"][0]["kind"] == "file"
    bot.event(fixture("file_share.json", ts="1795186900.000600", event_ts="1795186900.000600"))
    settled(bot)
    [item] = acme(bot)["evidence"][FRIDAY]
    assert item["kind"] == "file" and item["excerpt"].startswith("Here is the draft dashboard")


def test_posts_by_workflows_and_integrations_are_credited_to_nobody(bot: BotHarness) -> None:
    status, _ = bot.event(fixture("bot_message.json"))  # it even carries the CSO's user id
    assert status == 200
    settled(bot)
    assert touchpoints(bot) == []
    daily = acme(bot)
    assert daily["evidence"] == {} and daily["ignored"] == []


def test_a_message_that_does_not_count_closes_no_reminder(bot: BotHarness) -> None:
    """The cutoff reminder stays open after "ok" and closes with a real touch."""
    from tests.integration.test_cadence_buttons import FRIDAY_CUTOFF, at, client_id, nudge

    at(bot, FRIDAY_CUTOFF)
    acme_id = client_id(bot, "acme")
    bot.message("C0ACME", "U0CSO1", "ok", FRIDAY_CUTOFF + timedelta(minutes=5))
    settled(bot)
    assert nudge(bot, "touchpoint-cutoff", slug_id=acme_id).status != "closed"
    bot.message("C0ACME", "U0CSO1", SUBSTANTIVE, FRIDAY_CUTOFF + timedelta(minutes=6))
    settled(bot)
    closed = nudge(bot, "touchpoint-cutoff", slug_id=acme_id)
    assert (closed.status, closed.closed_by) == ("closed", "touchpoint")


def test_pulse_links_today_s_touch_and_says_what_did_not_count(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0CSO1", "ok", AT)
    settled(bot)
    bot.command("/pulse")
    blob = json.dumps(bot.emulator.wait_for("response_url", count=1)[0]["blocks"])
    assert 'No touchpoint yet today (1 didn\'t count: \\"ok\\": an acknowledgement)' in blob
    assert "Last touchpoint: none in 90 days" in blob
    bot.message("C0ACME", "U0CSO1", SUBSTANTIVE, AT.replace(minute=5))
    settled(bot)
    bot.command("/pulse")
    blob = json.dumps(bot.emulator.wait_for("response_url", count=2)[1]["blocks"])
    ts = f"{AT.replace(minute=5).timestamp():.6f}".replace(".", "")
    assert f"<https://slack.com/archives/C0ACME/p{ts}|Touchpoint today>" in blob
    assert "Last touchpoint: today" in blob


def test_the_digest_says_what_did_not_count_and_where_the_evidence_is(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0CSO1", "ok", AT)
    bot.message("C0GLOBEX", "U0CSO1", SUBSTANTIVE, AT)
    settled(bot)
    bot.clock.set(datetime(2026, 11, 23, 10, tzinfo=NY))
    bot.command("/digest", "2026-W47", user="U0HOD")
    bot.wait_response()
    blob = json.dumps(bot.emulator.calls("response_url")[0]["blocks"], ensure_ascii=False)
    assert "Not counted: 1 team message — e.g. Acme Corp: “ok” — an acknowledgement" in blob
    assert "`csobot kpi --week 2026-W47 --json` (`daily.evidence`, `daily.ignored`)" in blob


def test_pulse_says_when_the_last_touch_that_counts_was_within_90_days(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0CSO1", SUBSTANTIVE, AT - timedelta(days=100))  # past the 90 days
    settled(bot)
    bot.command("/pulse")
    blob = json.dumps(bot.emulator.wait_for("response_url", count=1)[0]["blocks"])
    assert "Last touchpoint: none in 90 days" in blob
    bot.message("C0ACME", "U0CSO1", SUBSTANTIVE, AT - timedelta(days=3))
    bot.message("C0ACME", "U0CSO1", "ok", AT - timedelta(days=1))  # does not count
    settled(bot)
    bot.command("/pulse")
    blob = json.dumps(bot.emulator.wait_for("response_url", count=2)[1]["blocks"])
    acme_card = blob[blob.index("Acme") :]
    assert "Last touchpoint: 3 days ago" in acme_card.split("Weekly win")[0]


def test_a_colleague_outside_the_clients_team_is_neither_a_touch_nor_the_client(
    bot: BotHarness,
) -> None:
    """Sam (a CSO, not on Acme's team) in Acme's channel: one of us, so not the client's
    message nor, in a huddle with only the CSO, the client's presence that makes a call."""
    bot.message("C0ACME", "U0CSO2", SUBSTANTIVE, AT)
    ended = fixture("huddle_ended.json")
    ended["message"]["room"]["participant_history"] = ["U0CSO1", "U0CSO2"]
    bot.event(ended)
    settled(bot)
    assert touchpoints(bot) == []
    with bot.db.session() as s:
        assert list(s.scalars(select(InboundMessage))) == []
