"""No false numbers: a week with nothing recorded has no rate ("no data"), the chart leaves a
gap, the weekly presentation is pending until the week's last business day has ended, and an
activity-list win is presented but not tangible — all from signed requests to the real app."""

from __future__ import annotations

import json
from datetime import datetime

from domain.calendar import IsoWeek
from domain.kpi import kpi_json
from storage.kpi_store import load_kpi, load_week_kpi
from tests.conftest import NY, BotHarness
from tests.e2e.test_cli import run
from usecases.digest_actions import load_digest

W46, W47 = IsoWeek(2026, 46), IsoWeek(2026, 47)
SUBSTANTIVE = "Here is the Globex renewal summary we discussed this morning"


def kpi(bot: BotHarness, week: IsoWeek) -> dict[str, object]:
    with bot.db.session() as tx:
        return kpi_json(load_week_kpi(tx, week, bot.clock.now()))


def client(report: dict[str, object], slug: str) -> dict[str, object]:
    csos = report["csos"]
    assert isinstance(csos, list)
    [found] = [c for cso in csos for c in cso["clients"] if c["slug"] == slug]
    return dict(found)


def test_a_monday_touch_does_not_give_the_week_before_data(bot: BotHarness) -> None:
    # Monday 00:30 in New York: globex's Monday (acme's would be Sunday night, in Chicago).
    bot.message("C0GLOBEX", "U0CSO1", SUBSTANTIVE, datetime(2026, 11, 16, 0, 30, tzinfo=NY))
    bot.settle()
    before = kpi(bot, W46)
    assert before["has_data"] is False
    assert before["overall"]["rate"] is None  # type: ignore[index]
    assert all(c["rate"] is None for c in before["csos"])  # type: ignore[union-attr]
    assert client(before, "globex")["rate"] is None
    assert kpi(bot, W47)["has_data"] is True
    env = {"DATABASE_URL": bot.settings.database_url, "CSOBOT_NOW": "2026-11-20T10:00:00-05:00"}
    out = run("kpi", "--week", "2026-W46", env=env)
    assert out.returncode == 0, out.stderr
    assert "no data" in out.stdout and "0.0%" not in out.stdout
    data = json.loads(run("kpi", "--week", "2026-W46", "--json", env=env).stdout)
    assert data["overall"]["rate"] is None and data["has_data"] is False


def test_the_chart_leaves_a_gap_for_a_week_without_data(bot: BotHarness) -> None:
    bot.message("C0GLOBEX", "U0CSO1", SUBSTANTIVE, datetime(2026, 11, 16, 10, tzinfo=NY))
    bot.settle()
    now = datetime(2026, 11, 23, 9, tzinfo=NY)
    with bot.db.session() as tx:
        digest = load_digest(tx, W47, now)
        weeks = load_kpi(tx, [W46, W47], now)
    assert digest.chart.weeks[-2:] == ["2026-W46", "2026-W47"]
    assert digest.chart.overall[-2] is None and digest.chart.overall[-1] is not None
    assert all(series[-2] is None for series in digest.chart.csos.values())
    # the chart's points are `kpi --json`'s rates, week by week
    assert digest.chart.overall[-2:] == [w.overall.rate for w in weeks]


def test_the_weekly_presentation_is_pending_mid_week_and_missed_after_friday(
    bot: BotHarness,
) -> None:
    for day in (16, 17, 18):
        bot.message("C0GLOBEX", "U0CSO1", SUBSTANTIVE, datetime(2026, 11, day, 10, tzinfo=NY))
    bot.settle()
    bot.clock.set(datetime(2026, 11, 18, 15, tzinfo=NY))  # Wednesday
    wednesday = client(kpi(bot, W47), "globex")
    assert wednesday["weekly_presentation"] == {
        "expected": 0, "done": 0, "win": None, "tangible": None, "status": "pending",
    }  # fmt: skip
    assert wednesday["rate"] == 1.0  # three days of three: the presentation is not a miss yet
    bot.clock.set(datetime(2026, 11, 20, 23, 59, tzinfo=NY))  # Friday, still
    assert client(kpi(bot, W47), "globex")["weekly_presentation"]["status"] == "pending"  # type: ignore[index]
    bot.clock.set(datetime(2026, 11, 21, 9, tzinfo=NY))  # Saturday
    saturday = client(kpi(bot, W47), "globex")["weekly_presentation"]
    assert saturday["status"] == "missed" and saturday["expected"] == 1  # type: ignore[index]


def test_an_activity_list_win_is_presented_but_not_tangible(bot: BotHarness) -> None:
    bot.command("/win", 'globex "Closed 15 tickets and had 3 meetings"')
    reply = bot.wait_response()
    assert "reads like a list of activity" in reply
    bot.command("/win", 'acme "Demoed the new pipeline: reports 2 days faster"')
    bot.wait_response(2)
    report = kpi(bot, W47)
    globex = client(report, "globex")["weekly_presentation"]
    assert globex == {  # type: ignore[comparison-overlap]
        "expected": 1, "done": 1, "win": "Closed 15 tickets and had 3 meetings",
        "tangible": False, "status": "done",
    }  # fmt: skip
    assert client(report, "acme")["weekly_presentation"]["tangible"] is True  # type: ignore[index]
    bot.clock.set(datetime(2026, 11, 23, 10, tzinfo=NY))
    bot.command("/digest", "2026-W47", user="U0HOD")
    blob = json.dumps(bot.emulator.wait_for("response_url", count=3)[2]["blocks"])
    text = json.loads(blob)
    body = json.dumps(text, ensure_ascii=False)
    assert "Presented without a tangible win: Globex — “Closed 15 tickets and had 3 meetings”" in (
        body
    )
    wins_line = next(line for line in body.split("\\n") if line.startswith("Wins presented"))
    assert "Acme Corp" in wins_line and "Globex" not in wins_line


def test_the_cso_can_edit_an_activity_list_win_from_the_nudge(bot: BotHarness) -> None:
    from tests.integration.test_cadence_buttons import submit

    bot.command("/win", 'globex "Closed 15 tickets and had 3 meetings"')
    bot.wait_response()
    [reply] = bot.emulator.calls("response_url")
    [button] = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == "win_edit" and button["text"]["text"] == "Edit the win"
    status, _ = bot.interact({
        "type": "block_actions", "team": {"id": "T0EMU"},
        "user": {"id": "U0CSO1", "team_id": "T0EMU"}, "api_app_id": "A0CSOBOT",
        "trigger_id": "trig-edit", "container": {"type": "ephemeral"},
        "response_url": bot.emulator.response_url("edit"),
        "actions": [{"type": "button", "action_id": "win_edit", "block_id": "b",
                     "value": button["value"], "action_ts": "1"}],
    })  # fmt: skip
    assert status == 200
    [opened] = bot.emulator.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == "win_edit_modal"
    assert view["blocks"][1]["element"]["initial_value"] == "Closed 15 tickets and had 3 meetings"
    new = "Globex's weekly report now builds itself: 4 hours a week back for their analysts"
    status, _ = submit(bot, view, {"text": {"value": {"value": new}}})
    assert status == 200
    bot.settle()
    [dm] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0CSO1"]
    assert "4 hours a week back" in str(dm["text"]) and "list of activity" not in str(dm["text"])
    globex = client(kpi(bot, W47), "globex")["weekly_presentation"]
    assert globex["tangible"] is True and globex["win"] == new  # type: ignore[index]


def test_another_clients_cso_cannot_edit_the_win(bot: BotHarness) -> None:
    from tests.integration.test_cadence_buttons import submit

    bot.command("/win", 'globex "Closed 15 tickets and had 3 meetings"')
    bot.wait_response()
    [reply] = bot.emulator.calls("response_url")
    [button] = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    view = {
        "type": "modal",
        "callback_id": "win_edit_modal",
        "private_metadata": json.dumps({"win": int(button["value"])}),
    }
    submit(
        bot,
        view,
        {"text": {"value": {"value": "Rewritten by someone else entirely"}}},
        user="U0CSO2",
    )
    bot.settle()
    [dm] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0CSO2"]
    assert str(dm["text"]).startswith("Sorry — only Globex's team")
    assert client(kpi(bot, W47), "globex")["weekly_presentation"]["tangible"] is False  # type: ignore[index]
