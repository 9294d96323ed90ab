"""Every reminder button, `/cso prefs` and `/cso ooo`, end to end: signed HTTP into the real
app, Slack Web API calls into the emulator."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from devkit.emulator import Call
from domain.calendar import IsoWeek
from domain.kpi import kpi_json
from domain.nudge import line_key, listed
from scheduling.engine import tick
from storage import cadence_store
from storage.kpi_store import load_week_kpi
from storage.models import CadenceDone, Exemption, Nudge, Touchpoint
from tests.conftest import NY, BotHarness, wait_until

FRIDAY_CUTOFF = datetime(2026, 11, 20, 15, 1, tzinfo=NY)
WEDNESDAY_SYNC = datetime(2026, 11, 18, 11, 1, tzinfo=NY)


def web(bot: BotHarness) -> WebClient:
    client = bot.web
    assert isinstance(client, WebClient)
    return client


def at(bot: BotHarness, moment: datetime) -> Any:
    bot.clock.set(moment)
    report = tick(bot.deps, web(bot), moment.astimezone(UTC), bot.jobs)
    assert report.errors == {}
    return report


def nudge(bot: BotHarness, key_prefix: str, target: str = "U0CSO1", slug_id: int | None = None):
    """The reminder about the client (a checklist's line for it: the checklist's row, with the
    line's address as its key, as the line's button carries it)."""
    with bot.db.session() as s:
        rows = s.scalars(
            select(Nudge).where(Nudge.key.startswith(key_prefix), Nudge.target == target)
        ).all()
        for row in rows:
            if slug_id in [c["id"] for c in listed(row.data)]:
                line = {"key": line_key(row.key, slug_id), "client_id": slug_id}
                return SimpleNamespace(**{**row_values(row), **line})
        rows = [r for r in rows if slug_id is None or r.client_id == slug_id]
        assert rows, f"no nudge {key_prefix} for {target}"
        return rows[0]


def row_values(row: Nudge) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in Nudge.__table__.c}


def client_id(bot: BotHarness, slug: str) -> int:
    from storage.models import Client

    with bot.db.session() as s:
        row = s.scalars(select(Client).where(Client.slug == slug)).one()
        return row.id


def click(bot: BotHarness, row: Any, action_id: str, user: str = "U0CSO1") -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0EMU"},
        "user": {"id": user, "team_id": "T0EMU"},
        "api_app_id": "A0CSOBOT",
        "trigger_id": f"trig-{action_id}",
        "container": {
            "type": "message",
            "channel_id": row.message_channel,
            "message_ts": row.message_ts,
        },
        "channel": {"id": row.message_channel},
        "message": {"ts": row.message_ts, "text": row.text},
        "response_url": bot.emulator.response_url(f"act-{action_id}"),
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"b-{row.id}",
                "value": row.key,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    status, _ = bot.interact(payload)
    assert status == 200


def submit(bot: BotHarness, view: dict[str, Any], values: dict[str, Any], user: str = "U0CSO1"):
    payload = {
        "type": "view_submission",
        "team": {"id": "T0EMU"},
        "user": {"id": user, "team_id": "T0EMU"},
        "api_app_id": "A0CSOBOT",
        "trigger_id": "t-submit",
        "view": {**view, "id": view.get("id", "V1"), "state": {"values": values}},
    }
    return bot.interact(payload)


def update_of(bot: BotHarness, ts: str | None, count: int = 1) -> Call:
    calls = bot.emulator.wait_for("chat.update", count=count, where=lambda c: c["ts"] == ts)
    return calls[count - 1]


def texts(call: Call) -> str:
    return json.dumps(call["blocks"], ensure_ascii=False)


# -- Log touchpoint ------------------------------------------------------------------------------
def test_log_touchpoint_opens_the_form_for_that_client_and_its_submission_closes_the_reminder(
    bot: BotHarness,
) -> None:
    at(bot, FRIDAY_CUTOFF)
    row = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "globex"))
    assert row.status == "sent" and row.message_ts
    click(bot, row, "cadence_log")
    [opened] = bot.emulator.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == "touchpoint_modal"
    assert view["blocks"][0]["element"]["initial_option"]["value"] == "globex"
    values = {
        "client": {"value": {"selected_option": {"value": "globex"}}},
        "kind": {"value": {"selected_option": {"value": "call"}}},
        "note": {"value": {"value": "Quick call about the dashboard"}},
        "day": {"value": {"selected_date": "2026-11-20"}},
    }
    status, raw = submit(bot, view, values)
    assert status == 200 and raw in (b"", b"{}")
    update = update_of(bot, row.message_ts)
    assert "Call touchpoint logged by <@U0CSO1>" in texts(update)
    # acme's line keeps its buttons; globex's has none left.
    acme_key = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "acme")).key
    assert acme_key in texts(update) and row.key not in texts(update)
    assert nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "globex")).status == "closed"


def test_a_touchpoint_in_the_channel_after_the_reminder_updates_it(bot: BotHarness) -> None:
    at(bot, FRIDAY_CUTOFF)
    row = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "acme"))
    bot.message(
        "C0ACME",
        "U0CSO1",
        "The dashboard is live for your team!",
        FRIDAY_CUTOFF + timedelta(minutes=5),
    )
    update = update_of(bot, row.message_ts)
    assert "Touchpoint logged in the channel" in texts(update)
    closed = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "acme"))
    assert (closed.status, closed.closed_by) == ("closed", "touchpoint")
    # The next tick does not send it again.
    assert at(bot, FRIDAY_CUTOFF + timedelta(minutes=10)).deliveries == []


def test_touchpoint_command_closes_the_reminder(bot: BotHarness) -> None:
    at(bot, FRIDAY_CUTOFF)
    row = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "globex"))
    bot.command("/touchpoint", 'globex email "Sent the weekly summary"')
    update = update_of(bot, row.message_ts)
    assert "Email touchpoint logged" in texts(update)


# -- Skip today ----------------------------------------------------------------------------------
def test_skip_today_asks_the_reason_and_records_an_exemption(bot: BotHarness) -> None:
    at(bot, FRIDAY_CUTOFF)
    row = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "globex"))
    click(bot, row, "cadence_skip")
    [opened] = bot.emulator.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == "cadence_skip_modal"
    status, raw = submit(bot, view, {"reason": {"value": {"value": "  "}}})
    assert json.loads(raw)["errors"] == {"reason": "Say why, in a few words."}
    status, raw = submit(bot, view, {"reason": {"value": {"value": "Client offsite"}}})
    assert status == 200
    update = update_of(bot, row.message_ts)
    assert "Skipped 2026-11-20 by <@U0CSO1>: Client offsite" in texts(update)
    with bot.db.session() as s:
        [ex] = s.scalars(select(Exemption)).all()
    assert (ex.day, ex.reason, ex.created_by) == (date(2026, 11, 20), "Client offsite", "U0CSO1")
    with bot.db.session() as s:
        kpi = load_week_kpi(s, IsoWeek(2026, 47), FRIDAY_CUTOFF)
    globex = next(c for cso in kpi.csos for c in cso.clients if c.slug == "globex")
    assert globex.daily.exempt == [{"date": "2026-11-20", "reason": "Client offsite"}]


# -- Snooze 1h -----------------------------------------------------------------------------------
def test_snooze_sends_it_again_an_hour_later_once(bot: BotHarness) -> None:
    at(bot, FRIDAY_CUTOFF)
    row = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "globex"))
    click(bot, row, "cadence_snooze")
    update = update_of(bot, row.message_ts)
    assert "Snoozed until 16:01" in texts(update)
    assert at(bot, FRIDAY_CUTOFF + timedelta(minutes=30)).deliveries == []
    report = at(bot, FRIDAY_CUTOFF + timedelta(minutes=61))
    [again] = report.deliveries
    assert again.target == "U0CSO1" and row.key + ":snooze1" in again.keys
    dm = bot.emulator.calls("chat.postMessage")[-1]
    assert dm["text"].startswith("Overdue touchpoints: Globex\n")
    assert at(bot, FRIDAY_CUTOFF + timedelta(minutes=62)).deliveries == []


# -- Done (a cadence closed by a click) ----------------------------------------------------------
def test_done_on_triangle_sync_closes_it_for_the_whole_triangle_and_counts_in_the_kpi(
    bot: BotHarness,
) -> None:
    at(bot, WEDNESDAY_SYNC)
    acme = client_id(bot, "acme")
    lee = nudge(bot, "triangle-sync", target="U0SL1", slug_id=acme)
    dana = nudge(bot, "triangle-sync", target="U0CSO1", slug_id=acme)
    bot.clock.set(WEDNESDAY_SYNC + timedelta(hours=1))
    click(bot, lee, "cadence_done", user="U0SL1")
    globex = client_id(bot, "globex")
    for row in (lee, dana):
        # One reminder lists the person's clients: Acme is done, Globex still has its button.
        blocks = update_of(bot, row.message_ts)["blocks"]
        lines = {b["text"]["text"]: b.get("accessory") for b in blocks if b["type"] == "section"}
        done = "• Acme Corp — :white_check_mark: Done — <@U0SL1>, Wed 2026-11-18 12:01"
        assert lines[done] is None
        button = lines["• Globex"]
        assert button is not None and button["value"] == row.key.replace(f"|{acme}", f"|{globex}")
    with bot.db.session() as s:
        for row in (lee, dana):
            assert s.get(Nudge, row.id).status == "sent"  # open, for Globex
    with bot.db.session() as s:
        [done] = s.scalars(select(CadenceDone)).all()
    assert (done.cadence_id, done.client_id, done.done_by) == ("triangle-sync", acme, "U0SL1")
    with bot.db.session() as s:
        kpi = load_week_kpi(s, IsoWeek(2026, 47), WEDNESDAY_SYNC + timedelta(hours=2))
    rows = next(c for c in kpi_json(kpi)["csos"] if c["slack_id"] == "U0CSO1")["cadences"]
    tri = {r["client"]: r for r in rows if r["cadence"] == "triangle-sync"}
    assert tri["acme"]["done"] is True and tri["acme"]["done_by"] == "U0SL1"
    assert tri["globex"]["done"] is False
    assert set(kpi_json(kpi)) == {"week", "overall", "csos", "has_data"}


def test_the_last_client_done_closes_the_checklist_and_done_stays_done(
    bot: BotHarness,
) -> None:
    at(bot, WEDNESDAY_SYNC)
    acme, globex = client_id(bot, "acme"), client_id(bot, "globex")
    lee = nudge(bot, "triangle-sync", target="U0SL1", slug_id=acme)
    dana_acme = nudge(bot, "triangle-sync", slug_id=acme)
    dana_globex = nudge(bot, "triangle-sync", slug_id=globex)
    click(bot, dana_acme, "cadence_done")
    update_of(bot, dana_acme.message_ts)
    click(bot, dana_globex, "cadence_done")
    update_of(bot, dana_globex.message_ts, count=2)
    with bot.db.session() as s:
        assert s.get(Nudge, dana_acme.id).status == "closed"  # both of Dana's clients done
        assert s.get(Nudge, lee.id).status == "sent"  # Lee still has Initech
        done = {(d.client_id, d.done_by) for d in s.scalars(select(CadenceDone))}
    assert done == {(acme, "U0CSO1"), (globex, "U0CSO1")}
    click(bot, lee, "cadence_done", user="U0SL1")  # Acme again, from a stale copy of Lee's
    bot.settle()
    with bot.db.session() as s:
        again = {(d.client_id, d.done_by) for d in s.scalars(select(CadenceDone))}
    assert again == done  # done once, by whoever was first


def test_a_line_is_for_its_clients_team_and_only_for_a_client_it_lists(
    bot: BotHarness,
) -> None:
    at(bot, WEDNESDAY_SYNC)
    acme = client_id(bot, "acme")
    dana = nudge(bot, "triangle-sync", slug_id=acme)
    # Sam is Initech's CSO, not on Acme's team: refused, nothing written.
    click(bot, dana, "cadence_done", user="U0CSO2")
    assert wait_until(lambda: [t for t in bot.responses() if t.startswith("Sorry —")])
    # Dana's list does not have Initech: a made-up line for it is no reminder at all.
    initech = client_id(bot, "initech")
    made_up = SimpleNamespace(**{**vars(dana), "key": dana.key.replace(f"|{acme}", f"|{initech}")})
    click(bot, made_up, "cadence_done", user="U0SL1")  # Lee is on Initech's team
    assert wait_until(lambda: [t for t in bot.responses() if "no longer open" in t])
    # A line is closed by Done, never snoozed (a forged Snooze queues nothing).
    click(bot, dana, "cadence_snooze")
    assert wait_until(lambda: len([t for t in bot.responses() if "no longer open" in t]) == 2)
    bot.settle()
    with bot.db.session() as s:
        assert s.scalars(select(CadenceDone)).all() == []
        assert s.scalars(select(Nudge).where(Nudge.key.contains("snooze"))).all() == []
        assert s.get(Nudge, dana.id).status == "sent"


def test_a_button_on_a_closed_reminder_says_so(bot: BotHarness) -> None:
    at(bot, FRIDAY_CUTOFF)
    row = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "acme"))
    bot.command("/touchpoint", 'acme email "Sent it"')
    update_of(bot, row.message_ts)
    click(bot, row, "cadence_snooze")
    said = wait_until(lambda: [t for t in bot.responses() if "no longer open" in t])
    assert said


# -- /cso prefs ----------------------------------------------------------------------------------
def test_prefs_show_and_change_the_cutoff(bot: BotHarness) -> None:
    bot.command("/cso", "prefs")
    shown = bot.wait_response()
    assert "15:00 (default)" in shown and "18:00-09:00" in shown and "America/New_York" in shown
    bot.command("/cso", "prefs cutoff 16:00")
    assert "Touchpoint cutoff (the overdue-touchpoint DM): 16:00" in bot.wait_response(2)
    early = at(bot, FRIDAY_CUTOFF)
    assert not any(k.startswith("touchpoint-cutoff") for d in early.deliveries for k in d.keys)
    report = at(bot, datetime(2026, 11, 20, 16, 0, tzinfo=NY))
    assert any(k.startswith("touchpoint-cutoff:U0CSO1") for d in report.deliveries for k in d.keys)


def test_prefs_bad_input_says_what_to_type(bot: BotHarness) -> None:
    _, ack = bot.command("/cso", "prefs cutof 16:00")
    assert "did you mean `cutoff`" in ack and "Usage:" in ack
    _, ack = bot.command("/cso", "prefs cutoff 25:00")
    assert "HH:MM" in ack
    _, ack = bot.command("/cso", "prefs quiet 09:00-18:00")
    assert "evening to the morning" in ack
    _, ack = bot.command("/cso", "")
    assert "Usage:" in ack


def test_quiet_hours_hold_a_nudge_until_they_end(bot: BotHarness) -> None:
    bot.command("/cso", "prefs quiet 18:00-10:00")
    bot.wait_response()
    # The stand-up pulse reminder is due at 09:30; Dana's day now starts at 10:00.
    early = at(bot, datetime(2026, 11, 20, 9, 31, tzinfo=NY))
    assert "U0CSO1" not in [d.target for d in early.deliveries]
    report = at(bot, datetime(2026, 11, 20, 10, 0, tzinfo=NY))
    dana = [d for d in report.deliveries if d.target == "U0CSO1"]
    assert dana and any(k.startswith("standup-pulse") for k in dana[0].keys)


def test_do_not_disturb_holds_the_nudge_until_it_ends(bot: BotHarness) -> None:
    bot.emulator.set_dnd("U0CSO1", time.time() + 3600)
    assert "U0CSO1" not in [d.target for d in at(bot, FRIDAY_CUTOFF).deliveries]
    assert bot.emulator.calls("dnd.info")
    bot.emulator.set_dnd("U0CSO1", None)
    later = at(bot, FRIDAY_CUTOFF + timedelta(minutes=16))
    assert "U0CSO1" in [d.target for d in later.deliveries]


def test_the_daily_cap_holds_back_ordinary_nudges(bot: BotHarness) -> None:
    bot.command("/cso", "prefs cap 1")
    bot.wait_response()
    first = at(bot, datetime(2026, 11, 20, 9, 31, tzinfo=NY))  # the stand-up pulse
    assert "U0CSO1" in [d.target for d in first.deliveries]
    held = at(bot, datetime(2026, 11, 20, 10, 31, tzinfo=NY))
    assert "U0CSO1" not in [d.target for d in held.deliveries]
    # The overdue-touchpoint DM still comes: the cap never hides the KPI's reminder.
    late = at(bot, FRIDAY_CUTOFF)
    assert any(k.startswith("touchpoint-cutoff") for d in late.deliveries for k in d.keys)


# -- /cso ooo ------------------------------------------------------------------------------------
def test_out_of_office_tells_the_service_lead_silences_nudges_and_exempts_the_kpi(
    bot: BotHarness,
) -> None:
    bot.command("/cso", "ooo 2026-11-23 2026-11-25")
    assert "out of office 2026-11-23 → 2026-11-25" in bot.wait_response()
    [heads_up] = bot.emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "U0SL1")
    assert "Dana Reyes (CSO) is out of office" in heads_up["text"]
    assert "Acme Corp" in heads_up["text"] and "Globex" in heads_up["text"]
    tuesday = datetime(2026, 11, 24, 15, 1, tzinfo=NY)
    report = at(bot, tuesday)
    assert "U0CSO1" not in [d.target for d in report.deliveries]
    with bot.db.session() as s:
        kpi = load_week_kpi(s, IsoWeek(2026, 48), datetime(2026, 11, 27, 12, tzinfo=NY))
    acme = next(c for cso in kpi.csos for c in cso.clients if c.slug == "acme")
    assert {"date": "2026-11-24", "reason": "out of office"} in acme.daily.exempt
    assert acme.daily.missed == []
    bot.command("/cso", "ooo cancel")
    assert "out of office cancelled" in bot.wait_response(2)
    report = at(bot, datetime(2026, 11, 25, 15, 1, tzinfo=NY))
    assert "U0CSO1" in [d.target for d in report.deliveries]


def test_ooo_bad_dates_say_what_to_type(bot: BotHarness) -> None:
    _, ack = bot.command("/cso", "ooo 2026-12-31 2026-12-24")
    assert "before the first" in ack
    _, ack = bot.command("/cso", "ooo christmas")
    assert "YYYY-MM-DD" in ack


def test_touchpoints_are_not_lost_while_closing(bot: BotHarness) -> None:
    """The recording comes first: a reminder that fails to update never loses a touchpoint."""
    at(bot, FRIDAY_CUTOFF)
    bot.emulator.fail_next("chat.update", 500, times=10)
    bot.message(
        "C0GLOBEX",
        "U0CSO1",
        "Sharing the renewal deck with you now",
        FRIDAY_CUTOFF + timedelta(minutes=3),
    )

    def recorded() -> list[Touchpoint]:
        with bot.db.session() as s:
            return list(s.scalars(select(Touchpoint)))

    assert wait_until(recorded)
    bot.emulator.wait_for("chat.update", count=3)  # retried, then given up: logged, not raised
    closed = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "globex"))
    assert closed.status == "closed"


def test_a_win_closes_the_weekly_presentation_reminder(bot: BotHarness) -> None:
    at(bot, datetime(2026, 11, 20, 10, 1, tzinfo=NY))
    row = nudge(bot, "weekly-presentation", slug_id=client_id(bot, "acme"))
    assert row.status == "sent"
    bot.command("/win", 'acme "Demoed the pipeline: reports 2 days faster"')
    update = update_of(bot, row.message_ts)
    assert "Win recorded by <@U0CSO1>" in texts(update)
    assert '• Globex"' in texts(update)  # still open, no outcome beside it
    assert nudge(bot, "weekly-presentation", slug_id=client_id(bot, "acme")).status == "closed"


def test_a_long_overdue_list_fits_slack_with_a_menu_per_client(bot: BotHarness) -> None:
    from tests.conftest import SAMPLE_PORTFOLIO, load_portfolio

    extra = "".join(
        f"  - {{slug: smb{i:02d}, name: Small Co {i:02d}, cso: U0CSO1, service_lead: U0SL1}}\n"
        for i in range(30)
    )
    load_portfolio(bot.db, SAMPLE_PORTFOLIO + extra)
    at(bot, FRIDAY_CUTOFF)
    [dm] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0CSO1"]
    assert len(dm["blocks"]) <= 50
    assert "Small Co 29" in dm["text"]  # every client is named in the text
    menus = [
        b["accessory"] for b in dm["blocks"] if b.get("accessory", {}).get("type") == "overflow"
    ]
    assert len(menus) >= 30
    row = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "smb07"))
    chosen = next(o for m in menus for o in m["options"] if o["value"] == f"snooze:{row.id}")
    assert chosen["text"]["text"] == "Snooze 1h"
    body = {
        "type": "block_actions",
        "team": {"id": "T0EMU"},
        "user": {"id": "U0CSO1"},
        "api_app_id": "A0CSOBOT",
        "trigger_id": "trig-menu",
        "container": {
            "type": "message",
            "channel_id": row.message_channel,
            "message_ts": row.message_ts,
        },
        "channel": {"id": row.message_channel},
        "message": {"ts": row.message_ts},
        "actions": [
            {
                "type": "overflow",
                "action_id": "cadence_menu",
                "block_id": "x",
                "selected_option": chosen,
                "action_ts": "1",
            }
        ],
    }
    status, _ = bot.interact(body)
    assert status == 200
    update = update_of(bot, row.message_ts)
    # Too much for one message: one line per client, the snooze shown on Small Co 07's line.
    [line] = [
        b["text"]["text"]
        for b in update["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("*Small Co 07*")
    ]
    assert ":zzz: Snoozed until 16:01." in line


def test_prefs_standup_moves_the_stand_up_reminder(bot: BotHarness) -> None:
    bot.command("/cso", "prefs standup 10:15")
    assert "Stand-up pulse reminder: 10:15" in bot.wait_response()
    early = at(bot, datetime(2026, 11, 20, 9, 45, tzinfo=NY))
    assert not any(k.startswith("standup-pulse:U0CSO1") for d in early.deliveries for k in d.keys)
    report = at(bot, datetime(2026, 11, 20, 10, 15, tzinfo=NY))
    assert any(k.startswith("standup-pulse:U0CSO1") for d in report.deliveries for k in d.keys)


# -- a click is atomic -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "breaks"),
    [
        ("cadence_done", "close_occurrence"),  # after the Done mark is written
        ("cadence_snooze", "close_nudge"),  # after the snoozed reminder is queued
    ],
)
def test_a_click_that_breaks_midway_writes_nothing(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, action: str, breaks: str
) -> None:
    moment = WEDNESDAY_SYNC if action == "cadence_done" else FRIDAY_CUTOFF
    at(bot, moment)
    cadence = "triangle-sync" if action == "cadence_done" else "touchpoint-cutoff"
    row = nudge(bot, cadence, slug_id=client_id(bot, "acme"))
    broke: list[str] = []

    def boom(*args: Any, **kwargs: Any) -> Any:
        broke.append(breaks)
        raise RuntimeError("the database went away mid-click")

    monkeypatch.setattr(cadence_store, breaks, boom)
    click(bot, row, action)
    assert wait_until(lambda: broke)
    bot.settle()
    with bot.db.session() as s:
        assert s.scalars(select(CadenceDone)).all() == []
        assert s.scalars(select(Nudge).where(Nudge.key.endswith(":snooze1"))).all() == []
        assert s.get(Nudge, row.id).status == "sent"


def test_a_skip_that_breaks_midway_records_no_exemption(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(bot, FRIDAY_CUTOFF)
    row = nudge(bot, "touchpoint-cutoff", slug_id=client_id(bot, "globex"))
    click(bot, row, "cadence_skip")
    [opened] = bot.emulator.wait_for("views.open")
    broke: list[str] = []

    def boom(*args: Any, **kwargs: Any) -> Any:
        broke.append("close_for_client")
        raise RuntimeError("the database went away mid-click")

    monkeypatch.setattr(cadence_store, "close_for_client", boom)
    status, _ = submit(bot, opened["view"], {"reason": {"value": {"value": "Client offsite"}}})
    assert status == 200
    assert wait_until(lambda: broke)
    bot.settle()
    with bot.db.session() as s:
        assert s.scalars(select(Exemption)).all() == []
        assert s.get(Nudge, row.id).status == "sent"
