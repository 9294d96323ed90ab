"""Product feedback end to end (docs/process.md, "Support"): three accounts raising the same
request produce one post in the product channel, a fourth none; NPS comments join the theme;
nothing ever goes to a client or Slack Connect channel."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import select

from scheduling import support_jobs
from storage.models import FeedbackItemRow, Organization
from tests.conftest import NY, SAMPLE_PORTFOLIO, BotHarness, load_portfolio
from tests.integration.flag_helpers import posts, reaction, writes_to
from usecases.outbox import deliver_due

AT = datetime(2026, 11, 24, 11, 0, tzinfo=NY)  # Tuesday, business hours
HOOLI = """
  - slug: hooli
    name: Hooli
    cso: U0CSO2
    service_lead: U0SL1
    client_channel: C0HOOLI
    internal_channel: C0HOOLIINT
    segment: enterprise
    arr: 500000
    contacts: [U0EXT4]
"""


def run(bot: BotHarness, at: datetime) -> int:
    for _name, enqueue in support_jobs.ENQUEUERS:
        enqueue(bot.deps, at)
    web: WebClient = bot.web
    return sum(len(d.keys) for d in deliver_due(bot.db, web, at) if d.ok)


def settings(bot: BotHarness, product_channel: str) -> None:
    load_portfolio(bot.db, SAMPLE_PORTFOLIO + HOOLI)
    with bot.db.transaction() as s:
        org = s.get(Organization, 1)
        assert org is not None
        org.settings = {"support": {"product_channel": product_channel}}


def raise_dark_mode(bot: BotHarness) -> None:
    bot.message("C0ACME", "U0EXT1", "It would be great if the dashboard had a dark mode", AT)
    bot.message("C0GLOBEX", "U0EXT2", "Any plans to support dark mode?", AT + timedelta(minutes=1))
    # Initech says it in passing; its CSO marks it with :bulb:.
    said = AT + timedelta(minutes=2)
    bot.message("C0INITECH", "U0EXT3", "honestly our analysts keep asking for dark mode", said)
    bot.settle()
    reaction(
        bot, "U0CSO2", "bulb", channel="C0INITECH", ts=f"{said.timestamp():.6f}", item_user="U0EXT3"
    )
    bot.settle()


def test_three_accounts_make_one_product_post_and_a_fourth_makes_none(bot: BotHarness) -> None:
    settings(bot, "C0PRODUCT")
    raise_dark_mode(bot)
    assert run(bot, AT + timedelta(minutes=5)) == 1
    [post] = posts(bot, "C0PRODUCT")
    assert "Product feedback: dark mode" in post["text"] and "3 accounts" in post["text"]
    assert "Acme Corp" in post["text"] and "ARR $372,000" in post["text"]
    # A fourth account: the theme grows, no second post (the next threshold is 6).
    bot.message(
        "C0HOOLI", "U0EXT4", "Feature request: dark mode for the portal", AT + timedelta(minutes=10)
    )
    bot.settle()
    assert run(bot, AT + timedelta(minutes=15)) == 0
    assert len(posts(bot, "C0PRODUCT")) == 1
    # An NPS comment joins the theme; /feedback lists it by accounts and ARR.
    bot.command("/nps", 'acme 6 "dark mode please, our eyes hurt"')
    bot.wait_response()
    bot.settle()
    run(bot, AT + timedelta(minutes=20))
    with bot.db.session() as s:
        nps = s.scalars(select(FeedbackItemRow).where(FeedbackItemRow.source == "nps")).one()
    assert nps.theme == "dark mode"
    bot.command("/feedback", "")
    listing = bot.wait_response(2)
    assert "*dark mode* — 4 accounts, ARR $872,000, 5 items" in listing
    for channel in ("C0ACME", "C0GLOBEX", "C0INITECH", "C0HOOLI"):
        assert writes_to(bot, channel) == []


def test_nothing_goes_to_a_slack_connect_or_client_channel(bot: BotHarness) -> None:
    bot.emulator.set_shared("C0SHARED")
    settings(bot, "C0SHARED")
    raise_dark_mode(bot)
    assert run(bot, AT + timedelta(minutes=5)) == 0
    assert writes_to(bot, "C0SHARED") == []
    with bot.db.transaction() as s:
        org = s.get(Organization, 1)
        assert org is not None
        org.settings = {"support": {"product_channel": "C0ACME"}}  # a client's own channel
    assert run(bot, AT + timedelta(minutes=6)) == 0
    assert writes_to(bot, "C0ACME") == []


def test_without_a_product_channel_themes_are_kept_and_listed(bot: BotHarness) -> None:
    load_portfolio(bot.db, SAMPLE_PORTFOLIO + HOOLI)
    raise_dark_mode(bot)
    assert run(bot, AT + timedelta(minutes=5)) == 0
    bot.command("/feedback", "")
    assert "*dark mode* — 3 accounts" in bot.wait_response()
    _status, body = bot.command("/feedback", "acme")
    assert "takes nothing after it" in body


def test_a_bug_report_that_opens_a_request_becomes_feedback_and_a_dismissed_one_not(
    bot: BotHarness,
) -> None:
    from storage.models import SupportRequestRow

    bot.message("C0ACME", "U0EXT1", "The CSV export button doesn't work", AT)
    bot.message("C0GLOBEX", "U0EXT2", "Getting an error on the login page", AT)
    bot.settle()
    with bot.db.transaction() as s:
        globex = s.scalars(
            select(SupportRequestRow).where(SupportRequestRow.channel == "C0GLOBEX")
        ).one()
        globex.status = "dismissed"
    run(bot, AT + timedelta(minutes=5))
    with bot.db.session() as s:
        items = list(s.scalars(select(FeedbackItemRow)))
    assert [(i.kind, i.theme) for i in items] == [("bug", "csv export button")]
