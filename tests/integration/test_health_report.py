"""The weekly Client Health Report end to end: drafted on its cadence (Friday 14:00) from the
record and the emulated board, sent to the CSO with Edit and Post, posted once to the client's
internal channel — never to a client or Slack Connect channel —, and exported as Markdown and
HTML."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select

from devkit.board_emulators import GitHubEmulator, LinearEmulator
from domain.calendar import IsoWeek
from scheduling import connector_jobs, report_jobs
from scheduling.engine import tick
from storage.models import HealthReport, Nudge
from storage.portfolio_store import client_by_slug
from tests.conftest import NY, BotHarness
from tests.integration.board_helpers import connect, github, linear, seed_board
from usecases import report_actions

__all__ = ["github", "linear"]  # fixtures

FRIDAY = datetime(2026, 11, 20, 13, 50, tzinfo=NY)


def _web(bot: BotHarness) -> WebClient:
    assert isinstance(bot.web, WebClient)
    return bot.web


def _click(bot: BotHarness, action_id: str, value: str, user: str = "U0CSO1") -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0EMU"},
        "user": {"id": user, "team_id": "T0EMU"},
        "api_app_id": "A0CSOBOT",
        "trigger_id": f"trig-{action_id}-{value}",
        "container": {"type": "message", "channel_id": "D0CSO1", "message_ts": "1.0"},
        "channel": {"id": "D0CSO1"},
        "message": {"ts": "1.0", "text": "report"},
        "response_url": bot.emulator.response_url(f"act-{action_id}"),
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    status, _ = bot.interact(payload)
    assert status == 200
    bot.settle()


def _submit_edit(bot: BotHarness, view: dict[str, Any], text: str) -> None:
    payload = {
        "type": "view_submission",
        "team": {"id": "T0EMU", "domain": "emulated"},
        "user": {"id": "U0CSO1", "username": "u0cso1", "team_id": "T0EMU"},
        "api_app_id": "A0CSOBOT",
        "trigger_id": "trig-submit",
        "view": {
            **view,
            "id": "V0REPORT",
            "team_id": "T0EMU",
            "state": {"values": {"report": {"value": {"type": "plain_text_input", "value": text}}}},
            "hash": "h1",
        },
    }
    status, _ = bot.interact(payload)
    assert status == 200
    bot.settle()


def _posts(bot: BotHarness, channel: str) -> list[str]:
    return [
        str(c.params.get("text", ""))
        for c in bot.emulator.calls("chat.postMessage")
        if c["channel"] == channel
    ]


def _reports(bot: BotHarness) -> dict[str, HealthReport]:
    with bot.db.session() as s:
        rows = list(s.scalars(select(HealthReport)))
        ids = {r.client_id: r for r in rows}
        out = {}
        for slug in ("acme", "globex", "initech"):
            c = client_by_slug(s, slug)
            if c is not None and c.id in ids:
                out[slug] = ids[c.id]
        return out


def _deliver(bot: BotHarness, at: datetime) -> None:
    report = tick(bot.deps, _web(bot), at.astimezone(UTC), report_jobs.ENQUEUERS)
    assert report.errors == {}


def test_the_weekly_report_is_drafted_edited_and_posted_once_internally(
    bot: BotHarness, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    seed_board(linear, github)
    connect(bot, linear.url, github.url)
    tick(bot.deps, _web(bot), FRIDAY.astimezone(UTC), connector_jobs.ENQUEUERS)
    status, _ = bot.command("/win", 'acme "Attribution dashboards cut reporting to 2 hours"')
    assert status == 200
    bot.settle()

    _deliver(bot, FRIDAY - timedelta(days=1))  # Thursday: not due
    assert _reports(bot) == {}
    _deliver(bot, FRIDAY)  # 13:50: drafted, due at 14:00
    _deliver(bot, FRIDAY + timedelta(minutes=10))
    reports = _reports(bot)
    assert set(reports) >= {"acme", "globex"}
    text = reports["acme"].text
    for fragment in (
        "Client Health Report — Acme Corp",
        "Communication consistency",
        "Attribution v2 (target Nov 30): 1/2 done — on track",
        "Self-serve onboarding (target Nov 13): 0/1 done — late",
        "Blocked 1",
        "LIN-150 Warehouse sync is blocked",
        "LIN-151 Churn forecast notebook is past due",
        "Attribution dashboards cut reporting to 2 hours",
    ):
        assert fragment in text, fragment
    with bot.db.session() as s:
        drafts = list(s.scalars(select(Nudge).where(Nudge.cadence_id == "health_report_draft")))
    acme_draft = next(d for d in drafts if d.client_id == reports["acme"].client_id)
    assert acme_draft.target == "U0CSO1" and acme_draft.status == "sent"
    assert "Post to #internal" in str(acme_draft.blocks) and "Why:" in str(acme_draft.blocks)
    _deliver(bot, FRIDAY + timedelta(minutes=20))  # written once
    assert len(_reports(bot)) == len(reports)
    assert _posts(bot, "C0ACMEINT") == []  # nothing posted before the team says so

    # Post: once to the internal channel, never to the client channel.
    _click(bot, "health_report_post", str(reports["acme"].id))
    _deliver(bot, FRIDAY + timedelta(minutes=21))
    _click(bot, "health_report_post", str(reports["acme"].id))
    _deliver(bot, FRIDAY + timedelta(minutes=22))
    posts = _posts(bot, "C0ACMEINT")
    assert len(posts) == 1 and "Client Health Report — Acme Corp" in posts[0]
    assert not any("Client Health Report" in p for p in _posts(bot, "C0ACME"))
    dms = [str(c.params.get("text")) for c in bot.emulator.calls("chat.postMessage")]
    assert any("posted to <#C0ACMEINT>" in t for t in dms)
    assert any("was already posted" in t for t in dms)

    # Edit and post: the edited text is what goes out.
    _click(bot, "health_report_edit", str(reports["globex"].id))
    [opened] = bot.emulator.wait_for("views.open")
    view = opened["view"]
    assert "Client Health Report — Globex" in str(view)
    _submit_edit(bot, view, "Globex this week: steady. Edited by Dana.")
    _deliver(bot, FRIDAY + timedelta(minutes=23))
    assert _posts(bot, "C0GLOBEXINT") == ["Globex this week: steady. Edited by Dana."]


def test_a_shared_or_client_internal_channel_is_refused(bot: BotHarness) -> None:
    bot.emulator.set_shared("C0INITECHINT")  # Slack Connect: the client can read it
    friday_london = datetime(2026, 11, 20, 13, 50, tzinfo=UTC)  # initech's CSO is in London
    _deliver(bot, friday_london)
    reports = _reports(bot)
    _click(bot, "health_report_post", str(reports["initech"].id), user="U0CSO2")
    _deliver(bot, friday_london + timedelta(minutes=30))
    assert _posts(bot, "C0INITECHINT") == []
    dms = [str(c.params.get("text")) for c in bot.emulator.calls("chat.postMessage")]
    assert any("shared (Slack Connect) channel" in t and "not posted" in t for t in dms)
    with bot.db.session() as s:
        assert s.get(HealthReport, reports["initech"].id).status == "draft"  # type: ignore[union-attr]


def test_someone_off_the_team_cannot_post(bot: BotHarness) -> None:
    _deliver(bot, FRIDAY)
    reports = _reports(bot)
    _click(bot, "health_report_post", str(reports["acme"].id), user="U0CSO2")
    _deliver(bot, FRIDAY + timedelta(minutes=30))
    assert _posts(bot, "C0ACMEINT") == []


def test_export_markdown_and_html(
    bot: BotHarness, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    seed_board(linear, github)
    connect(bot, linear.url, github.url)
    tick(bot.deps, _web(bot), FRIDAY.astimezone(UTC), connector_jobs.ENQUEUERS)
    with bot.db.session() as tx:
        acme = client_by_slug(tx, "acme")
        assert acme is not None
        week = IsoWeek.of(FRIDAY.date())
        md = report_actions.export(tx, acme, week, FRIDAY, "md")
        html = report_actions.export(tx, acme, week, FRIDAY, "html")
    assert md.startswith("# Client Health Report: Acme Corp")
    assert "| Communication consistency |" in md
    assert "[LIN-150 Warehouse sync is blocked](https://linear.app/acme/issue/lin-150)" in md
    assert html.startswith("<!doctype html>")
    assert '<a href="https://linear.app/acme/issue/lin-150">' in html


def test_the_leadership_figure_counts_posted_over_drafted(bot: BotHarness) -> None:
    from domain.metric import Period

    _deliver(bot, FRIDAY)
    reports = _reports(bot)
    _click(bot, "health_report_post", str(reports["acme"].id))
    with bot.db.session() as tx:
        [nov] = report_actions.report_metrics(
            tx,
            Period(datetime(2026, 11, 1).date(), datetime(2026, 11, 30).date(), "2026-11"),
            FRIDAY,
        )
        [oct_] = report_actions.report_metrics(
            tx,
            Period(datetime(2026, 10, 1).date(), datetime(2026, 10, 31).date(), "2026-10"),
            FRIDAY,
        )
    assert nov.value == round(1 / len(reports), 4) and nov.on_target is False
    assert oct_.value is None and oct_.no_data  # nothing drafted: no data, never 0 %
    assert report_actions.report_metrics in bot.deps.metric_sources
