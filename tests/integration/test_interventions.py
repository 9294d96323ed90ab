"""Founder interventions over signed requests: a founder posting in a client channel (once per
client and day), /intervention by hand, *Not an intervention* in one click, the month's count
against "< 1 a month" in /metrics and the digest (docs/process.md, "Founder interventions")."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from slack_sdk import WebClient
from sqlalchemy import select

from scheduling.engine import tick
from storage.models import Intervention
from tests.conftest import NY, BotHarness

AT = datetime(2026, 11, 20, 10, tzinfo=NY)


def rows(bot: BotHarness) -> list[Intervention]:
    with bot.db.session() as s:
        return list(s.scalars(select(Intervention).order_by(Intervention.id)))


def metrics(bot: BotHarness) -> str:
    n = len(bot.emulator.calls("response_url"))
    bot.command("/metrics", "2026-11", user="U0HOD")
    return json.dumps(bot.emulator.wait_for("response_url", count=n + 1)[n]["blocks"],
                      ensure_ascii=False)  # fmt: skip


def deliver(bot: BotHarness) -> None:
    web = bot.web
    assert isinstance(web, WebClient)
    report = tick(bot.deps, web, bot.clock.now().astimezone(UTC), bot.jobs)
    assert report.errors == {}


def test_a_founder_posting_in_a_client_channel_is_one_intervention_a_day(
    bot: BotHarness,
) -> None:
    bot.message("C0ACME", "U0FND", "Jumping in here: we will fix the export today.", AT)
    bot.message("C0ACME", "U0FND", "Update: the export is fixed.", AT.replace(hour=14))
    bot.settle()
    [row] = rows(bot)
    assert (row.founder_id, row.source, str(row.day)) == ("U0FND", "channel", "2026-11-20")
    assert row.reason.startswith("Jumping in here")
    deliver(bot)
    [dm] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0FND"]
    assert "Recorded a founder intervention on Acme Corp" in str(dm["text"])
    blob = metrics(bot)
    assert "Founder interventions a month: 1 (target < 1 a month: off target)" in blob


def test_the_days_first_message_is_the_one_quoted_in_whatever_order_they_are_processed(
    bot: BotHarness,
) -> None:
    bot.message("C0ACME", "U0FND", "Update: the export is fixed.", AT.replace(hour=14))
    bot.settle()
    assert rows(bot)[0].reason.startswith("Update")
    bot.message("C0ACME", "U0FND", "Jumping in here: we will fix the export today.", AT)
    bot.message("C0ACME", "U0FND", "One more thing on the export.", AT.replace(hour=16))
    bot.settle()
    [row] = rows(bot)
    assert row.reason.startswith("Jumping in here")
    assert row.posted_at == AT.astimezone(UTC)


def test_not_an_intervention_in_one_click(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0FND", "Happy to help with the renewal conversation.", AT)
    bot.settle()
    deliver(bot)
    [dm] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0FND"]
    blocks = json.loads(dm["blocks"]) if isinstance(dm["blocks"], str) else dm["blocks"]
    [button] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["text"]["text"] == "Not an intervention"

    def click(user: str) -> None:
        bot.interact({
            "type": "block_actions", "team": {"id": "T0EMU"},
            "user": {"id": user, "team_id": "T0EMU"}, "api_app_id": "A0CSOBOT",
            "trigger_id": "t", "container": {"type": "message"},
            "response_url": bot.emulator.response_url(f"dismiss-{user}"),
            "actions": [{"type": "button", "action_id": "intervention_dismiss", "block_id": "b",
                         "value": button["value"], "action_ts": "1"}],
        })  # fmt: skip
        bot.settle()

    click("U0CSO1")  # a CSO cannot dismiss it
    assert rows(bot)[0].dismissed_at is None
    click("U0HOD")
    assert rows(bot)[0].dismissed_by == "U0HOD"
    assert "Founder interventions a month: 0 (target < 1 a month: on target)" in metrics(bot)


def test_a_founder_in_an_internal_channel_without_an_open_flag_is_not_one(
    bot: BotHarness,
) -> None:
    bot.message("C0ACMEINT", "U0FND", "How is the Acme renewal looking this week?", AT)
    bot.settle()
    assert rows(bot) == []


def test_intervention_by_hand_and_in_the_digest(bot: BotHarness) -> None:
    bot.command("/intervention", 'acme "Their CEO called Jo about the missed deadline"',
                user="U0CSO1")  # fmt: skip
    reply = bot.wait_response()
    assert reply.startswith("Recorded a founder intervention on Acme Corp")
    [row] = rows(bot)
    assert (row.founder_id, row.source, row.recorded_by) == ("U0FND", "command", "U0CSO1")
    bot.clock.set(datetime(2026, 11, 23, 10, tzinfo=NY))
    bot.command("/digest", "2026-W47", user="U0HOD")
    blob = json.dumps(bot.emulator.wait_for("response_url", count=2)[1]["blocks"],
                      ensure_ascii=False)  # fmt: skip
    # escaped for Slack's mrkdwn, like every text the digest shows
    assert "*Founder interventions* — 1 in November 2026 (target &lt; 1 a month: above target)" in (
        blob
    )
    assert "Jo Founder on Acme Corp, 2026-11-20 — recorded by hand: Their CEO called Jo" in blob


def test_a_bad_intervention_command_says_what_to_type(bot: BotHarness) -> None:
    status, ack = bot.command("/intervention", "acme", user="U0CSO1")
    assert status == 200 and "say why a founder stepped in" in ack
    assert '/intervention acme "why a founder stepped in"' in ack


def test_a_founder_in_the_internal_channel_while_a_flag_is_open_is_one(bot: BotHarness) -> None:
    from tests.integration.flag_helpers import AT as FLAG_AT
    from tests.integration.flag_helpers import SCOPE_TEXT, reaction
    from tests.integration.flag_helpers import settle as flag_settle

    bot.message("C0ACME", "U0EXT1", SCOPE_TEXT, FLAG_AT)
    flag_settle(bot)
    assert reaction(bot, "U0CSO1") == 200  # an open scope-creep flag on acme
    flag_settle(bot)
    bot.message("C0ACMEINT", "U0FND", "Let's not take this on without a change request.", AT)
    bot.settle()
    [row] = rows(bot)
    assert (row.founder_id, row.source) == ("U0FND", "internal")


def test_an_escalation_that_reached_a_founder_counts(bot: BotHarness) -> None:
    from datetime import timedelta

    from domain.nudge import NudgeSpec
    from usecases.outbox import deliver_due, enqueue

    sent_at = datetime(2026, 11, 18, 15, tzinfo=NY)
    with bot.db.transaction() as s:
        for person in ("U0FND", "U0HOD"):  # the head of delivery's is not a founder's
            enqueue(
                s,
                NudgeSpec(
                    cadence_id="overdue_escalation", period="2026-11-18", target=person,
                    person_id=person, client_id=None, text="Acme missed 3 days",
                    due_at=sent_at, expires_at=sent_at + timedelta(hours=2),
                ),
                sent_at,
            )  # fmt: skip
    web = bot.web
    assert isinstance(web, WebClient)
    deliver_due(bot.db, web, sent_at)
    blob = metrics(bot)
    assert "Founder interventions a month: 1 (target < 1 a month: off target)" in blob


def _dismiss(bot: BotHarness, user: str, value: str) -> None:
    bot.interact({
        "type": "block_actions", "team": {"id": "T0EMU"},
        "user": {"id": user, "team_id": "T0EMU"}, "api_app_id": "A0CSOBOT",
        "trigger_id": "t", "container": {"type": "message"},
        "response_url": bot.emulator.response_url(f"dismiss-{user}"),
        "actions": [{"type": "button", "action_id": "intervention_dismiss", "block_id": "b",
                     "value": value, "action_ts": "1"}],
    })  # fmt: skip
    bot.settle()


def test_the_head_of_delivery_is_offered_the_dismiss_too(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0FND", "Happy to help with the renewal conversation.", AT)
    bot.settle()
    deliver(bot)
    [dm] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0HOD"]
    assert "Recorded a founder intervention by Jo Founder on Acme Corp" in str(dm["text"])
    blocks = json.loads(dm["blocks"]) if isinstance(dm["blocks"], str) else dm["blocks"]
    [button] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["text"]["text"] == "Not an intervention"
    assert button["value"] == str(rows(bot)[0].id)
    _dismiss(bot, "U0HOD", button["value"])
    assert rows(bot)[0].dismissed_by == "U0HOD"
    assert "Founder interventions a month: 0 (target < 1 a month: on target)" in metrics(bot)


def test_a_founder_in_the_internal_channel_while_an_escalation_is_open_is_one(
    bot: BotHarness,
) -> None:
    from storage.models import Client, Nudge
    from tests.integration.test_cadence_buttons import at

    with bot.db.session() as s:
        globex = s.scalars(select(Client).where(Client.slug == "globex")).one().id
    # No touchpoint on globex Monday to Wednesday: the third missed day reaches the head of
    # delivery (a real escalation, sent by the outbox and still open).
    for day in (16, 17, 18):
        at(bot, datetime(2026, 11, day, 15, 1, tzinfo=NY))
    with bot.db.session() as s:
        escalated = s.scalars(
            select(Nudge).where(Nudge.target == "U0HOD", Nudge.client_id == globex,
                                Nudge.status == "sent")
        ).all()  # fmt: skip
    assert escalated, "the head of delivery was escalated to about globex"
    bot.message("C0GLOBEXINT", "U0FND", "I'll call their VP today about the silence.",
                datetime(2026, 11, 18, 16, tzinfo=NY))  # fmt: skip
    bot.settle()
    [row] = rows(bot)
    assert (row.founder_id, row.source, row.client_id) == ("U0FND", "internal", globex)


def test_a_founder_in_the_internal_channel_after_the_escalation_closed_is_not_one(
    bot: BotHarness,
) -> None:
    from tests.integration.test_cadence_buttons import at

    for day in (16, 17, 18):
        at(bot, datetime(2026, 11, day, 15, 1, tzinfo=NY))
    # Touchpoints close the escalations (both clients missed the days).
    for channel in ("C0GLOBEX", "C0ACME"):
        bot.message(channel, "U0CSO1", "Shipped the new dashboard filters you asked for today.",
                    datetime(2026, 11, 18, 15, 30, tzinfo=NY))  # fmt: skip
    bot.settle()
    bot.message("C0GLOBEXINT", "U0FND", "How is globex doing this week, anything I should know?",
                datetime(2026, 11, 18, 16, tzinfo=NY))  # fmt: skip
    bot.settle()
    assert rows(bot) == []
