"""A client's life over signed requests: /client new (a bad field, a good one), the checklist
by segment in the client's timezone and business days, ticking, the handoff refused while
items are open, the 48 h stall escalation, the kickoff timer, the −120-day forecast to Sales
Ops (never a shared channel), the qualified-expansion package, lifecycle stages over time,
and the close-out with its drafted report."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from devkit.emulator import dm_channel
from domain.portfolio import ClientSpec
from storage import lifecycle_store, support_store
from storage.models import (
    Client,
    ClientLifecycle,
    Closeout,
    ExpansionPackage,
    LifecycleStageRecord,
    Nudge,
)
from storage.portfolio_store import client_by_slug
from tests.conftest import BotHarness, load_portfolio
from tests.integration.lifecycle_helpers import (
    GOOD,
    PORTFOLIO,
    SALES_OPS,
    click,
    dms,
    form,
    items,
    row_counts,
    submit,
    tick_at,
)
from usecases.lifecycle_actions import start_lifecycle
from usecases.lifecycle_nudges import post_expansion_package

NY = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")


def _client_id(bot: BotHarness, slug: str) -> int:
    with bot.db.session() as s:
        cid = s.scalar(select(Client.id).where(Client.slug == slug))
    assert cid is not None
    return int(cid)


def _last(bot: BotHarness) -> str:
    bot.settle()
    return bot.responses()[-1]


def _create(bot: BotHarness, **overrides: object) -> int:
    status, answer = submit(bot, form(**{**GOOD, **overrides}))
    assert status == 200 and answer is None, answer
    bot.settle()
    return _client_id(bot, str(overrides.get("slug", GOOD["slug"])))


# -- /client new -------------------------------------------------------------------------------
def test_client_new_opens_the_form_for_a_cso_and_refuses_a_service_lead(bot: BotHarness) -> None:
    bot.command("/client", "new", user="U0CSO1")
    bot.settle()
    [opened] = bot.emulator.calls("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    ids = {b.get("block_id") for b in view["blocks"]}
    assert {"name", "slug", "segment", "arr", "signed_on", "cso", "client_channel"} <= ids
    assert {"stakeholders", "deal_context", "timeline", "success_criteria", "contacts"} <= ids
    channel = next(b for b in view["blocks"] if b.get("block_id") == "client_channel")
    assert channel["element"]["type"] == "conversations_select"  # picked from Slack

    bot.emulator.clear()
    bot.command("/client", "new", user="U0SL1")
    assert bot.wait_response().startswith("Sorry — new clients are added by a CSO")
    assert bot.emulator.calls("views.open") == []
    _, raw = bot.command("/client", "old", user="U0CSO1")
    assert "Type `/client new`" in raw and "Usage" in raw


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("slug", "Hooli Inc", "is not a slug"),
        ("slug", "acme", "listed twice"),
        ("client_channel", "C0ACME", "already used by acme"),
        ("timezone", "Mars/Olympus", "unknown timezone"),
        ("arr", "lots", "valid number"),
        ("service_lead", "U0NOBODY", "is not in people"),
    ],
)
def test_a_bad_field_is_the_forms_field_error_and_nothing_is_written(
    bot: BotHarness, field: str, value: str, says: str
) -> None:
    before = row_counts(bot)
    status, answer = submit(bot, form(**{**GOOD, field: value}))
    assert status == 200
    assert answer["response_action"] == "errors"
    assert says in answer["errors"][field], answer
    bot.settle()
    assert row_counts(bot) == before
    assert dms(bot, "U0CSO1") == []


def test_a_good_form_creates_the_client_like_the_portfolio_and_starts_onboarding(
    bot: BotHarness,
) -> None:
    cid = _create(bot)
    with bot.db.session() as s:
        client = s.get(Client, cid)
        life = s.scalars(select(ClientLifecycle)).one()
    assert client is not None
    assert (client.name, client.segment, client.arr, client.cso_id) == (
        "Hooli",
        "smb",
        48000,
        "U0CSO1",
    )
    assert client.client_channel == "C0HOOLI" and client.contacts == ["U0EXT9"]
    assert client.timezone == "America/Chicago"
    assert life.signed_on == date(2026, 11, 20) and life.ae_id == "U0AE1"
    assert life.success_criteria == ["Reports in 1 day", "80% of analysts active"]
    assert life.handoff["stakeholders"].startswith("Gavin") and life.source == "modal"
    assert life.handoff_received_at is not None
    assert len(items(bot, cid)) == 8  # the SMB plan
    [dm] = dms(bot, "U0CSO1")
    assert "Hooli is in the portfolio as `hooli`" in dm and "8 checklist items" in dm
    # The same entry in the portfolio file writes the same records (one writer).
    from bot.commands.portfolio_cli import add_commands  # noqa: F401  (the import path)


# -- the checklist -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("segment", "count", "kickoff_due", "handoff_due"),
    [
        # Signed Fri Nov 20; kickoff by +5 business days in Chicago: Thanksgiving (Nov 26) is
        # skipped, so Mon Nov 30; the handoff counts business days from there.
        ("enterprise", 23, date(2026, 11, 30), date(2027, 1, 28)),
        ("mid_market", 18, date(2026, 11, 30), date(2027, 1, 5)),
        ("smb", 8, date(2026, 11, 30), date(2026, 12, 18)),
    ],
)
def test_each_segments_checklist_has_due_dates_in_the_clients_timezone_and_business_days(
    bot: BotHarness, segment: str, count: int, kickoff_due: date, handoff_due: date
) -> None:
    cid = _create(bot, segment=segment)
    found = items(bot, cid)
    assert len(found) == count
    assert found["account-setup"].due_on == date(2026, 11, 23)  # Friday + 1 business day
    assert found["kickoff-meeting"].due_on == kickoff_due
    assert found["handoff"].due_on == handoff_due
    # Due at 17:00 in Chicago, stored in UTC.
    assert found["account-setup"].due_at == datetime(2026, 11, 23, 17, tzinfo=CHICAGO)
    bot.command("/onboarding", "hooli")
    reply = bot.wait_response()
    assert f"0/{count} done" in reply and "0 overdue" in reply


def test_ticking_items_and_the_handoff_refused_while_items_are_open(bot: BotHarness) -> None:
    cid = _create(bot)
    found = items(bot, cid)
    click(bot, "onboarding_tick", str(found["account-setup"].id))
    bot.settle()
    assert "Ticked “Account setup complete” for Hooli (1/8)" in bot.responses()[-1]
    # Ticked twice: said so, nothing changes.
    click(bot, "onboarding_tick", str(found["account-setup"].id))
    bot.settle()
    assert "was already done" in bot.responses()[-1]
    # The handoff, with six items open: refused, naming them.
    click(bot, "onboarding_tick", str(found["handoff"].id))
    bot.settle()
    refusal = bot.responses()[-1]
    assert "can't be marked complete while 6 checklist items are open" in refusal
    assert "Activation milestone reached" in refusal and "Welcome call held" in refusal
    assert items(bot, cid)["handoff"].done_at is None
    # Another client's CSO may not tick.
    click(bot, "onboarding_tick", str(found["channels"].id), user="U0CSO2")
    bot.settle()
    assert bot.responses()[-1].startswith("Sorry — only Hooli's team")
    for item_id in ("success-criteria", "kickoff-meeting", "channels", "technical-setup",
                    "activation", "early-wins"):  # fmt: skip
        click(bot, "onboarding_tick", str(found[item_id].id))
        bot.settle()
    click(bot, "onboarding_tick", str(found["handoff"].id))
    bot.settle()
    assert "is handed off" in bot.responses()[-1]
    with bot.db.session() as s:
        assert s.scalars(select(ClientLifecycle)).one().handed_off_at is not None


def test_scheduling_the_kickoff_moves_the_kickoff_items(bot: BotHarness) -> None:
    cid = _create(bot)
    bot.command("/onboarding", "hooli kickoff 2026-11-24")
    assert "scheduled for Tue Nov 24" in bot.wait_response()
    found = items(bot, cid)
    assert found["kickoff-meeting"].due_on == date(2026, 11, 24)
    assert found["channels"].due_on == date(2026, 11, 25)
    assert found["account-setup"].due_on == date(2026, 11, 23)  # signature-anchored: unmoved
    bot.command("/onboarding", "hooli kickoff 2026-11-01")
    assert "can't be before the signature" in _last(bot)
    bot.command("/onboarding", "hooli kickoff soon")
    _, raw = bot.command("/onboarding", "hooli kickoff soon")
    assert "is not a date" in raw


# -- timers --------------------------------------------------------------------------------------
def _keys(bot: BotHarness, prefix: str) -> set[str]:
    with bot.db.session() as s:
        return {n.key for n in s.scalars(select(Nudge)) if n.key.startswith(prefix)}


def test_due_items_are_nudged_and_a_stall_in_weeks_2_to_4_escalates(bot: BotHarness) -> None:
    cid = _create(bot, segment="mid_market")
    bot.command("/onboarding", "hooli kickoff 2026-11-24")
    bot.wait_response()
    found = items(bot, cid)
    setup = found["technical-setup"]  # weeks 2-4, owner: the Service Lead
    # Kickoff Tue Nov 24 + 8 business days (Thanksgiving skipped): Mon Dec 7, 17:00 Chicago.
    assert setup.due_at == datetime(2026, 12, 7, 17, tzinfo=CHICAGO)
    for item in found.values():  # everything due before it is done: only it stalls
        if item.due_on < setup.due_on:
            click(bot, "onboarding_tick", str(item.id))
            bot.settle()
    # The morning it is due: its owner, the Service Lead, is nudged; nobody escalated.
    tick_at(bot, datetime(2026, 12, 7, 11, tzinfo=NY))
    assert any("Technical setup complete" in t and "is due" in t for t in dms(bot, "U0SL1"))
    due = setup.due_at
    tick_at(bot, due + timedelta(hours=47))
    assert _keys(bot, "onboarding_stall") == set()
    tick_at(bot, due + timedelta(hours=49))  # Wed 19:00 in New York: written, sent at 09:00
    assert _keys(bot, "onboarding_stall") == {f"onboarding_stall:U0SL1:{setup.id}:service_lead"}
    tick_at(bot, datetime(2026, 12, 10, 10, tzinfo=NY))
    [stall] = [t for t in dms(bot, "U0SL1") if "stalling" in t]
    assert "Technical setup complete" in stall and "Lee Park" in stall
    assert not any("stalling" in t for t in dms(bot, "U0HOD"))
    tick_at(bot, due + timedelta(hours=97))
    assert f"onboarding_stall:U0HOD:{setup.id}:head_of_delivery" in _keys(bot, "onboarding_stall")
    tick_at(bot, datetime(2026, 12, 14, 10, tzinfo=NY))
    about = "“Technical setup complete”"
    assert sum(about in t and "head of delivery" in t for t in dms(bot, "U0HOD")) == 1
    assert sum(about in t and "stalling" in t for t in dms(bot, "U0SL1")) == 1  # once each


def test_the_kickoff_timer_nudges_the_cso_then_escalates(bot: BotHarness) -> None:
    _create(bot)
    tick_at(bot, datetime(2026, 11, 27, 11, tzinfo=NY))  # before the deadline (Mon Nov 30)
    assert not any("Kickoff of Hooli" in t for t in dms(bot, "U0CSO1"))
    tick_at(bot, datetime(2026, 11, 30, 11, tzinfo=NY))
    assert any("Kickoff of Hooli must be scheduled by Mon Nov 30" in t for t in dms(bot, "U0CSO1"))
    tick_at(bot, datetime(2026, 12, 1, 11, tzinfo=NY))
    assert any("no kickoff is scheduled" in t for t in dms(bot, "U0HOD"))
    assert any("no kickoff is scheduled" in t for t in dms(bot, "U0SL1"))


def test_a_scheduled_kickoff_stops_the_timer(bot: BotHarness) -> None:
    _create(bot)
    bot.command("/onboarding", "hooli kickoff 2026-12-03")
    bot.wait_response()
    tick_at(bot, datetime(2026, 12, 1, 11, tzinfo=NY))
    assert not any("kickoff" in t.lower() and "scheduled" in t for t in dms(bot, "U0HOD"))


def test_no_sales_handoff_24_hours_after_the_signature_nudges_the_ae_and_the_cso_once(
    bot: BotHarness,
) -> None:
    # Signed Fri Nov 20 in Chicago, no handoff in the form: due by the end of Sat Nov 21
    # (Sun Nov 22 00:00 CST), 24 clock hours after the signature day ends.
    cid = _create(bot, stakeholders="", deal_context="", timeline="")
    tick_at(bot, datetime(2026, 11, 21, 23, 59, tzinfo=CHICAGO))
    assert _keys(bot, "sales_handoff") == set()
    tick_at(bot, datetime(2026, 11, 22, 0, 0, tzinfo=CHICAGO))
    assert _keys(bot, "sales_handoff") == {
        f"sales_handoff:{cid}:U0AE1",
        f"sales_handoff:{cid}:U0CSO1",
    }
    tick_at(bot, datetime(2026, 11, 23, 11, tzinfo=NY))  # delivered, and not again
    tick_at(bot, datetime(2026, 11, 24, 11, tzinfo=NY))
    for person in ("U0AE1", "U0CSO1"):
        said = [t for t in dms(bot, person) if "No sales handoff for Hooli" in t]
        assert len(said) == 1, dms(bot, person)
        assert "within 24 h of the signature on Fri Nov 20" in said[0]
        assert "<@U0AE1>, please send <@U0CSO1>" in said[0]


def test_a_sales_handoff_named_later_in_the_portfolio_stops_the_handoff_timer(
    bot: BotHarness,
) -> None:
    cid = _create(bot, stakeholders="", deal_context="", timeline="")
    spec = ClientSpec(
        slug="hooli",
        name="Hooli",
        cso="U0CSO1",
        signed_on=date(2026, 11, 20),
        handoff={"stakeholders": "Gavin (CEO)"},
    )
    received = datetime(2026, 11, 21, 12, tzinfo=UTC)
    with bot.db.transaction() as tx:
        client = client_by_slug(tx, "hooli")
        assert client is not None
        assert start_lifecycle(tx, client, spec, by="U0CSO1", source="portfolio", now=received) == 0
        later = received + timedelta(hours=1)
        start_lifecycle(tx, client, spec, by="U0CSO1", source="portfolio", now=later)
    with bot.db.session() as s:
        life = s.scalars(select(ClientLifecycle).where(ClientLifecycle.client_id == cid)).one()
    assert life.handoff_received_at == received  # recorded once, when it came
    assert life.handoff["stakeholders"] == "Gavin (CEO)"
    tick_at(bot, datetime(2026, 11, 23, 11, tzinfo=NY))
    assert _keys(bot, "sales_handoff") == set()
    assert not any("No sales handoff" in t for t in dms(bot, "U0AE1"))


def test_the_renewal_forecast_goes_to_sales_ops_at_minus_120_days(bot: BotHarness) -> None:
    load_portfolio(bot.db, PORTFOLIO)
    # Acme's contract ends 2027-03-31: −120 days is 2026-12-01.
    # Globex (ends 2027-01-15) and Initech (2026-12-31) are inside 120 days already.
    tick_at(bot, datetime(2026, 11, 30, 11, tzinfo=NY))
    first = [str(m.get("text")) for m in bot.emulator.messages_in(SALES_OPS)]
    assert len(first) == 2 and not any("Acme" in t for t in first)
    assert any(
        "Renewal forecast: Initech* — contract ends 2026-12-31 (31 days)" in t for t in first
    )
    tick_at(bot, datetime(2026, 12, 1, 11, tzinfo=NY))
    posts = [str(m.get("text")) for m in bot.emulator.messages_in(SALES_OPS)]
    acme = [p for p in posts if "Renewal forecast: Acme Corp" in p]
    assert len(acme) == 1
    assert "contract ends 2027-03-31 (120 days)" in acme[0] and "Health:" in acme[0]
    assert "Usage:" in acme[0] and "Risks:" in acme[0]
    assert any("posted to Sales Ops" in t for t in dms(bot, "U0CSO1"))
    # Never into a client channel.
    for channel in ("C0ACME", "C0GLOBEX", "C0INITECH"):
        assert not any("forecast" in str(m.get("text")) for m in bot.emulator.messages_in(channel))
    tick_at(bot, datetime(2026, 12, 2, 11, tzinfo=NY))
    assert (
        len([p for p in bot.emulator.messages_in(SALES_OPS) if "Acme" in str(p.get("text"))]) == 1
    )


@pytest.mark.parametrize("setting", ["shared", "client"])
def test_the_forecast_is_never_posted_to_a_shared_or_client_channel(
    bot: BotHarness, setting: str
) -> None:
    if setting == "shared":
        load_portfolio(bot.db, PORTFOLIO)
        bot.emulator.set_shared(SALES_OPS)
        channel = SALES_OPS
    else:
        load_portfolio(
            bot.db,
            PORTFOLIO.replace(f"sales_ops_channel: {SALES_OPS}", "sales_ops_channel: C0GLOBEX"),
        )
        channel = "C0GLOBEX"
    tick_at(bot, datetime(2026, 12, 1, 11, tzinfo=NY))
    assert not any(
        "Renewal forecast" in str(m.get("text")) for m in bot.emulator.messages_in(channel)
    )
    assert any("was not posted" in t and "Slack Connect" in t for t in dms(bot, "U0CSO1"))


def test_the_qualified_expansion_package_goes_to_the_ae(bot: BotHarness) -> None:
    cid = _create(bot)
    now = datetime(2026, 11, 20, 11, tzinfo=NY)
    with bot.db.transaction() as tx:
        result = post_expansion_package(
            tx,
            client_id=cid,
            opportunity="Analytics seats for the finance team",
            signals=["New department expressing interest"],
            qualified_by="U0CSO1",
            now=now,
        )
    assert result.sent_to == "U0AE1" and result.new
    with bot.db.transaction() as tx:
        again = post_expansion_package(
            tx,
            client_id=cid,
            opportunity="Analytics seats for the finance team",
            signals=[],
            qualified_by="U0CSO1",
            now=now,
        )
    assert not again.new and "already sent" in again.text
    tick_at(bot, now)
    [package] = [t for t in dms(bot, "U0AE1") if "Qualified expansion" in t]
    assert "Analytics seats for the finance team" in package
    assert "Gavin (CEO, sponsor)" in package  # stakeholders, from the handoff
    assert "New department expressing interest" in package  # signals
    assert "Reports in 1 day" in package and "signed 2026-11-20" in package  # history
    assert "Health:* no data" in package
    with bot.db.session() as s:
        assert len(s.scalars(select(ExpansionPackage)).all()) == 1


# -- lifecycle stages ----------------------------------------------------------------------------
def test_lifecycle_stages_over_time(bot: BotHarness) -> None:
    cid = _create(bot)
    signed = datetime(2026, 11, 20, 11, tzinfo=NY)
    tick_at(bot, signed + timedelta(days=10))
    bot.command("/pulse")
    hooli = "Hooli: no sentiment; hook: none; update: none; today: not yet; weekly win: no"
    assert f"{hooli}; stage: Onboarding" in bot.wait_response()
    # Handed off in week 4: everything ticked.
    for item in sorted(items(bot, cid).values(), key=lambda i: i.item_id == "handoff"):
        click(bot, "onboarding_tick", str(item.id))
        bot.settle()
    tick_at(bot, signed + timedelta(days=45))
    bot.command("/pulse")
    assert "stage: Adoption" in _last(bot)
    tick_at(bot, signed + timedelta(days=120))
    bot.command("/pulse")
    assert "stage: Value realization" in _last(bot)
    with bot.db.session() as s:
        rows = s.scalars(
            select(LifecycleStageRecord)
            .where(LifecycleStageRecord.client_id == cid)
            .order_by(LifecycleStageRecord.since)
        ).all()
    assert [(r.stage, r.since) for r in rows] == [
        ("onboarding", date(2026, 11, 30)),
        ("adoption", date(2027, 1, 4)),
        ("value_realization", date(2027, 3, 20)),
    ]
    # The digest's lifecycle figures: clients by stage at the end of a month, from the records.
    from domain.metric import Period
    from usecases.lifecycle_metrics import onboarding_metrics

    jan = Period(date(2027, 1, 1), date(2027, 1, 31), "2027-01")
    with bot.db.session() as tx:
        found = {m.key: m for m in onboarding_metrics(tx, jan, bot.clock.now())}
    assert found["lifecycle.clients.adoption"].value == 1
    assert found["lifecycle.clients.adoption"].evidence == ("hooli: since 2027-01-04",)
    # Acme (contract started 2025-04-01): value realization since the first tick. Globex and
    # Initech have neither signature nor contract start: no stage to count.
    assert found["lifecycle.clients.value_realization"].value == 1
    assert found["lifecycle.clients.onboarding"].value == 0
    oct_ = Period(date(2026, 10, 1), date(2026, 10, 31), "2026-10")
    with bot.db.session() as tx:
        before = {m.key: m for m in onboarding_metrics(tx, oct_, bot.clock.now())}
    assert before["lifecycle.clients.adoption"].value is None  # no stage recorded yet: no data


# -- close-out -----------------------------------------------------------------------------------
def test_closeout_starts_the_checklist_and_drafts_the_report(bot: BotHarness) -> None:
    bot.command("/win", 'acme "Cut report time by 2 days"')
    bot.wait_response()
    bot.command("/closeout", 'acme "Reporting rebuild: a clean before/after"')
    reply = _last(bot)
    assert "project close-out started · 0/6 done" in reply
    assert "Final follow-up with the client" in reply and "Internal post-mortem" in reply
    assert "# Final impact report: Acme Corp" in reply
    assert "Cut report time by 2 days" in reply
    with bot.db.session() as s:
        closeout = s.scalars(select(Closeout)).one()
        assert closeout.case_study_candidate
        assert closeout.case_study_note == "Reporting rebuild: a clean before/after"
        # the close-out feeds the reference program: acme ranks as a case-study candidate
        assert support_store.case_study_clients(s) == {_client_id(bot, "acme")}
    with bot.db.session() as s:
        found = lifecycle_store.closeout_of(s, _client_id(bot, "acme"))
    assert found is not None
    for item in found.items:
        click(bot, "closeout_tick", str(item.id))
        bot.settle()
    assert "The close-out is complete." in bot.responses()[-1]
    bot.command("/pulse")
    assert "stage: Closed out" in _last(bot)


def test_nudges_use_the_outbox(bot: BotHarness) -> None:
    _create(bot)
    tick_at(bot, datetime(2026, 11, 23, 11, tzinfo=NY))
    with bot.db.session() as s:
        keys = {n.key for n in s.scalars(select(Nudge))}
    assert any(k.startswith("onboarding_item:") for k in keys)
    assert dm_channel("U0CSO1").startswith("D")
    assert UTC is not None


def test_app_home_shows_onboarding_clients_above_the_health_board(bot: BotHarness) -> None:
    _create(bot)
    bot.event({"type": "app_home_opened", "user": "U0CSO1", "tab": "home"})
    bot.settle()
    [published] = bot.emulator.calls("views.publish")
    view = published.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    texts = [json.dumps(b) for b in view["blocks"]]
    onboarding = next(i for i, t in enumerate(texts) if '"Onboarding"' in t)
    board = next(i for i, t in enumerate(texts) if "Internal Health Board" in t)
    assert onboarding < board
    assert any("*Hooli* 0/8" in t for t in texts)
    assert any("stage Onboarding" in t for t in texts)  # the board row says the stage
    assert any("stage Value realization" in t for t in texts)  # Acme, signed long ago


# -- metrics ---------------------------------------------------------------------------------------
def test_the_onboarding_metric_source_reads_the_records(bot: BotHarness) -> None:
    from bot.features import metric_sources
    from domain.metric import Period
    from usecases.lifecycle_metrics import onboarding_metrics

    assert onboarding_metrics in metric_sources()  # declared on the lifecycle Feature
    assert onboarding_metrics in bot.deps.metric_sources
    cid = _create(bot)  # SMB, signed Fri 2026-11-20, kickoff by Mon Nov 30
    bot.clock.set(datetime(2026, 12, 7, 11, tzinfo=NY))
    bot.command("/win", 'hooli "Reports in one day, down from three"')
    bot.wait_response()
    for hours in ("2.5", "1.5"):
        bot.command("/onboarding", f"hooli hours {hours}")
        _last(bot)
    bot.clock.set(datetime(2026, 12, 10, 11, tzinfo=NY))
    for item in sorted(items(bot, cid).values(), key=lambda i: i.item_id == "handoff"):
        click(bot, "onboarding_tick", str(item.id))
        bot.settle()
    dec = Period(date(2026, 12, 1), date(2026, 12, 31), "2026-12")
    with bot.db.session() as tx:
        found = {m.key: m for m in onboarding_metrics(tx, dec, bot.clock.now())}
    # By hand: first win Dec 7 − signed Nov 20 = 17 days.
    assert found["onboarding.time_to_value"].value == 17
    assert found["onboarding.time_to_value"].evidence == ("hooli: 17 d (first /win)",)
    # Window closes Nov 20 + 30 = Dec 20 (in December); handed off Dec 10: 1/1.
    assert found["onboarding.completion_rate"].value == 1.0
    # Activation milestone due Nov 30 + 10 business days = Dec 14, ticked Dec 10: 1/1.
    assert found["onboarding.activation_rate"].value == 1.0
    # Day 90 is Feb 18, 2027: no early-churn cohort in December.
    assert found["onboarding.early_churn"].value is None
    # Nov 20 → Dec 10 = 20 days, inside SMB's 14–30.
    assert found["onboarding.days.smb"].value == 20 and found["onboarding.days.smb"].on_target
    assert found["onboarding.cso_hours"].value == 4.0
    assert all(m.formula for m in found.values())


def test_time_to_value_counts_a_marked_outcome_before_the_first_win(bot: BotHarness) -> None:
    from domain.delivery import Fetched, PullRequest
    from domain.metric import Period
    from storage import connector_store
    from usecases.lifecycle_metrics import onboarding_metrics

    cid = _create(bot)  # signed Fri 2026-11-20 in Chicago; criterion "Reports in 1 day"

    def pull(number: int, title: str, merged: datetime) -> PullRequest:
        url = f"https://github.com/hooli/web/pull/{number}"
        return PullRequest("hooli/web", number, title, url, "closed", merged_at=merged)

    pulls = [
        # Feature only (names no criterion): not value.
        pull(11, "Refactor the report export", datetime(2026, 11, 30, 15, tzinfo=UTC)),
        # Names the criterion with a measured figure: an outcome, Dec 3 in Chicago.
        pull(12, "Reports in one day: export takes 2 hours", datetime(2026, 12, 3, 20, tzinfo=UTC)),
    ]
    with bot.db.transaction() as tx:
        connector_store.replace(
            tx, cid, Fetched(source="github", pulls=pulls), datetime(2026, 12, 4, tzinfo=UTC)
        )
    bot.clock.set(datetime(2026, 12, 7, 11, tzinfo=NY))
    bot.command("/win", 'hooli "Reports in one day, down from three"')
    bot.wait_response()
    dec = Period(date(2026, 12, 1), date(2026, 12, 31), "2026-12")
    with bot.db.session() as tx:
        found = {m.key: m for m in onboarding_metrics(tx, dec, bot.clock.now())}
    ttv = found["onboarding.time_to_value"]
    # By hand: the merged outcome Dec 3 − signed Nov 20 = 13 days (the /win on Dec 7: 17).
    assert ttv.value == 13
    assert ttv.evidence == ("hooli: 13 d (outcome hooli/web#12)",)
    assert "marked an outcome" in ttv.formula


def test_the_portfolio_file_writes_the_same_records_as_the_form(bot: BotHarness) -> None:
    from domain.portfolio import parse_portfolio
    from usecases.lifecycle_actions import import_clients

    entry = """
  - slug: hooli
    name: Hooli
    cso: U0CSO1
    service_lead: U0SL1
    client_channel: C0HOOLI
    internal_channel: C0HOOLIINT
    segment: smb
    arr: 48000
    contract_end: 2027-11-19
    timezone: America/Chicago
    contacts: [U0EXT9]
    signed_on: 2026-11-20
    ae: U0AE1
    success_criteria: [Reports in 1 day, 80% of analysts active]
    handoff:
      stakeholders: Gavin (CEO, sponsor); Big Head (champion)
      deal_context: Replacing spreadsheets
      timeline: Live by January
"""
    portfolio = parse_portfolio(PORTFOLIO + entry)
    now = datetime(2026, 11, 20, 11, tzinfo=NY)
    with bot.db.transaction() as tx:
        import_clients(tx, portfolio, by="portfolio", now=now)
    with bot.db.transaction() as tx:  # imported twice: nothing new
        import_clients(tx, portfolio, by="portfolio", now=now)
    from_file = items(bot, _client_id(bot, "hooli"))
    with bot.db.session() as s:
        life = s.scalars(select(ClientLifecycle)).one()
        client = s.scalars(select(Client).where(Client.slug == "hooli")).one()
    assert life.source == "portfolio" and life.ae_id == "U0AE1"
    assert life.success_criteria == ["Reports in 1 day", "80% of analysts active"]
    assert (client.segment, client.arr, client.timezone) == ("smb", 48000, "America/Chicago")
    # The same due dates as the form's (test_each_segments_checklist…): one writer.
    assert len(from_file) == 8
    assert from_file["kickoff-meeting"].due_on == date(2026, 11, 30)
    assert from_file["handoff"].due_on == date(2026, 12, 18)
    # A bad entry names entry and field, like the form's error.
    from domain.portfolio import PortfolioError

    with pytest.raises(PortfolioError) as err:
        parse_portfolio(PORTFOLIO + entry.replace("slug: hooli", "slug: Hooli Inc"))
    assert "is not a slug" in str(err.value)


def test_a_cadence_can_be_limited_to_a_lifecycle_stage(bot: BotHarness) -> None:
    # The stand-up pulse only for clients in onboarding: Hooli, not Acme (value realization).
    load_portfolio(
        bot.db,
        PORTFOLIO.replace(
            "  settings:\n",
            "  settings:\n    cadences:\n      standup-pulse: {stages: [onboarding]}\n",
        ),
    )
    _create(bot)
    tick_at(bot, datetime(2026, 11, 23, 8, tzinfo=NY))  # records the stages
    tick_at(bot, datetime(2026, 11, 23, 9, 35, tzinfo=NY))  # the stand-up pulse is due 09:30
    with bot.db.session() as s:
        pulses = {n.client_id for n in s.scalars(select(Nudge)) if n.cadence_id == "standup-pulse"}
    assert pulses == {_client_id(bot, "hooli")}


@pytest.mark.parametrize(
    ("stages", "checked"),
    [
        (None, {"hooli", "acme", "initech"}),  # the default: every client, whatever its stage
        ("[onboarding]", {"hooli"}),
        ("[adoption, value_realization]", {"acme"}),  # Initech has no stage: not checked
    ],
)
def test_health_checks_can_be_limited_to_lifecycle_stages(
    bot: BotHarness, stages: str | None, checked: set[str]
) -> None:
    settings = (
        f"  settings:\n    health_checks: {{stages: {stages}}}\n" if stages else "  settings:\n"
    )
    load_portfolio(bot.db, PORTFOLIO.replace("  settings:\n", settings))
    _create(bot)  # Hooli: onboarding; Acme, signed long ago: value realization
    tick_at(bot, datetime(2026, 11, 23, 11, tzinfo=NY))  # nobody scored yet: the first check
    with bot.db.session() as s:
        slugs = {c.id: c.slug for c in s.scalars(select(Client))}
        first = {
            slugs[n.client_id]
            for n in s.scalars(select(Nudge))
            if n.cadence_id == "health_check" and n.key.endswith(":first")
        }
    assert checked <= first if stages is None else first == checked


def test_health_check_stages_are_checked_in_the_portfolio_file() -> None:
    from domain.portfolio import PortfolioError, parse_portfolio

    bad = PORTFOLIO.replace(
        "  settings:\n", "  settings:\n    health_checks: {stages: [onbording]}\n"
    )
    with pytest.raises(PortfolioError) as err:
        parse_portfolio(bad)
    assert "health_checks.stages" in str(err.value) and "onboarding" in str(err.value)


@pytest.mark.parametrize(("user", "allowed"), [("U0HOD", True), ("U0FND", True), ("U0EP1", False)])
def test_leadership_may_add_a_client_and_others_may_not(
    bot: BotHarness, user: str, allowed: bool
) -> None:
    before = row_counts(bot)
    status, answer = submit(bot, form(**GOOD), user=user)
    assert status == 200 and answer is None
    bot.settle()
    with bot.db.session() as s:
        created = s.scalars(select(Client).where(Client.slug == "hooli")).first()
    if allowed:
        assert created is not None
        assert any("Hooli is in the portfolio" in t for t in dms(bot, user))
    else:
        assert created is None and row_counts(bot) == before
        assert any("new clients are added by a CSO" in t for t in dms(bot, user))
