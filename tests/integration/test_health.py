"""Health over signed requests and the Slack emulator: /health and its modal, /nps, the App
Home board, /playbook and its buttons, /renewal, /qbr, and the health/renewal/step nudges."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from devkit.emulator import Call
from scheduling.engine import tick
from storage.models import (
    HealthSnapshot,
    NpsResponse,
    Nudge,
    PlaybookRun,
    PlaybookRunStep,
    QbrRecord,
    RenewalOutcomeRecord,
)
from tests.conftest import NY, SAMPLE_PORTFOLIO, BotHarness, load_portfolio, wait_until

ACME = {
    "login_frequency": 9,
    "feature_adoption": 8,
    "active_vs_licensed": 9,
    "support_tickets_inverse": 9,
    "executive_engagement": 8,
    "meeting_attendance": 7,
    "nps": 9,
    "response_time": 8,
    "goals_achieved": 8,
    "roi_demonstrated": 9,
    "business_impact": 8,
}


def _all(bot: BotHarness, model: type) -> list[Any]:
    with bot.db.session() as s:
        return list(s.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]


def submit_signals(
    bot: BotHarness,
    slug: str,
    values: dict[str, Any],
    *,
    user: str = "U0CSO1",
    view_id: str = "VSIG1",
) -> tuple[int, bytes]:
    state = {
        name: {"value": {"type": "number_input", "value": None if v is None else str(v)}}
        for name, v in values.items()
    }
    return bot.interact(
        {
            "type": "view_submission",
            "team": {"id": "T0EMU"},
            "user": {"id": user, "team_id": "T0EMU"},
            "api_app_id": "A0CSOBOT",
            "trigger_id": "t-sig",
            "view": {
                "id": view_id,
                "type": "modal",
                "callback_id": "health_signals",
                "private_metadata": json.dumps({"slug": slug}),
                "state": {"values": state},
            },
        }
    )


def click(
    bot: BotHarness,
    action_id: str,
    value: str,
    *,
    user: str = "U0CSO1",
    where: str = "message",
    message_ts: str = "1.000001",
) -> tuple[int, bytes]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0EMU"},
        "user": {"id": user, "team_id": "T0EMU"},
        "api_app_id": "A0CSOBOT",
        "trigger_id": "t-click",
        "actions": [{"action_id": action_id, "value": value, "type": "button"}],
    }
    if where == "home":
        payload["container"] = {"type": "view", "view_id": "VHOME"}
        payload["view"] = {"id": "VHOME", "type": "home"}
    elif where == "ephemeral":
        payload["container"] = {"type": "message", "is_ephemeral": True, "channel_id": "C0X"}
        payload["response_url"] = bot.emulator.response_url("click")
        payload["channel"] = {"id": "C0X"}
    else:
        payload["container"] = {"type": "message", "channel_id": "D0CSO1", "message_ts": message_ts}
        payload["channel"] = {"id": "D0CSO1"}
        payload["message"] = {"ts": message_ts, "text": ""}
    return bot.interact(payload)


def score_acme(bot: BotHarness, values: dict[str, Any] | None = None, view: str = "V1") -> None:
    status, raw = submit_signals(bot, "acme", values or ACME, view_id=view)
    assert status == 200 and raw in (b"", b"{}")
    wait_until(lambda: any(s.dedupe_key == f"modal:{view}" for s in _all(bot, HealthSnapshot)))


# -- /health and the modal --------------------------------------------------------------------


def test_health_without_a_score_offers_to_edit_the_signals(bot: BotHarness) -> None:
    bot.command("/health", "acme")
    call = bot.emulator.wait_for("response_url")[0]
    assert call["response_type"] == "ephemeral"
    assert "no health score yet" in call["text"]
    assert "health_edit" in json.dumps(call["blocks"], ensure_ascii=False)


def test_health_edit_opens_the_modal_and_the_submission_scores_the_process_example(
    bot: BotHarness,
) -> None:
    bot.command("/health", "acme edit")
    [opened] = bot.emulator.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == "health_signals"
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert inputs == list(ACME)  # the three pillars' eleven sub-signals
    score_acme(bot)
    [snap] = _all(bot, HealthSnapshot)
    assert (snap.score, snap.band, snap.model_id) == (84.0, "green", "three-pillar")
    assert snap.changed_by == "U0CSO1" and snap.source == "modal"
    assert {c["signal"] for c in snap.changes} == set(ACME)
    dm = bot.emulator.wait_for("chat.postMessage")[0]
    assert dm["channel"] == "U0CSO1" and "84 Green" in dm["text"]
    # the modal shows the current values next time
    bot.command("/health", "acme edit")
    second = bot.emulator.wait_for("views.open", count=2)[1]["view"]
    nps = next(b for b in second["blocks"] if b.get("block_id") == "nps")
    assert nps["element"]["initial_value"] == "9"
    # and the breakdown shows pillars, the weakest signals and the edit button
    bot.command("/health", "acme")
    call = bot.emulator.wait_for("response_url")[-1]
    blob = json.dumps(call["blocks"], ensure_ascii=False)
    assert "Acme Corp — 84 Green" in blob
    assert "*Product* (40%)" in blob and "*Relationship* (30%)" in blob
    assert "Meeting attendance: *7*" in blob
    assert "health_edit" in blob
    assert "Suggested playbook" not in blob  # Green and nothing below 5


def test_a_red_breakdown_suggests_a_playbook_that_starts_from_its_button(bot: BotHarness) -> None:
    low = {**ACME, "executive_engagement": 2, "meeting_attendance": 2, "nps": 3}
    low.update(
        goals_achieved=3,
        login_frequency=4,
        feature_adoption=4,
        roi_demonstrated=3,
        business_impact=3,
    )
    score_acme(bot, low)
    bot.command("/health", "acme")
    call = bot.emulator.wait_for("response_url")[-1]
    blob = json.dumps(call["blocks"], ensure_ascii=False)
    assert "Red" in blob and "Suggested playbook:* Low engagement" in blob
    assert "acme:low-engagement" in blob
    click(bot, "health_start_playbook", "acme:low-engagement", where="ephemeral")
    wait_until(lambda: _all(bot, PlaybookRun))
    [run] = _all(bot, PlaybookRun)
    assert (run.playbook_id, run.status, run.trigger) == ("low-engagement", "active", "button")


def test_modal_rejects_out_of_range_values_with_field_errors(bot: BotHarness) -> None:
    status, raw = submit_signals(bot, "acme", {"nps": "12", "login_frequency": "x"})
    body = json.loads(raw)
    assert status == 200 and body["response_action"] == "errors"
    assert set(body["errors"]) == {"nps", "login_frequency"}
    assert _all(bot, HealthSnapshot) == []


def test_unknown_client_and_bad_text(bot: BotHarness) -> None:
    bot.command("/health", "acmee")
    assert "did you mean acme" in bot.wait_response()
    _, ack = bot.command("/health", "acme purple")
    assert "Usage: `/health acme`" in ack


# -- /nps and derived signals -----------------------------------------------------------------


def test_nps_is_recorded_once_and_becomes_the_derived_nps_signal(bot: BotHarness) -> None:
    score_acme(bot)
    bot.command("/nps", 'acme 6 "Reports are late"')
    text = bot.wait_response()
    assert "NPS 6 (detractor) recorded for *Acme Corp*" in text and "signal is now 6/10" in text
    [answer] = _all(bot, NpsResponse)
    assert (answer.score, answer.comment) == (6, "Reports are late")
    latest = _all(bot, HealthSnapshot)[-1]
    assert latest.derived["nps"] == 6.0 and latest.values["nps"] == 6.0
    assert latest.source == "derived"
    # the CSO overrides it in the modal: both are kept
    score_acme(bot, {**ACME, "nps": 8}, view="V2")
    snap = _all(bot, HealthSnapshot)[-1]
    assert snap.values["nps"] == 8.0 and snap.overrides == {"nps": 8.0}
    assert snap.derived["nps"] == 6.0 and snap.sources["nps"] == "override"


def test_nps_bad_answer(bot: BotHarness) -> None:
    _, ack = bot.command("/nps", "acme eleven")
    assert "not an NPS answer" in ack and "Usage" in ack


def test_response_time_is_derived_from_the_client_channel(bot: BotHarness) -> None:
    ask = datetime(2026, 11, 19, 9, tzinfo=NY)
    bot.message("C0ACME", "U0EXT1", "Can you check the dashboard?", ask)
    bot.message("C0ACME", "U0CSO1", "On it", ask + timedelta(minutes=40))
    wait_until(lambda: len(_all_touch(bot)) == 1)
    score_acme(bot, {"login_frequency": 8})
    snap = _all(bot, HealthSnapshot)[-1]
    assert snap.derived["response_time"] == 10.0 and snap.sources["response_time"] == "derived"


def _all_touch(bot: BotHarness) -> list[Any]:
    from storage.models import Touchpoint

    return _all(bot, Touchpoint)


# -- App Home ---------------------------------------------------------------------------------


def _open_home(bot: BotHarness, user: str) -> dict[str, Any]:
    def mine(c: Call) -> bool:
        return c.get("user_id") == user

    # earlier publishes (after a click or a command) must land first, then ours
    bot.settle()
    before = len([c for c in bot.emulator.calls("views.publish") if mine(c)])
    bot.event({"type": "app_home_opened", "user": user, "channel": "D0X", "tab": "home"})
    calls = bot.emulator.wait_for("views.publish", count=before + 1, where=mine)
    view: dict[str, Any] = calls[-1]["view"]
    return view


def test_home_tab_is_the_cso_s_health_board(bot: BotHarness) -> None:
    score_acme(bot, {**ACME, "nps": 2, "executive_engagement": 1, "meeting_attendance": 1})
    bot.emulator.clear()
    view = _open_home(bot, "U0CSO1")
    assert view["type"] == "home"
    blob = json.dumps(view, ensure_ascii=False)
    assert "Internal Health Board" in blob
    assert "Acme Corp" in blob and "Globex" in blob and "Initech" not in blob
    acme = next(b for b in view["blocks"] if "Acme Corp" in b.get("text", {}).get("text", ""))
    assert "Yellow" in acme["text"]["text"] and acme["accessory"]["value"] == "acme"
    assert "0 open flags" in blob and "renewal in 131d" in blob
    globex = next(b for b in view["blocks"] if "Globex" in b.get("text", {}).get("text", ""))
    assert "not scored yet" in globex["text"]["text"]
    assert globex["accessory"]["action_id"] == "health_edit"


def test_leadership_sees_everyone_grouped_by_cso(bot: BotHarness) -> None:
    view = _open_home(bot, "U0HOD")
    texts = [b.get("text", {}).get("text", "") for b in view["blocks"]]
    dana, sam = texts.index("*Dana Reyes*"), texts.index("*Sam Okafor*")
    initech = next(i for i, t in enumerate(texts) if "Initech" in t)
    assert dana < sam < initech
    assert len(view["blocks"]) <= 100


def test_a_big_portfolio_is_cut_to_100_blocks_with_a_note(bot: BotHarness) -> None:
    extra = "\n".join(
        f"  - {{slug: c{i:03d}, name: Client {i:03d}, cso: U0CSO1, client_channel: C{i:05d}}}"
        for i in range(80)
    )
    load_portfolio(bot.db, SAMPLE_PORTFOLIO + extra + "\n")
    view = _open_home(bot, "U0CSO1")
    assert len(view["blocks"]) == 100
    assert "more clients not shown" in view["blocks"][-1]["elements"][0]["text"]


def test_home_action_button_opens_the_modal(bot: BotHarness) -> None:
    click(bot, "health_edit", "globex", where="home")
    [opened] = bot.emulator.wait_for("views.open")
    assert opened["view"]["callback_id"] == "health_signals"
    assert "Globex" in json.dumps(opened["view"]["blocks"][0])


# -- /playbook --------------------------------------------------------------------------------


def test_playbook_checklist_with_due_dates_and_ticking_steps(bot: BotHarness) -> None:
    bot.command("/playbook", "acme low-engagement")
    call = bot.emulator.wait_for("response_url")[0]
    blob = json.dumps(call["blocks"], ensure_ascii=False)
    assert "Low engagement playbook" in blob and "0/5 done" in blob
    assert "due Sun Nov 22" in blob  # reach out within 48 hours of Fri Nov 20
    assert "due Fri Dec 4" in blob  # escalate after 14 days
    steps = _all(bot, PlaybookRunStep)
    assert steps[0].due == date(2026, 11, 22) and len(steps) == 5
    # the same playbook again is not a second run
    bot.command("/playbook", "acme low-engagement")
    assert "Already running" in bot.wait_response(2)
    assert len(_all(bot, PlaybookRun)) == 1
    click(bot, "playbook_step_done", str(steps[0].id), where="ephemeral")
    wait_until(lambda: _all(bot, PlaybookRunStep)[0].done_at is not None)
    assert _all(bot, PlaybookRunStep)[0].done_by == "U0CSO1"
    replaced = bot.emulator.wait_for(
        "response_url", where=lambda c: c.get("replace_original") in (True, "true")
    )[0]
    assert "1/5 done" in replaced["text"]
    view = _open_home(bot, "U0CSO1")
    assert "playbook low-engagement 1/5" in json.dumps(view, ensure_ascii=False)
    for step in steps[1:]:
        click(bot, "playbook_step_done", str(step.id), where="home")
    wait_until(lambda: _all(bot, PlaybookRun)[0].status == "completed")


def test_playbook_unknown_name(bot: BotHarness) -> None:
    _, ack = bot.command("/playbook", "acme low-adoptoin")
    assert "did you mean low-adoption" in ack


# -- /renewal ---------------------------------------------------------------------------------


def test_renewal_outcome_is_recorded_against_the_open_contract(bot: BotHarness) -> None:
    score_acme(bot)
    bot.command("/renewal", "acme signed 2028-03-31 arr 260000")
    text = bot.wait_response()
    assert "*Acme Corp* signed (the contract ending 2027-03-31)" in text
    [row] = _all(bot, RenewalOutcomeRecord)
    assert (row.outcome, row.new_end, row.arr_before, row.arr_after, row.band_at_renewal) == (
        "signed",
        date(2028, 3, 31),
        240000,
        260000,
        "green",
    )
    bot.command("/renewal", "acme churned")
    assert "corrects" in bot.wait_response(2)
    assert _all(bot, RenewalOutcomeRecord)[0].outcome == "churned"


def test_renewal_bad_input(bot: BotHarness) -> None:
    _, ack = bot.command("/renewal", "acme signed 31/03/2028")
    assert "is not a date like 2028-03-31" in ack
    bot.command("/renewal", "acme extended 2026-01-01")
    assert "must be after the current one" in bot.wait_response()


# -- /qbr -------------------------------------------------------------------------------------


def test_qbr_arrives_as_a_file_in_the_cso_dm(bot: BotHarness) -> None:
    score_acme(bot)
    bot.command("/win", 'acme "Demoed the new pipeline: reports 2 days faster"')
    bot.wait_response()
    bot.command("/qbr", "acme Q4", user="U0HOD")
    [complete] = bot.emulator.wait_for("files.completeUploadExternal")
    assert complete["channel_id"] == "D0CSO1"
    [upload] = bot.emulator.wait_for("upload")
    content = bot.emulator.state.uploads[upload["file_id"]].decode()
    assert "# Quarterly Business Review: Acme Corp" in content
    assert "Current ARR: $240,000" in content
    assert "Demoed the new pipeline" in content
    assert "| Health score | 80+ (Green) | 84 |" in content
    assert "<@U0CSO1>'s DM" in bot.wait_response(2)
    [qbr] = _all(bot, QbrRecord)
    assert qbr.quarter == "2026Q4" and qbr.prepared_by == "U0HOD" and qbr.delivered_at is None
    bot.command("/qbr", "acme Q4 delivered")
    assert "recorded as held" in bot.wait_response(3)
    assert _all(bot, QbrRecord)[0].delivered_at is not None


# -- nudges -----------------------------------------------------------------------------------


def _tick(bot: BotHarness, at: datetime) -> None:
    bot.clock.set(at) if hasattr(bot.clock, "set") else None
    tick(bot.deps, bot.web, at, bot.jobs)


def _dms(bot: BotHarness, user: str) -> list[Call]:
    return [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == user]


def test_a_fall_alerts_the_cso_the_same_day_with_the_signals_that_moved(bot: BotHarness) -> None:
    score_acme(bot)
    with bot.db.transaction() as s:  # that score was four days ago
        snap = s.scalars(select(HealthSnapshot)).one()
        snap.day = date(2026, 11, 16)
    low = {**ACME, "executive_engagement": 2, "meeting_attendance": 2, "nps": 3}
    low.update(goals_achieved=3, roi_demonstrated=3, business_impact=3)
    score_acme(bot, low, view="V2")
    bot.emulator.clear()
    now = datetime(2026, 11, 20, 11, tzinfo=NY)
    _tick(bot, now)
    alerts = [c for c in _dms(bot, "U0CSO1") if "rotating_light" in c["text"]]
    assert len(alerts) == 2  # the fall and the band change, each its own message
    fall = next(a for a in alerts if "fell" in a["text"])
    assert "Health fell" in fall["text"] and "executive engagement 8 → 2" in fall["text"]
    _tick(bot, now + timedelta(minutes=5))
    assert len([c for c in _dms(bot, "U0CSO1") if "rotating_light" in c["text"]]) == 2


def test_red_for_two_weeks_without_a_playbook_escalates_once(bot: BotHarness) -> None:
    red = dict.fromkeys(ACME, 3)
    score_acme(bot, red)
    with bot.db.transaction() as s:
        snap = s.scalars(select(HealthSnapshot)).one()
        snap.day = date(2026, 11, 1)
    now = datetime(2026, 11, 20, 11, tzinfo=NY)
    _tick(bot, now)
    _tick(bot, now + timedelta(hours=1))
    escalations = [c for c in _dms(bot, "U0HOD") if "has been Red since" in c["text"]]
    assert len(escalations) == 1
    assert "Red since 2026-11-01 (19 days)" in escalations[0]["text"]
    assert "CSO: Dana Reyes" in escalations[0]["text"]


def test_health_checks_follow_the_band_cadence(bot: BotHarness) -> None:
    score_acme(bot, dict.fromkeys(ACME, 7))  # 70: Yellow → every two weeks
    with bot.db.transaction() as s:
        snap = s.scalars(select(HealthSnapshot)).one()
        snap.day = date(2026, 11, 10)
    _tick(bot, datetime(2026, 11, 20, 11, tzinfo=NY))  # 10 days: not due
    with bot.db.session() as s:
        keys = set(s.scalars(select(Nudge.key)))
    assert not any(k.startswith(f"health_check:{1}:") and "2026-11" in k for k in keys)
    _tick(bot, datetime(2026, 11, 24, 11, tzinfo=NY))  # 14 days: due
    with bot.db.session() as s:
        keys = set(s.scalars(select(Nudge.key)))
    assert "health_check:1:2026-11-24" in keys


def test_renewal_and_playbook_step_nudges(bot: BotHarness) -> None:
    bot.command("/playbook", "acme low-engagement")
    bot.wait_response()
    # Globex ends 2027-01-15: on 2026-11-20 it is 56 days out → the −60 proposal stage
    # (a Monday: the cadence gate holds nudges at the weekend)
    _tick(bot, datetime(2026, 11, 23, 10, tzinfo=NY))
    texts = " ".join(c["text"] for c in _dms(bot, "U0CSO1"))
    assert "Globex* renews in 53 days (2027-01-15) — Review and proposal" in texts
    assert "Reach out to primary contact within 48 hours" in texts
    # Initech ends 2026-12-31: 38 days → negotiation (−45), to Sam
    assert "Initech* renews in 38 days" in " ".join(c["text"] for c in _dms(bot, "U0CSO2"))
    # recording the outcome stops further renewal nudges for that contract
    bot.command("/renewal", "globex signed 2028-01-15")
    bot.wait_response(2)
    _tick(bot, datetime(2026, 12, 17, 10, tzinfo=NY))  # −29: contract sent stage
    later = [c["text"] for c in _dms(bot, "U0CSO1") if "Globex* renews" in c["text"]]
    assert len(later) == 1


# -- a click is atomic ------------------------------------------------------------------------


def _break_after_first_write(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the database went away mid-click")

    monkeypatch.setattr(module, name, broken)


def test_a_step_click_that_breaks_midway_writes_nothing(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import usecases.health_actions

    bot.command("/playbook", "acme low-engagement")
    bot.emulator.wait_for("response_url")
    steps = _all(bot, PlaybookRunStep)
    # the step is marked done, then closing its nudge fails: the whole click is undone
    _break_after_first_write(monkeypatch, usecases.health_actions, "close")
    click(bot, "playbook_step_done", str(steps[0].id), where="ephemeral")
    bot.settle()
    assert all(s.done_at is None for s in _all(bot, PlaybookRunStep))
    assert [r.status for r in _all(bot, PlaybookRun)] == ["active"]
    monkeypatch.undo()
    click(bot, "playbook_step_done", str(steps[0].id), where="ephemeral")
    wait_until(lambda: _all(bot, PlaybookRunStep)[0].done_at is not None)


def test_a_signals_submit_that_breaks_midway_writes_nothing(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.health_store

    # the snapshot is written, then restamping the band's run fails: no snapshot is left
    _break_after_first_write(monkeypatch, storage.health_store, "restamp_band_since")
    status, raw = submit_signals(bot, "acme", ACME, view_id="VBROKEN")
    assert status == 200 and raw in (b"", b"{}")
    bot.settle()
    assert _all(bot, HealthSnapshot) == []
    assert not bot.emulator.calls("chat.postMessage")
    monkeypatch.undo()
    score_acme(bot, view="VFIXED")  # the same submit, the database back: scored in full
