"""Never lose content: a batched DM too big for one Slack message is reorganised (one line per
client with its count, and *See the full list* opening every nudge in a modal), never cut —
and a nudge is marked sent only when the person can see it."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from domain.cadence_plan import CUTOFF
from prompts import blocks as bk
from prompts.cadence_views import expand
from storage.models import Nudge
from tests.conftest import NY, SAMPLE_PORTFOLIO, BotHarness, load_portfolio
from tests.integration.test_cadence_buttons import at
from usecases.outbox import LIST_ACTION, LIST_PAGE_ACTION, default_batcher, overfull, pack

FRIDAY_CUTOFF = datetime(2026, 11, 20, 15, 1, tzinfo=NY)
TITLE = re.compile(r"^(?::calendar: )?\*(?P<title>[^*]+)\*$")


def _within_limits(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= bk.MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= bk.MAX_SECTION_TEXT
            assert not block["text"]["text"].endswith("…")  # nothing clipped
        for element in block.get("elements") or []:
            if element.get("type") == "mrkdwn":
                assert len(element["text"]) <= bk.MAX_SECTION_TEXT


def _sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def _listed(blocks: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(cadence title, client) for every nudge the modal lists."""
    pairs: set[tuple[str, str]] = set()
    title = ""
    for text in _sections(blocks):
        for line in text.split("\n"):
            found = TITLE.match(line)
            if found:
                title = found["title"]
            elif line.startswith("• "):
                pairs.add((title, line[2:].split(" — ")[0]))
    return pairs


def _click(bot: BotHarness, payload: dict[str, Any], action: dict[str, Any]) -> None:
    body = {
        "type": "block_actions",
        "team": {"id": "T0EMU"},
        "user": {"id": payload.get("user", "U0CSO1"), "team_id": "T0EMU"},
        "api_app_id": "A0CSOBOT",
        "trigger_id": f"trig-{time.monotonic_ns()}",
        **{k: v for k, v in payload.items() if k != "user"},
        "actions": [{"type": "button", "action_ts": f"{time.time():.6f}", **action}],
    }
    status, _ = bot.interact(body)
    assert status == 200


def _open_list(bot: BotHarness, channel: str, ts: str, user: str = "U0CSO1") -> list[Any]:
    """Click *See the full list*, then Next until the last page: every page's blocks."""
    _click(
        bot,
        {
            "user": user,
            "container": {"type": "message", "channel_id": channel, "message_ts": ts},
            "channel": {"id": channel},
            "message": {"ts": ts},
        },
        {"action_id": LIST_ACTION, "block_id": "outbox-list", "value": "list"},
    )
    [opened] = bot.emulator.wait_for("views.open", timeout=10)
    view = opened["view"]
    pages = [view["blocks"]]
    for n in range(1, 20):
        nxt = [
            e
            for b in view["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == LIST_PAGE_ACTION and e["text"]["text"].startswith("Next")
        ]
        if not nxt:
            break
        _click(
            bot,
            {
                "user": user,
                "container": {"type": "view", "view_id": f"V{n}"},
                "view": {
                    "id": f"V{n}",
                    "hash": "h",
                    "callback_id": view["callback_id"],
                    "private_metadata": view["private_metadata"],
                },
            },
            {"action_id": LIST_PAGE_ACTION, "block_id": "pages", "value": nxt[0]["value"]},
        )
        view = bot.emulator.wait_for("views.update", count=n, timeout=10)[n - 1]["view"]
        pages.append(view["blocks"])
    return pages


@pytest.mark.parametrize("clients", [10, 30])
def test_a_cso_with_many_clients_sees_every_nudge_or_its_line_and_the_full_list(
    bot: BotHarness, clients: int
) -> None:
    extra = "".join(
        f"  - {{slug: smb{i:02d}, name: Small Co {i:02d}, cso: U0CSO1, service_lead: U0SL1}}\n"
        for i in range(clients - 2)  # the sample portfolio gives this CSO two clients
    )
    load_portfolio(bot.db, SAMPLE_PORTFOLIO + extra)
    at(bot, FRIDAY_CUTOFF)
    [dm] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0CSO1"]
    blocks = dm["blocks"]
    _within_limits(blocks)
    with bot.db.session() as s:
        sent = list(s.scalars(select(Nudge).where(Nudge.target == "U0CSO1")))
    assert {r.status for r in sent} == {"sent"}
    [ts] = {r.message_ts for r in sent}
    channel = str(sent[0].message_channel)
    # What the message shows: a reminder listing clients is one line per client.
    rows = expand(sent)
    assert len(sent) < len(rows)
    assert len(rows) > 3 * clients  # many overdue cadences per client

    # In the DM: one line per client with its count, and what each nudge is.
    names = {r.client_id: r.data["client"] for r in rows if (r.data or {}).get("client")}
    lines = {t.split("*")[1]: t for t in _sections(blocks) if t.startswith("*")}
    own = [t for t in _sections(blocks) if t.startswith("• ")]
    for row in rows:
        d = row.data or {}
        if d.get("view") != "cadence" and row.client_id not in names:
            assert any(row.text in t for t in own)  # a line of its own, in full
            continue
        line = lines[names.get(row.client_id, "For you")]
        if d.get("view") != "cadence":
            what = row.text
        else:
            what = "no touchpoint today" if row.cadence_id == CUTOFF else str(d["title"])
        assert what in line, (what, line)
    for name, line in lines.items():
        if name == "For you":
            count = sum(1 for r in rows if r.client_id is None and r.data.get("view") == "cadence")
        else:
            count = sum(1 for r in rows if names.get(r.client_id) == name)
        assert f"— {count} due" in line
    assert any(
        e.get("action_id") == LIST_ACTION
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    )

    # Behind the button: every nudge, in full, page after page, each page within limits.
    pages = _open_list(bot, channel, ts)
    listed: set[tuple[str, str]] = set()
    for page in pages:
        assert len(page) <= 100
        _within_limits(page[: bk.MAX_BLOCKS])
        listed |= _listed(page)
    shown = "\n".join(t for page in pages for t in _sections(page))
    for row in rows:
        d = row.data or {}
        if d.get("view") != "cadence":
            assert f"• {row.text}" in shown  # another feature's nudge: its text, in full
            continue
        title = "Overdue touchpoints" if row.cadence_id == CUTOFF else str(d["title"])
        assert (title, str(d.get("client") or "For you")) in listed


def test_the_full_list_is_only_for_the_person_it_was_sent_to(bot: BotHarness) -> None:
    extra = "".join(
        f"  - {{slug: smb{i:02d}, name: Small Co {i:02d}, cso: U0CSO1, service_lead: U0SL1}}\n"
        for i in range(12)
    )
    load_portfolio(bot.db, SAMPLE_PORTFOLIO + extra)
    at(bot, FRIDAY_CUTOFF)
    with bot.db.session() as s:
        row = s.scalars(select(Nudge).where(Nudge.target == "U0CSO1")).first()
        assert row is not None
    [page] = _open_list(bot, str(row.message_channel), str(row.message_ts), user="U0CSO2")
    assert "someone else" in json.dumps(page)
    assert "Small Co" not in json.dumps(page)


def _row(i: int, blocks: int = 2) -> Nudge:
    text = f"Health check {i}: " + "signals to review " * 5
    return Nudge(
        id=i,
        key=f"k{i}",
        cadence_id="health-check",
        target="U1",
        text=text,
        blocks=[bk.section(text)] + [bk.context(f"why {i}")] * (blocks - 1),
        data={},
        status="sending",
    )


def test_the_default_batcher_reorganises_rather_than_cuts() -> None:
    rows = [_row(i) for i in range(60)]
    _, blocks = default_batcher(rows)
    _within_limits(blocks)
    shown = "\n".join(_sections(blocks))
    for row in rows:
        assert row.text.strip() in shown
    assert any(b["type"] == "actions" for b in blocks)
    _, few = default_batcher(rows[:3])  # what fits is shown whole, as before
    assert len(few) == 1 + 3 * 3 and not overfull(few)


def test_pack_splits_long_lines_and_never_clips() -> None:
    lines = ["x" * 7000, "short", *(f"line {i}" for i in range(500))]
    packed = pack(lines)
    assert all(len(text) < bk.MAX_SECTION_TEXT for text, _ in packed)
    joined = "".join(text.replace("\n", "") for text, _ in packed)
    assert joined == "".join(lines)


def test_the_full_list_pages_through_everything() -> None:
    from usecases.outbox import LIST_PAGE_BLOCKS, list_view

    items = [bk.section(f"• Client {i}") for i in range(LIST_PAGE_BLOCKS * 2 + 5)]
    seen: list[str] = []
    for page in range(3):
        view = list_view(items, page=page, meta={"channel": "D1", "ts": "1.0"})
        assert len(view["blocks"]) <= 100
        assert json.loads(view["private_metadata"])["page"] == page
        seen += [t for t in _sections(view["blocks"])]
        buttons = [
            e["text"]["text"]
            for b in view["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        assert ("Next ›" in buttons) == (page < 2) and ("‹ Previous" in buttons) == (page > 0)
    assert seen == [f"• Client {i}" for i in range(len(items))]
