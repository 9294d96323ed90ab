"""Onboarding plans as data and the pure rules: due dates in business days on the client's
calendar, overdue, the 48 h stall rule, the handoff's blockers, the kickoff timer and the
lifecycle stage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import WorkCalendar
from domain.onboarding import (
    Item,
    OnboardingError,
    Rules,
    Stage,
    StageFacts,
    default_catalogue,
    effective_catalogue,
    forecast_due,
    handoff_blockers,
    kickoff_deadline,
    kickoff_timer,
    lifecycle_stage,
    plan_items,
    progress,
    sales_handoff_deadline,
    sales_handoff_late,
    stall_levels,
)
from domain.org_settings import OrgSettingsError, parse_org_settings

CHICAGO = WorkCalendar(tz=ZoneInfo("America/Chicago"), country="US")
SIGNED = date(2026, 11, 20)  # a Friday; Thursday Nov 26 is Thanksgiving


def test_every_segment_has_its_window_phases_and_the_default_checklist() -> None:
    cat = default_catalogue()
    assert cat.plans["enterprise"].window_days == (60, 120)
    assert cat.plans["mid_market"].window_days == (30, 60)
    assert cat.plans["smb"].window_days == (14, 30)
    assert cat.plans["enterprise"].phases == (
        "Kickoff",
        "Config",
        "Training",
        "Adoption",
        "Expansion plan",
    )
    assert cat.plans["mid_market"].phases == ("Kickoff", "Setup", "Go-live", "30-day check-in")
    assert cat.plans["smb"].phases == ("Welcome", "Self-serve setup", "Activation milestone")
    enterprise = {i.text for i in cat.plans["enterprise"].items}
    # The default checklist, pre-kickoff to the Week-8 handoff.
    for text in (
        "Account setup complete",
        "Kickoff meeting conducted",
        "Technical setup complete",
        "Power users identified",
        "Onboarding review meeting",
        "Escalation paths clear",
    ):
        assert text in enterprise
    for plan in cat.plans.values():
        assert sum(1 for i in plan.items if i.marks == "activation") == 1
        assert plan.handoff_item.section == "handoff"


def test_due_dates_are_business_days_on_the_clients_calendar() -> None:
    cat = default_catalogue()
    items = {p.item_id: p for p in plan_items(cat.plans["smb"], CHICAGO, SIGNED, None, Rules())}
    # +1 business day from Friday: Monday.
    assert items["account-setup"].due_on == date(2026, 11, 23)
    # No kickoff yet: anchored on the latest kickoff day, 5 business days (Thanksgiving skipped).
    assert kickoff_deadline(CHICAGO, SIGNED, Rules()) == date(2026, 11, 30)
    assert items["kickoff-meeting"].due_on == date(2026, 11, 30)
    assert items["channels"].due_on == date(2026, 12, 1)
    # Due at the close of business in Chicago (17:00 CST = 23:00 UTC).
    assert items["account-setup"].due_at == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    # With a kickoff scheduled, kickoff items count from it.
    moved = plan_items(cat.plans["smb"], CHICAGO, SIGNED, date(2026, 11, 24), Rules())
    assert {p.item_id: p.due_on for p in moved}["kickoff-meeting"] == date(2026, 11, 24)
    # Another timezone, another close of business.
    london = WorkCalendar(tz=ZoneInfo("Europe/London"), country="GB")
    first = plan_items(cat.plans["smb"], london, SIGNED, None, Rules())[0]
    assert first.due_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def _item(
    i: int, section: str, due: datetime, done: bool = False, marks: str | None = None
) -> Item:
    return Item(
        id=i,
        item_id=f"i{i}",
        text=f"item {i}",
        section=section,
        owner="cso",
        due_on=due.date(),
        due_at=due,
        position=i,
        marks=marks,
        done_at=due if done else None,
    )


def test_progress_overdue_and_next_three() -> None:
    now = datetime(2026, 12, 10, 12, tzinfo=UTC)
    items = [
        _item(1, "pre_kickoff", now - timedelta(days=5), done=True),
        _item(2, "week_1", now - timedelta(days=1)),
        _item(3, "weeks_2_4", now + timedelta(days=1)),
        _item(4, "weeks_2_4", now + timedelta(days=2)),
        _item(5, "weeks_4_8", now + timedelta(days=3)),
        _item(6, "handoff", now + timedelta(days=4), marks="handoff"),
    ]
    p = progress(items, now)
    assert (p.done, p.total) == (1, 6)
    assert [i.id for i in p.overdue] == [2]
    assert [i.id for i in p.next_items] == [3, 4, 5]
    assert [i.id for i in handoff_blockers(items)] == [2, 3, 4, 5]


def test_the_stall_rule_is_48_hours_in_weeks_2_to_4_then_the_head_of_delivery() -> None:
    due = datetime(2026, 12, 1, 23, tzinfo=UTC)
    item = _item(1, "weeks_2_4", due)
    rules = Rules()
    assert stall_levels(item, due + timedelta(hours=47), rules) == []
    assert stall_levels(item, due + timedelta(hours=48), rules) == ["service_lead"]
    assert stall_levels(item, due + timedelta(hours=96), rules) == [
        "service_lead",
        "head_of_delivery",
    ]
    # Not in weeks 2-4: no stall, however late.
    assert stall_levels(_item(2, "week_1", due), due + timedelta(days=9), rules) == []
    assert stall_levels(_item(3, "weeks_2_4", due, done=True), due + timedelta(days=9), rules) == []


def test_the_kickoff_timer_nudges_on_the_deadline_then_escalates() -> None:
    r = Rules()
    assert kickoff_timer(CHICAGO, SIGNED, None, False, date(2026, 11, 27), r) is None
    assert kickoff_timer(CHICAGO, SIGNED, None, False, date(2026, 11, 30), r) == "nudge"
    assert kickoff_timer(CHICAGO, SIGNED, None, False, date(2026, 12, 1), r) == "escalate"
    assert kickoff_timer(CHICAGO, SIGNED, date(2026, 12, 3), False, date(2026, 12, 9), r) is None


def test_the_sales_handoff_is_due_24_clock_hours_after_the_signature_day() -> None:
    # Signed Fri Nov 20 in Chicago (CST, UTC−6): the day ends Sat 00:00 CST = 06:00 UTC, and
    # 24 clock hours later (a Saturday: business days don't matter) is Sun Nov 22 06:00 UTC.
    r = Rules()
    due = datetime(2026, 11, 22, 6, tzinfo=UTC)
    assert sales_handoff_deadline(CHICAGO, SIGNED, r) == due
    assert not sales_handoff_late(CHICAGO, SIGNED, None, due - timedelta(seconds=1), r)
    assert sales_handoff_late(CHICAGO, SIGNED, None, due, r)
    assert not sales_handoff_late(CHICAGO, SIGNED, due + timedelta(hours=1), due, r)
    # Across a DST change the hours are clock hours: signed Sat Mar 7 2026, the day ends
    # Sun 00:00 CST (06:00 UTC); +24 h is Mon 06:00 UTC (01:00 CDT), not 00:00 CDT.
    assert sales_handoff_deadline(CHICAGO, date(2026, 3, 7), r) == datetime(
        2026, 3, 9, 6, tzinfo=UTC
    )
    assert sales_handoff_deadline(
        CHICAGO, SIGNED, Rules(handoff_within_hours=48)
    ) == due + timedelta(hours=24)


def test_the_renewal_forecast_is_due_from_120_days_before_the_end() -> None:
    end = date(2027, 3, 31)
    assert not forecast_due(end, end - timedelta(days=121), Rules())
    assert forecast_due(end, end - timedelta(days=120), Rules())
    assert not forecast_due(None, end, Rules())


@pytest.mark.parametrize(
    ("facts", "day", "stage"),
    [
        (StageFacts(SIGNED, True, None), 10, Stage.ONBOARDING),
        (StageFacts(SIGNED, True, None), 120, Stage.ONBOARDING),  # never handed off
        (StageFacts(SIGNED, True, date(2026, 12, 20)), 45, Stage.ADOPTION),
        (StageFacts(SIGNED, True, date(2026, 12, 20)), 120, Stage.VALUE_REALIZATION),
        (StageFacts(SIGNED, False, None), 45, Stage.ADOPTION),  # added without a checklist
        (StageFacts(SIGNED, True, date(2026, 12, 20), expansion=True), 120, Stage.EXPANSION),
        (StageFacts(SIGNED, True, date(2026, 12, 20), advocacy=True), 120, Stage.ADVOCACY),
        (StageFacts(SIGNED, True, None, closed=True), 120, Stage.CLOSED),
        (StageFacts(None, False, None), 10, None),
    ],
)
def test_lifecycle_stage(facts: StageFacts, day: int, stage: Stage | None) -> None:
    assert lifecycle_stage(facts, SIGNED + timedelta(days=day)) == stage


def test_an_organization_overrides_a_plan_and_the_rules_in_its_settings() -> None:
    smb = {
        "name": "SMB (ours)",
        "window_days": [10, 20],
        "phases": ["Welcome"],
        "items": [
            {"id": "welcome", "text": "Welcome", "section": "week_1", "due": 0,
             "anchor": "kickoff", "phase": "Welcome", "marks": "kickoff"},
            {"id": "done", "text": "Handoff", "section": "handoff", "due": 5,
             "anchor": "kickoff", "marks": "handoff"},
        ],
    }  # fmt: skip
    cat = effective_catalogue({"plans": {"smb": smb}, "rules": {"stall_hours": 24}})
    assert cat.plans["smb"].name == "SMB (ours)"
    assert cat.plans["enterprise"].name == "Enterprise"  # untouched
    assert cat.rules.stall_hours == 24 and cat.rules.kickoff_within_business_days == 5
    settings = parse_org_settings({"onboarding": {"plans": {"smb": smb}}})
    assert settings.onboarding is not None


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"plans": {"startup": {}}}, "onboarding.plans.startup: not a segment"),
        ({"rules": {"stall_hours": 0}}, "onboarding.rules.stall_hours"),
        ({"plans": {"smb": {"name": "x", "window_days": [30, 14], "items": []}}}, "smb.items"),
        ({"colour": 1}, "onboarding.colour: not a setting"),
    ],
)
def test_bad_overrides_name_the_field(overrides: dict[str, object], problem: str) -> None:
    with pytest.raises(OnboardingError) as err:
        effective_catalogue(overrides)
    assert problem in str(err.value)
    with pytest.raises(OrgSettingsError) as org_err:
        parse_org_settings({"onboarding": overrides})
    assert "settings.onboarding" in str(org_err.value)


def test_the_impact_report_renders_every_part_in_markdown_and_escaped_html() -> None:
    from prompts.lifecycle_views import impact_report_html, impact_report_md
    from usecases.lifecycle_actions import ReportData

    data = ReportData(
        name="Acme <Corp>",
        today=date(2027, 3, 31),
        segment="enterprise",
        arr=240000,
        signed_on=date(2026, 4, 1),
        contract_start=date(2026, 4, 1),
        contract_end=date(2027, 3, 31),
        onboarding="23/23 checklist items done, handed off 2026-06-10",
        criteria=("Reports in 1 day",),
        wins=("2026-W47: Cut report time by 2 days",),
        health=((date(2026, 11, 30), 72.0, "yellow"), (date(2026, 12, 31), 81.0, "green")),
        renewals=("2027-03-31: signed, new end 2028-03-31",),
    )
    md = impact_report_md(r=data)
    for part in (
        "# Final impact report: Acme <Corp>",
        "- Reports in 1 day",
        "- 2026-W47: Cut report time by 2 days",
        "- 2026-11-30: 72 (yellow)",
        "- 2026-12-31: 81 (green)",
        "- 2027-03-31: signed, new end 2028-03-31",
        "ARR: $240,000",
    ):
        assert part in md
    html = impact_report_html(r=data)
    assert "Acme &lt;Corp&gt;" in html and "<li>2026-12-31: 81 (green)</li>" in html


def test_health_checks_by_lifecycle_stage() -> None:
    from domain.health import HealthCheckSettings

    every = HealthCheckSettings()
    assert every.applies(None) and every.applies(Stage.ONBOARDING)
    some = parse_org_settings({"health_checks": {"stages": ["adoption"]}}).health_checks
    assert some.applies("adoption") and some.applies(Stage.ADOPTION)
    assert not some.applies(Stage.ONBOARDING) and not some.applies(None)
    with pytest.raises(OrgSettingsError) as err:
        parse_org_settings({"health_checks": {"stages": ["later"]}})
    assert "settings.health_checks.stages.0" in str(err.value)
