"""Nobody outside a client's team writes or reads its data: every registered command, button
and form, sent by a client contact (Slack Connect) and by a stranger, is refused politely and
leaves every table and every Slack surface untouched."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from domain.access import Need
from handlers.registry import REGISTRY, Registered
from storage.models import Base, Pulse, Touchpoint, Win
from tests.conftest import BotHarness

# A plausible request for every command: a new command without one fails the walk below.
COMMAND_TEXT = {
    "/pulse": "acme angry hook: none",
    "/touchpoint": 'globex call "x"',
    "/win": 'globex "Cut report time by 2 days"',
    "/cso": "prefs cutoff 16:00",
    "/health": "acme",
    "/nps": "acme 9 great",
    "/playbook": "acme low-engagement",
    "/renewal": "acme signed 2028-03-31",
    "/qbr": "acme Q4",
    "/digest": "",
    "/metrics": "2026Q4",
    "/intervention": 'acme "the CEO called"',
    "/expansion": 'acme add 30000 "EMEA seats"',
    "/update": "acme eod",
    "/client": "new",
    "/onboarding": "acme",
    "/closeout": "acme",
    "/support": 'acme "the export is broken"',
    "/feedback": "",
    "/reference": 'acme ask "call with a prospect"',
    "/references": "",
    "/brief": "globex",
    "/milestone": 'globex "Phase 1" close',
    "/audit": "globex",
}
# A plausible value for every button.
ACTION_VALUE = {
    "cadence_menu": None,
    "cadence_log": "cutoff:U0CSO1:1:2026-11-20",
    "cadence_skip": "cutoff:U0CSO1:1:2026-11-20",
    "cadence_snooze": "cutoff:U0CSO1:1:2026-11-20",
    "cadence_done": "triangle-sync:U0CSO1:1:2026-W47",
    "flag_in_scope": "1",
    "flag_change_request": "1",
    "flag_resolved": "1",
    "flag_suggestion_flag": "1",
    "flag_suggestion_dismiss": "1",
    "health_edit": "acme",
    "health_view": "acme",
    "health_start_playbook": "acme:low-engagement",
    "playbook_step_done": "1",
    "outbox_list_open": "1",
    "outbox_list_page": "1",
    "onboarding_tick": "1",
    "closeout_tick": "1",
    "support_resolve": "1",
    "support_merge": "1",
    "support_dismiss": "1",
    "win_edit": "1",
    "intervention_dismiss": "1",
    "expansion_stage": "1:qualified",
    "expansion_add": "expansion-reflection:U0CSO1:1:2026-W47",
    "expansion_note": "expansion-reflection:U0CSO1:1:2026-W47",
    "health_report_post": "1",
    "health_report_edit": "1",
}
VIEW_STATE: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "touchpoint_modal": (
        {},
        {
            "client": {"value": {"selected_option": {"value": "globex"}}},
            "kind": {"value": {"selected_option": {"value": "call"}}},
            "note": {"value": {"value": "a call"}},
            "day": {"value": {"selected_date": "2026-11-20"}},
        },
    ),
    "cadence_skip_modal": (
        {"nudge": "cutoff:U0CSO1:1:2026-11-20"},
        {"reason": {"value": {"value": "offsite"}}},
    ),
    "health_signals": ({"slug": "acme"}, {"nps": {"value": {"value": "2"}}}),
    "client_new_modal": (
        {},
        {
            "name": {"value": {"value": "Hooli"}},
            "slug": {"value": {"value": "hooli"}},
            "segment": {"value": {"selected_option": {"value": "smb"}}},
            "signed_on": {"value": {"selected_date": "2026-11-20"}},
            "cso": {"value": {"selected_user": "U0CSO1"}},
        },
    ),
    "expansion_note_modal": ({"slug": "acme", "key": "k"}, {"note": {"value": {"value": "x"}}}),
    "expansion_add_modal": (
        {"slug": "acme", "nudge": "k"},
        {"value": {"value": {"value": "30000"}}, "title": {"value": {"value": "Seats"}}},
    ),
    "win_edit_modal": ({"win": 1}, {"text": {"value": {"value": "Reports 2 days faster"}}}),
    "health_report_edit_modal": ({}, {"report": {"value": {"value": "edited"}}}),
    "client_update_modal": (
        {"slug": "acme", "slot": "eod", "channel": "C0ACME", "client_name": "Acme Corp"},
        {"draft": {"value": {"value": "Status: fine. Risks: none. Asks: none. Next: more."}}},
    ),
}
SLACK_WRITES = {
    "chat.update",
    "chat.postEphemeral",
    "views.open",
    "views.push",
    "views.update",
    "views.publish",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
}
OUTSIDERS = {"U0EXT2": "a Globex contact in its Slack Connect channel", "U0STRANGER": "a stranger"}


def _counts(bot: BotHarness) -> dict[str, int]:
    out = {}
    with bot.db.session() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in ("inbox", "service_status"):
                continue
            out[table.name] = int(s.scalar(select(func.count()).select_from(table)) or 0)
    return out


def _send(bot: BotHarness, entry: Registered, user: str) -> None:
    channel = "C0GLOBEX"  # the client's shared channel, where its contacts can type commands
    if entry.kind == "command":
        bot.command(entry.id, COMMAND_TEXT[entry.id], user=user, channel=channel)
        return
    url = bot.emulator.response_url(f"walk-{entry.id}-{user}")
    if entry.kind == "action":
        action: dict[str, Any] = {"action_id": entry.id, "type": "button", "block_id": "b"}
        value = ACTION_VALUE[entry.id]
        if value is None:
            action.update(type="overflow", selected_option={"value": "log:1"})
        else:
            action["value"] = value
        bot.interact(
            {
                "type": "block_actions",
                "user": {"id": user},
                "team": {"id": "T0EMU"},
                "trigger_id": f"trig-{entry.id}-{user}",
                "actions": [action],
                "channel": {"id": channel},
                "container": {"type": "message", "channel_id": channel, "message_ts": "1.1"},
                "message": {"ts": "1.1", "text": "", "blocks": []},
                "response_url": url,
            }
        )
        return
    metadata, values = VIEW_STATE[entry.id]
    bot.interact(
        {
            "type": "view_submission",
            "user": {"id": user},
            "team": {"id": "T0EMU"},
            "trigger_id": f"trig-{entry.id}-{user}",
            "view": {
                "type": "modal",
                "id": f"V{entry.id}",
                "callback_id": entry.id,
                "private_metadata": json.dumps(metadata),
                "state": {"values": values},
            },
        }
    )


def _replies_to(bot: BotHarness, user: str) -> list[str]:
    texts = [str(c.get("text", "")) for c in bot.emulator.calls("response_url")]
    texts += [str(c.get("text", "")) for c in bot.emulator.calls("chat.postMessage")]
    return texts


def test_every_request_kind_is_registered_with_who_it_is_for(bot: BotHarness) -> None:
    requests = [e for e in REGISTRY if e.kind != "event"]
    assert {e.id for e in requests if e.kind == "command"} == set(COMMAND_TEXT)
    assert {e.id for e in requests if e.kind == "action"} == set(ACTION_VALUE)
    assert {e.id for e in requests if e.kind == "view"} == set(VIEW_STATE)
    assert all(e.need is not None for e in requests)


@pytest.mark.parametrize("user", sorted(OUTSIDERS))
def test_outsiders_are_refused_everywhere_and_nothing_is_read_or_written(
    bot: BotHarness, user: str
) -> None:
    before = _counts(bot)
    walked = 0
    for entry in REGISTRY:
        if entry.kind == "event":
            continue
        bot.emulator.clear()
        _send(bot, entry, user)
        bot.settle()
        replies = _replies_to(bot, user)
        assert any(r.startswith("Sorry —") for r in replies), (entry, replies)
        writes = [c.method for c in bot.emulator.calls() if c.method in SLACK_WRITES]
        assert writes == [], (entry, writes)
        posts = [c for c in bot.emulator.calls("chat.postMessage") if c.get("channel") != user]
        assert posts == [], (entry, posts)
        assert _counts(bot) == before, entry
        walked += 1
    assert walked == len([e for e in REGISTRY if e.kind != "event"])


def test_a_client_contact_cannot_move_the_kpi(bot: BotHarness) -> None:
    bot.command("/touchpoint", 'globex call "x"', user="U0EXT2", channel="C0GLOBEX")
    bot.command("/win", 'globex "y"', user="U0EXT2", channel="C0GLOBEX")
    bot.settle()
    with bot.db.session() as s:
        assert s.scalars(select(Touchpoint)).all() == []
        assert s.scalars(select(Win)).all() == []


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/pulse", "acme angry"),
        ("/touchpoint", 'acme call "x"'),
        ("/win", 'acme "Cut report time by 2 days"'),
        ("/nps", "acme 3"),
        ("/health", "acme"),
        ("/renewal", "acme signed 2028-03-31"),
    ],
)
def test_another_clients_cso_is_refused(bot: BotHarness, command: str, text: str) -> None:
    before = _counts(bot)
    bot.command(command, text, user="U0CSO2")  # Initech's CSO, not Acme's
    reply = bot.wait_response()
    assert reply.startswith("Sorry — only Acme Corp's team")
    bot.settle()
    assert _counts(bot) == before
    with bot.db.session() as s:
        assert s.scalars(select(Pulse)).all() == []


def test_leadership_may_act_on_any_client(bot: BotHarness) -> None:
    bot.command("/pulse", "acme anxious", user="U0HOD")
    assert "Acme Corp" in bot.wait_response()
    with bot.db.session() as s:
        [pulse] = s.scalars(select(Pulse)).all()
    assert pulse.created_by == "U0HOD"


def test_client_scoped_entries_say_so() -> None:
    needs = {e.id: e.need for e in REGISTRY}
    assert needs["/digest"] is Need.LEADERSHIP
    assert needs["/win"] is Need.CLIENT_TEAM and needs["/cso"] is Need.MEMBER
