"""AI efficiency over signed requests: messages the bot records and touchpoints logged by hand,
the manual share per month and its change against the first full month in /metrics and
`csobot metrics --json` (docs/process.md, "AI efficiency")."""

from __future__ import annotations

import json
from datetime import datetime

from storage.activity_store import record_touchpoint
from storage.portfolio_store import client_by_slug
from tests.conftest import NY, BotHarness
from tests.e2e.test_cli import run

WORDS = "Sharing this week's attribution numbers with your team now"


def test_manual_share_and_its_change_against_the_first_full_month(bot: BotHarness) -> None:
    # October (Dana's first full month: her first touch is on the 1st): one recorded from
    # Slack, one logged by hand.
    bot.message("C0ACME", "U0CSO1", WORDS, datetime(2026, 10, 1, 10, tzinfo=NY))
    bot.settle()
    with bot.db.transaction() as s:
        acme = client_by_slug(s, "acme")
        assert acme is not None
        at = datetime(2026, 10, 2, 12, tzinfo=NY)
        record_touchpoint(
            s, client_id=acme.id, author_id="U0CSO1", kind="email", source="command",
            occurred_at=at, tz=NY, dedupe_key="oct-log", now=at, text="Sent the deck",
        )  # fmt: skip
    # November: three recorded from Slack, one logged with /touchpoint.
    for day in (16, 17, 18):
        bot.message("C0ACME", "U0CSO1", WORDS, datetime(2026, 11, day, 10, tzinfo=NY))
    bot.command("/touchpoint", 'globex email "Sent the renewal summary"')
    bot.wait_response()
    bot.settle()
    bot.command("/metrics", "2026-11", user="U0HOD")
    text = json.dumps(bot.emulator.wait_for("response_url", count=2)[1]["blocks"],
                      ensure_ascii=False)  # fmt: skip
    assert "*AI efficiency*" in text
    assert "Manual share of CSO process tasks: 25.0 %" in text
    assert (
        "Change in manual share vs each CSO's first full month (average): -50.0 % "
        "(target −20 % vs the first full month: on target)"
    ) in text
    env = {"DATABASE_URL": bot.settings.database_url, "CSOBOT_NOW": "2026-11-20T10:00:00-05:00"}
    report = json.loads(run("metrics", "--month", "2026-11", "--json", env=env).stdout)
    change = report["metrics"]["ai.manual_change"]
    assert change["value"] == -0.5
    assert (
        "Dana Reyes: manual share 25%, first full month 2026-10 50%, change -50%"
        in (change["evidence"])
    )
    assert "Sam Okafor: manual share no data" in change["evidence"]
    october = json.loads(run("metrics", "--month", "2026-10", "--json", env=env).stdout)
    assert october["metrics"]["ai.manual_change"]["value"] is None  # the baseline itself
    help_text = run("metrics", "--help", env=env).stdout
    assert "Manual share = tasks done by hand / all process tasks" in help_text


def test_generated_qbrs_count_for_the_clients_cso_and_digests_on_the_organizations_line(
    bot: BotHarness,
) -> None:
    from slack_sdk import WebClient

    from scheduling.engine import tick

    bot.clock.set(datetime(2026, 11, 20, 10, tzinfo=NY))
    bot.message("C0ACME", "U0CSO1", WORDS, datetime(2026, 11, 16, 10, tzinfo=NY))
    bot.command("/touchpoint", 'globex email "Sent the renewal summary"')
    bot.wait_response()
    bot.settle()
    # The head of delivery generates Acme's QBR: the bot's task, credited to Acme's CSO.
    bot.command("/qbr", "acme Q4", user="U0HOD")
    bot.settle()
    # Monday's leadership digest, posted by the bot: nobody's task but the organization's.
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=NY)
    bot.clock.set(monday)
    web = bot.web
    assert isinstance(web, WebClient)
    assert tick(bot.deps, web, monday, bot.jobs).errors == {}
    assert any(c["channel"] == "C0LEAD" for c in bot.emulator.calls("chat.postMessage"))
    env = {"DATABASE_URL": bot.settings.database_url, "CSOBOT_NOW": "2026-11-23T10:00:00-05:00"}
    report = json.loads(run("metrics", "--month", "2026-11", "--json", env=env).stdout)
    share = report["metrics"]["ai.manual_share"]
    # Dana: one from Slack, one QBR (the bot's), one /touchpoint (hers); the digest: the bot's.
    assert share["value"] == 0.25
    assert share["evidence"] == ["1 of 4 tasks by hand"]
    evidence = report["metrics"]["ai.manual_change"]["evidence"]
    assert "Dana Reyes: manual share 33%" in evidence
    assert "Organization: 1 leadership digest generated (not a CSO's task)" in evidence
    assert "Sam Okafor: manual share no data" in evidence
    assert "weekly leadership digests generated" in run("metrics", "--help", env=env).stdout
