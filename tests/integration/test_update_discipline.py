"""Morning update and end-of-day recap, end to end: signed messages and /update into the real
app, reminders from the tick, the KPI's `updates` (docs/process.md, "Daily client updates")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.calendar import IsoWeek
from domain.kpi import kpi_json
from storage.kpi_store import load_week_kpi
from tests.conftest import NY, BotHarness
from tests.integration.test_cadence_buttons import at, client_id, nudge
from tests.integration.test_client_update import GOOD, opened_view, submit

W47 = IsoWeek(2026, 47)
PLAN = "Today we're working on the attribution model and the tag QA for your team"
RESULTS = "Completed the tag QA and shipped the attribution model to production"
NEITHER = "Here is the renewal summary with the numbers you asked about"


def updates(bot: BotHarness, slug: str) -> dict[str, Any]:
    with bot.db.session() as tx:
        kpi = kpi_json(load_week_kpi(tx, W47, bot.clock.now()))
    [c] = [c for cso in kpi["csos"] for c in cso["clients"] if c["slug"] == slug]
    return dict(c["updates"])


def status(bot: BotHarness, cadence: str, slug: str) -> str:
    return str(nudge(bot, cadence, slug_id=client_id(bot, slug)).status)


def test_the_morning_reminder_closes_only_on_a_morning_update(bot: BotHarness) -> None:
    at(bot, datetime(2026, 11, 20, 10, 31, tzinfo=NY))  # the morning-update reminders go out
    assert status(bot, "morning-update", "globex") == "sent"
    bot.message("C0GLOBEX", "U0CSO1", NEITHER, datetime(2026, 11, 20, 10, 35, tzinfo=NY))
    bot.settle()
    assert status(bot, "morning-update", "globex") == "sent"  # a touch, but not the plan
    bot.message("C0GLOBEX", "U0CSO1", PLAN, datetime(2026, 11, 20, 10, 40, tzinfo=NY))
    bot.settle()
    assert status(bot, "morning-update", "globex") == "closed"
    assert status(bot, "morning-update", "acme") == "sent"
    u = updates(bot, "globex")
    assert u["expected"] == 5
    assert u["morning"] == {"done": 1, "missed": ["2026-11-16", "2026-11-17", "2026-11-18",
                                                  "2026-11-19"], "pending": []}  # fmt: skip
    assert u["eod"]["pending"] == ["2026-11-20"] and u["eod"]["done"] == 0
    with bot.db.session() as tx:
        kpi = kpi_json(load_week_kpi(tx, W47, bot.clock.now()))
    [globex] = [c for cso in kpi["csos"] for c in cso["clients"] if c["slug"] == "globex"]
    slots = [i["update"] for i in globex["daily"]["evidence"]["2026-11-20"]]
    assert slots == [None, "morning"]  # the evidence shows which touch was the update


def test_the_eod_reminder_closes_only_on_a_recap_and_a_plan_is_not_a_recap(
    bot: BotHarness,
) -> None:
    at(bot, datetime(2026, 11, 20, 16, 31, tzinfo=NY))
    assert status(bot, "eod-recap", "globex") == "sent"
    bot.message("C0GLOBEX", "U0CSO1", NEITHER, datetime(2026, 11, 20, 16, 35, tzinfo=NY))
    bot.settle()
    assert status(bot, "eod-recap", "globex") == "sent"
    bot.message("C0GLOBEX", "U0CSO1", RESULTS, datetime(2026, 11, 20, 16, 40, tzinfo=NY))
    bot.settle()
    assert status(bot, "eod-recap", "globex") == "closed"
    assert updates(bot, "globex")["eod"]["done"] == 1
    assert updates(bot, "globex")["morning"]["pending"] == ["2026-11-20"]  # results ≠ plan


def test_a_recap_sent_with_update_eod_counts_and_closes_the_eod_reminder(
    bot: BotHarness,
) -> None:
    at(bot, datetime(2026, 11, 20, 16, 31, tzinfo=NY))
    bot.command("/update", "globex eod")
    status_code, body = submit(bot, opened_view(bot), GOOD)
    assert (status_code, body) == (200, {})
    bot.settle()
    assert status(bot, "eod-recap", "globex") == "closed"
    u = updates(bot, "globex")
    assert u["eod"]["done"] == 1 and u["morning"]["done"] == 0


def test_a_logged_call_is_a_touch_but_not_an_update(bot: BotHarness) -> None:
    at(bot, datetime(2026, 11, 20, 10, 31, tzinfo=NY))
    bot.command("/touchpoint", 'globex call "Walked through the roadmap"')
    bot.wait_response()
    bot.settle()
    assert status(bot, "morning-update", "globex") == "sent"
    assert updates(bot, "globex")["morning"]["done"] == 0


def test_the_digest_shows_update_discipline_apart_from_the_rate(bot: BotHarness) -> None:
    import json

    bot.message("C0GLOBEX", "U0CSO1", PLAN, datetime(2026, 11, 18, 9, 40, tzinfo=NY))
    bot.message("C0GLOBEX", "U0CSO1", RESULTS, datetime(2026, 11, 18, 17, 0, tzinfo=NY))
    bot.settle()
    bot.clock.set(datetime(2026, 11, 23, 10, tzinfo=NY))
    bot.command("/digest", "2026-W47", user="U0HOD")
    bot.wait_response()
    blob = json.dumps(bot.emulator.calls("response_url")[0]["blocks"], ensure_ascii=False)
    assert "Update discipline (not in the rate): morning updates 1/15 · end-of-day recaps 1/15" in (
        blob
    )
    assert "Update discipline: morning 1/10 · end of day 1/10" in blob  # Dana: acme + globex
