"""Support requests end to end, over signed requests to the real app (docs/process.md,
"Support"): opened from a client message, answered, resolved, opened by hand, merged; the SLA
nudge and the breach escalation in business hours; a blocker at night."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from scheduling import support_jobs
from scheduling.engine import tick
from storage.models import SupportRequestRow
from tests.conftest import NY, BotHarness, wait_until
from tests.integration.flag_helpers import click, posts, reaction, writes_to
from usecases.outbox import deliver_due

CHICAGO = ZoneInfo("America/Chicago")
LONDON = ZoneInfo("Europe/London")


def web(bot: BotHarness) -> WebClient:
    client: WebClient = bot.web
    return client


def run(bot: BotHarness, at: datetime) -> int:
    """A tick of the support loops only (no noise gate: the due times are what is tested)."""
    for _name, enqueue in support_jobs.ENQUEUERS:
        enqueue(bot.deps, at)
    return sum(len(d.keys) for d in deliver_due(bot.db, web(bot), at) if d.ok)


def requests(bot: BotHarness) -> list[SupportRequestRow]:
    with bot.db.session() as s:
        return list(s.scalars(select(SupportRequestRow).order_by(SupportRequestRow.id)))


def ts_of(at: datetime) -> str:
    return f"{at.timestamp():.6f}"


def dms(bot: BotHarness, user: str) -> list[str]:
    return [p["text"] for p in posts(bot, user)]


ASKED = datetime(2026, 11, 24, 10, 0, tzinfo=CHICAGO)  # Tuesday


def ask(
    bot: BotHarness, text: str = "How do I export the churn report to CSV?", at: datetime = ASKED
) -> None:
    bot.message("C0ACME", "U0EXT1", text, at)
    bot.settle()


def test_a_question_opens_a_request_an_acknowledgement_is_no_response_and_a_tick_resolves(
    bot: BotHarness,
) -> None:
    ask(bot)
    [req] = requests(bot)
    assert (req.severity, req.kind, req.status, req.asker) == (
        "question",
        "question",
        "open",
        "U0EXT1",
    )
    assert "export the churn report" in req.excerpt
    assert req.response_due == ASKED + timedelta(hours=1)  # enterprise: 1 business hour
    # "Thanks, looking into it!" in the thread only acknowledges.
    root = {"thread_ts": ts_of(ASKED)}
    bot.message(
        "C0ACME", "U0CSO1", "Thanks, looking into it!", ASKED + timedelta(minutes=5), **root
    )
    bot.settle()
    assert requests(bot)[0].first_response_at is None
    answer_at = ASKED + timedelta(minutes=20)
    bot.message("C0ACME", "U0SL1", "Use Export → CSV on the report's menu.", answer_at, **root)
    bot.settle()
    [req] = requests(bot)
    assert req.first_response_at == answer_at and req.first_response_by == "U0SL1"
    # The client's follow-up in the thread is no second request.
    bot.message("C0ACME", "U0EXT1", "How do I pick the columns?", answer_at, **root)
    bot.settle()
    assert len(requests(bot)) == 1
    # A ✅ by the asker resolves it.
    bot.clock.at = ASKED + timedelta(hours=1)
    reaction(bot, "U0EXT1", "white_check_mark", ts=ts_of(ASKED))
    wait_until(lambda: requests(bot)[0].status == "resolved")
    assert requests(bot)[0].resolved_by == "U0EXT1"
    assert run(bot, ASKED + timedelta(days=3)) == 0  # nothing to nudge about
    assert writes_to(bot, "C0ACME") == []  # nothing in the client's channel


def test_chatter_opens_nothing_and_a_stranger_cannot_resolve(bot: BotHarness) -> None:
    bot.message(
        "C0ACME", "U0EXT1", "Thanks so much, great meeting today!", ASKED - timedelta(hours=1)
    )
    bot.settle()
    assert requests(bot) == []
    ask(bot, "The revenue numbers look wrong on the Q3 tab")
    [req] = requests(bot)
    assert (req.severity, req.kind, req.feedback) == ("normal", "bug", "bug")
    reaction(bot, "U0CSO2", "white_check_mark", ts=ts_of(ASKED))  # not on Acme's team
    bot.settle()
    assert requests(bot)[0].status == "open"


# -- SLAs by segment, across Christmas (a Friday) and the weekend ------------------------------
# Asked Thursday 2026-12-24 at 16:30 in the client's timezone; business hours 09:00-17:00;
# Friday is a US public holiday, then the weekend: the clock resumes Monday 09:00.
CASES = [
    # channel, asker, tz, nudge at, response due (Monday, local)
    ("C0ACME", "U0EXT1", CHICAGO, (9, 15), (9, 30)),  # enterprise: 1 h
    ("C0GLOBEX", "U0EXT2", NY, (11, 30), (12, 30)),  # mid-market: 4 h (the CSO's timezone)
    ("C0INITECH", "U0EXT3", LONDON, (14, 30), (16, 30)),  # SMB: 8 h (the CSO's timezone)
]


@pytest.mark.parametrize(("channel", "asker", "tz", "nudge", "due"), CASES)
def test_the_sla_nudge_and_the_breach_count_business_hours_per_segment(
    bot: BotHarness,
    channel: str,
    asker: str,
    tz: ZoneInfo,
    nudge: tuple[int, int],
    due: tuple[int, int],
) -> None:
    asked = datetime(2026, 12, 24, 16, 30, tzinfo=tz)
    bot.message(channel, asker, "The export button doesn't work on the sales report", asked)
    bot.settle()
    [req] = requests(bot)
    monday = datetime(2026, 12, 28, tzinfo=tz)
    nudge_at = monday.replace(hour=nudge[0], minute=nudge[1])
    due_at = monday.replace(hour=due[0], minute=due[1])
    assert req.response_due == due_at
    cso = "U0CSO2" if channel == "C0INITECH" else "U0CSO1"
    assert run(bot, datetime(2026, 12, 25, 12, tzinfo=tz)) == 0  # Christmas
    assert run(bot, datetime(2026, 12, 27, 12, tzinfo=tz)) == 0  # Sunday
    assert run(bot, nudge_at - timedelta(minutes=1)) == 0
    assert run(bot, nudge_at + timedelta(minutes=1)) == 2  # the CSO and the SL
    [text] = dms(bot, cso)
    assert "has no first response yet" in text and "export button" in text
    assert f"https://slack.com/archives/{channel}/p" in text
    assert run(bot, nudge_at + timedelta(minutes=2)) == 0  # once
    # The target passes unanswered: the breach is recorded, the CSO told.
    assert run(bot, due_at + timedelta(minutes=1)) == 1
    assert requests(bot)[0].response_breached_at == due_at
    assert "missed its response target" in dms(bot, cso)[-1]
    assert len(dms(bot, "U0SL1")) == 1  # only the nudge so far
    # Still open a business day later: the Service Lead.
    assert run(bot, due_at + timedelta(days=1, minutes=1)) >= 1
    assert any("missed its response target" in t for t in dms(bot, "U0SL1"))
    assert writes_to(bot, channel) == []


def test_an_answer_before_the_nudge_stops_it(bot: BotHarness) -> None:
    ask(bot)
    bot.message(
        "C0ACME", "U0CSO1", "Use Export → CSV on the report menu.", ASKED + timedelta(minutes=10)
    )
    bot.settle()
    assert requests(bot)[0].first_response_at is not None
    assert run(bot, ASKED + timedelta(minutes=50)) == 0
    assert run(bot, ASKED + timedelta(minutes=61)) == 0


def test_the_targets_come_from_the_portfolio_file(bot: BotHarness) -> None:
    from storage.models import Organization

    with bot.db.transaction() as s:
        org = s.get(Organization, 1)
        assert org is not None
        org.settings = {"support": {"slas": {"enterprise": {"response_hours": 2}}}}
    ask(bot)
    assert requests(bot)[0].response_due == ASKED + timedelta(hours=2)


# -- a blocker at night ------------------------------------------------------------------------
def test_a_blocker_at_night_reaches_the_service_lead_at_once_and_once(bot: BotHarness) -> None:
    night = datetime(2026, 11, 24, 23, 0, tzinfo=CHICAGO)
    bot.message(
        "C0ACME",
        "U0EXT1",
        "The dashboard is down for everyone, urgent!",
        night,
    )
    bot.settle()
    [req] = requests(bot)
    assert req.severity == "blocker"
    jobs = list(support_jobs.ENQUEUERS)
    report = tick(bot.deps, web(bot), night + timedelta(minutes=2), jobs)
    assert report.sent == 1
    [text] = dms(bot, "U0SL1")
    assert "blocker request" in text and "dashboard is down" in text
    # The CSO's support nudge waits for the working day (the flag suggestion is the flags').
    assert [t for t in dms(bot, "U0CSO1") if "request #" in t] == []
    assert tick(bot.deps, web(bot), night + timedelta(minutes=30), jobs).sent == 0


# -- by hand: /support, :sos:, merge, dismiss, the Resolved button ------------------------------
def test_a_manual_request_a_merge_a_dismissal_and_the_resolved_button(bot: BotHarness) -> None:
    bot.clock.at = ASKED
    status, _ = bot.command("/support", 'acme "Jo cannot see the finance tab"')
    assert status == 200
    assert "Support request *#1* opened for *Acme Corp*" in bot.wait_response()
    # The same issue, raised in the channel and opened with :sos: by the CSO.
    later = ASKED + timedelta(minutes=30)
    bot.message("C0ACME", "U0EXT1", "Jo still has no finance tab", later)
    bot.settle()
    assert len(requests(bot)) == 1  # no pattern: nothing opened by itself
    reaction(bot, "U0CSO1", "sos", ts=ts_of(later))
    wait_until(lambda: len(requests(bot)) == 2)
    second = requests(bot)[1]
    assert (second.source, second.opened_by, second.asker) == ("reaction", "U0CSO1", "U0EXT1")
    # /support acme lists both, with the buttons.
    bot.command("/support", "acme")
    listing = bot.wait_response(2)
    assert "2 open support requests" in listing and "Jo still has no finance tab" in listing
    # Duplicate: merged into the earlier one, in one click.
    click(bot, "support_merge", str(second.id), user="U0CSO1", channel="D0CSO1", ts="1.0")
    wait_until(lambda: requests(bot)[1].status == "merged")
    assert requests(bot)[1].merged_into == requests(bot)[0].id
    # A stranger's click changes nothing.
    click(bot, "support_resolve", str(requests(bot)[0].id), user="U0CSO2", channel="D0", ts="1")
    bot.settle()
    assert requests(bot)[0].status == "open"
    click(bot, "support_resolve", str(requests(bot)[0].id), user="U0SL1", channel="D0", ts="1")
    wait_until(lambda: requests(bot)[0].status == "resolved")
    # A false one, dismissed.
    ask(bot, "How do I reset the filters?", ASKED + timedelta(hours=1))
    third = requests(bot)[2]
    click(bot, "support_dismiss", str(third.id), user="U0CSO1", channel="D0", ts="1")
    wait_until(lambda: requests(bot)[2].status == "dismissed")
    assert writes_to(bot, "C0ACME") == []


def test_support_usage_and_bad_input(bot: BotHarness) -> None:
    status, body = bot.command("/support", "")
    assert status == 200 and "/support acme" in body
    status, body = bot.command("/support", "resolve x")
    assert "Say which request" in body
    bot.command("/support", "acmee")
    assert "did you mean acme" in bot.wait_response()
    bot.command("/support", "resolve 99")
    assert "There is no support request #99" in bot.wait_response(2)


def test_ny_is_the_harness_timezone() -> None:
    assert NY.key == "America/New_York"


# -- the health score's support signal ---------------------------------------------------------
def support_signal_of(bot: BotHarness, at: datetime) -> float | None:
    from storage.health_store import derive_signals
    from storage.portfolio_store import client_by_slug

    with bot.db.session() as tx:
        acme = client_by_slug(tx, "acme")
        assert acme is not None
        return derive_signals(tx, [acme], at)[acme.id]["support_tickets_inverse"]


def test_the_health_support_signal_moves_with_breaches_and_open_blockers(
    bot: BotHarness,
) -> None:
    assert support_signal_of(bot, ASKED) is None  # nothing asked: no data, not a 10
    ask(bot)  # one request, one active client person
    assert support_signal_of(bot, ASKED + timedelta(minutes=30)) == 5.0
    run(bot, ASKED + timedelta(hours=2))  # the response target passes unanswered
    assert requests(bot)[0].response_breached_at is not None
    assert support_signal_of(bot, ASKED + timedelta(hours=2)) == 3.0
    bot.message(
        "C0ACME",
        "U0EXT1",
        "The dashboard is down for everyone, urgent!",
        ASKED + timedelta(hours=3),
    )
    bot.settle()
    assert support_signal_of(bot, ASKED + timedelta(hours=3)) == 0.0  # an open blocker on top


# -- the leadership figures --------------------------------------------------------------------
def test_the_metric_source_reports_support_per_segment_with_formulas(bot: BotHarness) -> None:
    from datetime import date

    from domain.metric import Period
    from usecases.support_metrics import support_metrics

    november = Period(date(2026, 11, 1), date(2026, 11, 30), "2026-11")
    with bot.db.session() as tx:
        empty = {m.key: m for m in support_metrics(tx, november, ASKED)}
    assert empty["support.response_within_sla.enterprise"].value is None  # no data, not 0 %
    assert empty["support.first_contact_resolution"].value is None
    ask(bot)  # answered in 20 minutes, resolved with that one reply
    root = {"thread_ts": ts_of(ASKED)}
    bot.message("C0ACME", "U0SL1", "Use Export → CSV.", ASKED + timedelta(minutes=20), **root)
    bot.settle()
    bot.clock.at = ASKED + timedelta(minutes=30)
    reaction(bot, "U0CSO1", "white_check_mark", ts=ts_of(ASKED))
    wait_until(lambda: requests(bot)[0].status == "resolved")
    bot.message("C0GLOBEX", "U0EXT2", "The sync stopped working", ASKED)  # never answered
    bot.settle()
    with bot.db.session() as tx:
        got = {m.key: m for m in support_metrics(tx, november, ASKED + timedelta(days=2))}
    assert got["support.response_within_sla.enterprise"].value == 1.0
    assert got["support.resolution_within_sla.enterprise"].value == 1.0
    assert got["support.response_within_sla.mid_market"].value == 0.0
    assert got["support.response_within_sla.smb"].value is None
    assert got["support.first_contact_resolution"].value == 1.0
    assert got["support.volume_trend"].value is None  # nothing the month before
    assert all(m.formula and m.group == "Support" for m in got.values())


# -- App Home ----------------------------------------------------------------------------------
def test_app_home_shows_open_requests_with_their_age_against_the_target(bot: BotHarness) -> None:
    ask(bot)
    bot.clock.at = ASKED + timedelta(minutes=30)
    bot.event({"type": "app_home_opened", "user": "U0CSO1", "channel": "D0X", "tab": "home"})
    [home] = bot.emulator.wait_for("views.publish")
    text = str(home.get("view"))
    assert "Open support requests* — 1 across 1 client" in text
    assert "0.5 h of 1.0 h to first response" in text and "export the churn report" in text
    bot.event({"type": "app_home_opened", "user": "U0CSO2", "channel": "D0Y", "tab": "home"})
    second = bot.emulator.wait_for("views.publish", count=2)[1]
    assert "Open support requests* — none." in str(second.get("view"))
