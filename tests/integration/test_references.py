"""The reference program end to end (docs/process.md, "Advocacy and references"): a client
Green for 60+ days with NPS ≥ 9 enters the pipeline; asks are recorded with their outcome; a
client asked more than twice in 90 days is fatigued and left out of `/references`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import select

from domain.onboarding import Stage
from scheduling import support_jobs
from storage.models import HealthSnapshot, ReferenceAskRow, ReferenceEntryRow
from storage.portfolio_store import client_by_slug
from storage.support_store import add_candidate
from tests.conftest import NY, BotHarness
from tests.integration.flag_helpers import posts
from usecases.lifecycle_actions import stages
from usecases.outbox import deliver_due

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=NY)


def run(bot: BotHarness, at: datetime) -> int:
    for _name, enqueue in support_jobs.ENQUEUERS:
        enqueue(bot.deps, at)
    web: WebClient = bot.web
    return sum(len(d.keys) for d in deliver_due(bot.db, web, at) if d.ok)


def green_since(bot: BotHarness, slug: str, since: date) -> None:
    with bot.db.transaction() as s:
        client = client_by_slug(s, slug)
        assert client is not None
        s.add(
            HealthSnapshot(
                client_id=client.id,
                taken_at=NOW - timedelta(days=1),
                day=date(2026, 11, 23),
                model_id="three-pillar",
                score=82,
                band="green",
                band_since=since,
                source="modal",
                changed_by="U0CSO1",
                dedupe_key=f"test:{slug}",
            )
        )


def entries(bot: BotHarness) -> list[ReferenceEntryRow]:
    with bot.db.session() as s:
        return list(s.scalars(select(ReferenceEntryRow)))


def test_green_60_days_and_nps_9_enter_the_pipeline_once(bot: BotHarness) -> None:
    bot.command("/nps", "acme 9 love it")
    bot.command("/nps", "globex 10 great")
    bot.wait_response(2)
    bot.settle()
    # The health history, as the board keeps it: Acme Green since September, Globex since
    # mid-October (written after the answers, whose snapshots would restart the run).
    green_since(bot, "acme", date(2026, 9, 1))  # 84 days
    green_since(bot, "globex", date(2026, 10, 15))  # 40 days: not yet
    assert run(bot, NOW) == 1
    [entry] = entries(bot)
    assert (entry.tier, entry.source) == ("casual", "auto")
    [dm] = [p["text"] for p in posts(bot, "U0CSO1") if "reference pipeline" in p["text"]]
    assert "*Acme Corp* has been Green for 60+ days with NPS 9" in dm
    assert run(bot, NOW + timedelta(hours=1)) == 0  # once
    bot.clock.at = NOW
    bot.command("/reference", "acme")
    status = bot.wait_response(3)
    assert "Acme Corp* — Casual Reference (reference calls, brief testimonials" in status
    assert "0 asks in the last 90 days." in status
    # In the reference program, a client's lifecycle stage is advocacy (Globex is not).
    with bot.db.session() as s:
        acme, globex = client_by_slug(s, "acme"), client_by_slug(s, "globex")
        assert acme is not None and globex is not None
        found = stages(s, [acme, globex], {acme.id: NOW.date(), globex.id: NOW.date()})
    assert found[acme.id] is Stage.ADVOCACY
    assert found[globex.id] is not Stage.ADVOCACY


def test_an_ask_its_outcome_and_fatigue_leaving_a_client_out_of_suggestions(
    bot: BotHarness,
) -> None:
    bot.clock.at = NOW - timedelta(days=40)
    bot.command("/reference", "acme add advocate attribution")
    assert "now in the reference pipeline as a *Active Advocate*" in bot.wait_response()
    bot.command("/reference", "globex add casual attribution")
    bot.wait_response(2)
    with bot.db.transaction() as s:
        initech = client_by_slug(s, "initech")
        assert initech is not None
        add_candidate(s, initech, "closeout", "case study: churn model", datetime.now(UTC))
    bot.command("/reference", "initech add casual", user="U0CSO2")
    bot.wait_response(3)
    # Two asks of Acme: still suggested, and first for enterprise attribution.
    bot.command("/reference", 'acme ask "call with Initech\'s VP"')
    assert "Ask #1 recorded for *Acme Corp*." in bot.wait_response(4)
    bot.clock.at = NOW - timedelta(days=20)
    bot.command("/reference", 'acme ask "G2 review"', user="U0SL1")
    bot.wait_response(5)
    bot.command("/reference", "acme outcome 1 done")
    assert "Ask #1 for *Acme Corp*: done." in bot.wait_response(6)
    bot.clock.at = NOW
    bot.command("/references", "enterprise attribution", user="U0CSO2")
    ranked = bot.wait_response(7)
    assert ranked.index("Acme Corp") < ranked.index("Globex") < ranked.index("Initech")
    # A third ask within 90 days: fatigued, left out.
    bot.command("/reference", 'acme ask "speak at the webinar"')
    assert "is now *fatigued*" in bot.wait_response(8)
    bot.command("/references", "enterprise attribution", user="U0CSO2")
    ranked = bot.wait_response(9)
    suggested, resting = ranked.split("Resting")
    assert "Acme Corp" not in suggested and "Acme Corp" in resting
    assert "1. *Globex*" in suggested
    with bot.db.session() as s:
        asks = list(s.scalars(select(ReferenceAskRow).order_by(ReferenceAskRow.id)))
    assert [(a.asked_by, a.outcome) for a in asks] == [
        ("U0CSO1", "done"),
        ("U0SL1", "pending"),
        ("U0CSO1", "pending"),
    ]
    bot.command("/reference", "acme")
    status = bot.wait_response(10)
    assert "3 asks in the last 90 days — *fatigued" in status and "G2 review" in status


def test_reference_input_errors(bot: BotHarness) -> None:
    _s, body = bot.command("/reference", "acme outcome x maybe")
    assert "Say which ask and how it went" in body
    _s, body = bot.command("/reference", "acme fly")
    assert "is not add, ask or outcome" in body
    bot.command("/reference", "acme outcome 7 done")
    assert "Acme Corp has no ask #7." in bot.wait_response()


def test_the_advocacy_metric_source(bot: BotHarness) -> None:
    from domain.metric import Period
    from usecases.advocacy_actions import advocacy_metrics

    november = Period(date(2026, 11, 1), date(2026, 11, 30), "2026-11")
    with bot.db.session() as tx:
        empty = {m.key: m for m in advocacy_metrics(tx, november, NOW)}
    assert empty["advocacy.reference_utilisation"].value is None  # no references: no data
    assert empty["advocacy.pipeline"].value == 0
    bot.clock.at = NOW
    bot.command("/reference", "acme add champion")
    bot.wait_response()
    bot.command("/reference", 'acme ask "a call"')
    bot.wait_response(2)
    bot.settle()
    with bot.db.session() as tx:
        got = {m.key: m for m in advocacy_metrics(tx, november, NOW)}
    assert got["advocacy.reference_utilisation"].value == 1.0
    assert got["advocacy.fatigued_share"].value == 0.0
    assert got["advocacy.pipeline"].value == 1 and "1 champion" in got["advocacy.pipeline"].formula
