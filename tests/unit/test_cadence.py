"""The cadence catalogue, its calendar arithmetic and the working hours of the shared work
calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.cadence import (
    CadenceError,
    Catalogue,
    effective_catalogue,
    load_default_catalogue,
    parse_catalogue,
)
from domain.cadence_schedule import Occurrence, due_now, occurrences_between, period_key
from domain.calendar import WorkCalendar, is_out
from domain.portfolio import Role
from prompts.cli_views import catalogue_table

NY = ZoneInfo("America/New_York")
CAT = load_default_catalogue()

EVERY_CADENCE = {
    # daily
    "standup-pulse",
    "morning-update",
    "touchpoint-cutoff",
    "eod-recap",
    "evidence-of-value",
    "health-board",
    # weekly
    "thursday-prep",
    "weekly-presentation",
    "triangle-sync",
    "client-health-report",
    "expansion-reflection",
    # monthly
    "value-realization-audit",
    "sl-retro",
    "nps-review",
    "ai-efficiency-audit",
    # quarterly
    "ebr",
    "expansion-roadmapping",
    # lifecycle
    "project-kickoff",
    "project-close-out",
    "asset-pivot",
}


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def occ(cid: str, start: datetime, end: datetime, **kw: Any) -> list[Occurrence]:
    kw.setdefault("holiday_country", "US")
    return occurrences_between(CAT.get(cid), NY, start, end, **kw)


def occurrencesof(cat: Catalogue, cid: str, start: datetime, end: datetime) -> list[Occurrence]:
    return occurrences_between(cat.get(cid), NY, start, end, holiday_country="US")


def local(o: Occurrence) -> datetime:
    return o.due_at.astimezone(NY)


# -- the catalogue -------------------------------------------------------------------------------
def test_default_catalogue_covers_every_cadence_of_the_process_map() -> None:
    assert set(CAT.ids) >= EVERY_CADENCE
    assert all(c.enabled for c in CAT.cadences if c.id in EVERY_CADENCE)
    # Every nudge says why it came, in words (no citation a reader has to look up).
    assert all(c.why and "seed" not in c.why.lower() and "§" not in c.why for c in CAT.cadences)
    assert len(CAT.ids) == len(set(CAT.ids))


def test_default_catalogue_entries_say_who_when_and_what_closes_them() -> None:
    cutoff = CAT.get("touchpoint-cutoff")
    assert cutoff.at == time(15, 0) and cutoff.person_time == "cutoff"
    assert cutoff.per_client and cutoff.roles == (Role.CSO,)
    assert cutoff.touchpoint_kinds == {"slack", "email", "call", "meeting"}
    assert cutoff.grace == timedelta(hours=3)

    presentation = CAT.get("weekly-presentation")
    assert presentation.closes_by == "win"
    assert presentation.describe_when() == "weekly Fri"
    assert CAT.get("standup-pulse").closes_by == "pulse"
    assert CAT.get("triangle-sync").closes_by == "click"
    assert set(CAT.get("triangle-sync").roles) == {
        Role.CSO,
        Role.SERVICE_LEAD,
        Role.ENGAGEMENT_PARTNER,
    }
    assert CAT.get("value-realization-audit").describe_when() == "monthly last bus. day"
    assert CAT.get("ebr").describe_when() == "quarterly m3 day 1"
    assert CAT.get("project-close-out").describe_when() == "contract_end -14d"
    assert CAT.get("ai-efficiency-audit").per_client is False
    # The health checks by band ship switched off until bands are tracked.
    red = CAT.get("health-check-red")
    assert not red.enabled and red.applies_to_band("red") and not red.applies_to_band("green")
    assert [c.id for c in CAT.for_role("service_lead")] == [
        "triangle-sync",
        "sl-retro",
        "asset-pivot",
    ]


def test_catalogue_table_is_aligned_within_80_columns() -> None:
    text = catalogue_table(CAT)
    lines = text.splitlines()
    assert lines[0] == "23 cadences, 20 enabled (times are each person's local time)"
    assert max(len(line) for line in lines) <= 80
    at = lines.index(next(line for line in lines if line.startswith("touchpoint-cutoff ")))
    # the row, and the wrapped rest of its cells on the line under it
    assert lines[at].split() == [
        *["touchpoint-cutoff", "15:00", "daily", "(or", "CSO,", "each", "touchpoint", "3h", "on"]
    ]
    assert lines[at + 1].split() == ["their", "cutoff)", "client"]
    assert "CSO+SL+EP" in next(line for line in lines if line.startswith("triangle-sync "))
    assert "  thursday-prep: Meeting prep: agenda" in text
    assert next(line for line in lines if line.startswith("health-check-red ")).endswith("off")


def test_override_changes_a_time_and_refines_a_schedule() -> None:
    cat = effective_catalogue(
        {
            "triangle-sync": {"at": "13:30", "schedule": {"weekday": "Thursday"}},
            "nps-review": {"schedule": {"every": "weekly", "weekday": "mon"}},
        }
    )
    sync = cat.get("triangle-sync")
    assert sync.at == time(13, 30) and sync.describe_when() == "weekly Thu"
    assert sync.title == CAT.get("triangle-sync").title  # untouched fields kept
    assert cat.get("nps-review").describe_when() == "weekly Mon"  # a new `every` replaces
    [o] = occurrencesof(cat, "triangle-sync", ny(2026, 11, 16), ny(2026, 11, 23))
    assert local(o) == ny(2026, 11, 19, 13, 30)
    # the default catalogue itself is untouched
    assert load_default_catalogue().get("triangle-sync").at == time(11, 0)


def test_override_disables_and_adds_entries() -> None:
    cat = effective_catalogue(
        {
            "eod-recap": {"enabled": False},
            "health-board": False,
            "renewal-check": {
                "title": "Renewal check",
                "why": "Pre-negotiate renewal terms 120 days before expiry.",
                "roles": ["cso", "head_of_delivery"],
                "per_client": True,
                "schedule": {"every": "lifecycle", "anchor": "contract_end", "offset_days": -120},
                "at": "10:00",
                "closes_by": "click",
                "grace": "1d",
            },
        }
    )
    assert not cat.get("eod-recap").enabled and not cat.get("health-board").enabled
    assert "eod-recap" not in [c.id for c in cat.enabled()]
    assert occurrencesof(cat, "eod-recap", ny(2026, 11, 16), ny(2026, 11, 23)) == []
    assert cat.ids[-1] == "renewal-check"
    renewal = occurrences_between(
        cat.get("renewal-check"),
        NY,
        ny(2026, 1, 1),
        ny(2027, 1, 1),
        holiday_country="US",
        contract_end=date(2026, 12, 31),
    )
    assert [o.local_day for o in renewal] == [date(2026, 9, 2)]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"triangle-sync": {"at": "25:00"}},
            'cadence triangle-sync.at: "25:00" is not a local time',
        ),
        (
            {"triangle-sync": {"at": 900}},
            'cadence triangle-sync.at: write the local time as "HH:MM"',
        ),
        ({"triangle-sync": {"tme": "11:00"}}, "cadence triangle-sync.tme: unknown field"),
        (
            {"triangle-sync": {"schedule": {"weekday": "funday"}}},
            'cadence triangle-sync.schedule.weekday: "funday" is not a weekday',
        ),
        (
            {"eod-recap": {"roles": ["cso", "intern"]}},
            "cadence eod-recap.roles[1]: Input should be",
        ),
        ({"eod-recap": {"closes_by": ["slack", "fax"]}}, 'eod-recap.closes_by: "fax" is not a'),
        ({"eod-recap": {"grace": "soon"}}, 'cadence eod-recap.grace: "soon" is not a duration'),
        ({"eod-recap": {"grace": "2d"}}, "eod-recap: grace 2d is longer than a daily period"),
        (
            {"nps-review": {"schedule": {"day": 32}}},
            'cadence nps-review.schedule.day: "32" is not a day of the month',
        ),
        ({"my-own": {"title": "Mine"}}, "cadence my-own.why: required field is missing"),
        (
            {"triangle_sync": {"at": "11:00"}},
            'triangle_sync: not a built-in cadence (did you mean "triangle-sync"?)',
        ),
    ],
)
def test_bad_overrides_name_the_cadence_and_the_field(
    overrides: dict[str, Any], expected: str
) -> None:
    with pytest.raises(CadenceError) as err:
        effective_catalogue(overrides)
    assert expected in str(err.value)


def test_a_broken_catalogue_reports_every_problem() -> None:
    good = CAT.get("eod-recap").model_dump(mode="json")
    assert parse_catalogue({"cadences": [good]}).ids == ["eod-recap"]
    with pytest.raises(CadenceError, match="listed twice"):
        parse_catalogue({"cadences": [good, good]})
    with pytest.raises(CadenceError) as err:
        parse_catalogue({"cadences": [{**good, "at": "noon"}, {**good, "id": "x", "roles": []}]})
    assert len(err.value.problems) == 2
    assert err.value.problems[0].startswith("cadence eod-recap.at:")
    assert err.value.problems[1].startswith("cadence x.roles:")


# -- period keys ---------------------------------------------------------------------------------
def test_period_keys() -> None:
    day = date(2026, 11, 20)
    assert period_key(CAT.get("touchpoint-cutoff"), day) == "2026-11-20"
    assert period_key(CAT.get("weekly-presentation"), day) == "2026-W47"
    assert period_key(CAT.get("weekly-presentation"), date(2027, 1, 1)) == "2026-W53"
    assert period_key(CAT.get("nps-review"), day) == "2026-11"
    assert period_key(CAT.get("ebr"), day) == "2026Q4"
    assert period_key(CAT.get("ebr"), date(2027, 1, 4)) == "2027Q1"
    kickoff = CAT.get("project-kickoff")
    assert period_key(kickoff, date(2026, 11, 2), anchor_date=date(2026, 11, 1)) == (
        "contract_start:2026-11-01"
    )


# -- a normal week, holidays and weekends -------------------------------------------------------
def test_a_normal_week_in_new_york() -> None:
    week = (ny(2026, 11, 16), ny(2026, 11, 23))  # ISO 2026-W47, Monday to Monday
    cutoffs = occ("touchpoint-cutoff", *week)
    assert [o.period for o in cutoffs] == [f"2026-11-{d}" for d in range(16, 21)]
    assert all(o.due_at.tzinfo is UTC for o in cutoffs)
    assert all(o.due_at.astimezone(UTC).hour == 20 for o in cutoffs)  # 15:00 EST
    assert cutoffs[0].expires_at - cutoffs[0].due_at == timedelta(hours=3)

    [presentation] = occ("weekly-presentation", *week)
    assert presentation.period == "2026-W47"
    assert local(presentation) == ny(2026, 11, 20, 10, 0)
    [sync] = occ("triangle-sync", *week)
    assert local(sync) == ny(2026, 11, 18, 11, 0)
    assert [local(o).weekday() for o in occ("thursday-prep", *week)] == [3]
    assert occ("nps-review", *week) == []  # monthly: not this week


def test_the_window_is_half_open() -> None:
    due = ny(2026, 11, 20, 15, 0)
    assert [o.period for o in occ("touchpoint-cutoff", due, due + timedelta(minutes=1))] == [
        "2026-11-20"
    ]
    assert occ("touchpoint-cutoff", due - timedelta(hours=1), due) == []


def test_thanksgiving_and_weekends_produce_nothing() -> None:
    week = (ny(2026, 11, 23), ny(2026, 11, 30))  # 2026-W48, Thanksgiving on Thu 26
    days = [o.local_day for o in occ("touchpoint-cutoff", *week)]
    assert days == [date(2026, 11, d) for d in (23, 24, 25, 27)]
    for cid in ("standup-pulse", "morning-update", "eod-recap", "health-board"):
        assert date(2026, 11, 26) not in [o.local_day for o in occ(cid, *week)]
    weekend = (ny(2026, 11, 28), ny(2026, 11, 30))
    assert all(occ(c.id, *weekend) == [] for c in CAT.cadences)
    # Without a holiday country Thanksgiving is an ordinary Thursday.
    assert len(occ("touchpoint-cutoff", *week, holiday_country="")) == 5


def test_a_weekly_cadence_on_a_holiday_moves_to_the_previous_business_day() -> None:
    [prep] = occ("thursday-prep", ny(2026, 11, 23), ny(2026, 11, 30))
    assert prep.local_day == date(2026, 11, 25) and prep.period == "2026-W48"
    assert local(prep).time() == time(14, 0)
    [xmas] = occ("weekly-presentation", ny(2026, 12, 21), ny(2026, 12, 28))
    assert xmas.local_day == date(2026, 12, 24)  # Friday the 25th is Christmas
    # A Monday holiday has no earlier business day that week: the next one (Labor Day).
    cat = effective_catalogue({"health-check-red": {"enabled": True}})
    [check] = occurrencesof(cat, "health-check-red", ny(2026, 9, 7), ny(2026, 9, 14))
    assert check.local_day == date(2026, 9, 8)


def test_working_days_other_than_monday_to_friday() -> None:
    sun_to_thu = (6, 0, 1, 2, 3)
    days = [
        o.local_day.weekday()
        for o in occ(
            "touchpoint-cutoff", ny(2026, 11, 15), ny(2026, 11, 22), working_days=sun_to_thu
        )
    ]
    assert days == [6, 0, 1, 2, 3]
    [presentation] = occ(
        "weekly-presentation", ny(2026, 11, 16), ny(2026, 11, 23), working_days=sun_to_thu
    )
    assert presentation.local_day == date(2026, 11, 19)  # Friday off: Thursday
    with pytest.raises(ValueError, match="working_days"):
        occ("touchpoint-cutoff", ny(2026, 11, 16), ny(2026, 11, 23), working_days=())


# -- daylight saving -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "end", "utc_hours"),
    [
        # US DST ends Sunday 2026-11-01: EDT (UTC-4) before, EST (UTC-5) after.
        (date(2026, 10, 29), date(2026, 11, 4), [19, 19, 20, 20, 20]),
        # US DST starts Sunday 2026-03-08: EST before, EDT after.
        (date(2026, 3, 5), date(2026, 3, 11), [20, 20, 19, 19, 19]),
    ],
)
def test_dst_change_week_keeps_local_time(start: date, end: date, utc_hours: list[int]) -> None:
    found = occ(
        "touchpoint-cutoff",
        datetime.combine(start, time(0), NY),
        datetime.combine(end, time(23, 59), NY),
    )
    assert [local(o).time() for o in found] == [time(15, 0)] * 5
    assert [o.due_at.hour for o in found] == utc_hours
    assert all(o.expires_at - o.due_at == timedelta(hours=3) for o in found)
    assert all(local(o).weekday() < 5 for o in found)


def test_due_now_on_the_day_after_the_dst_change() -> None:
    cutoff = CAT.get("touchpoint-cutoff")
    o = due_now(cutoff, NY, datetime(2026, 11, 2, 20, 0, tzinfo=UTC), holiday_country="US")
    assert o is not None and local(o) == ny(2026, 11, 2, 15, 0)
    early = datetime(2026, 11, 2, 19, 30, tzinfo=UTC)  # 14:30 EST, 15:30 under last week's EDT
    assert due_now(cutoff, NY, early, holiday_country="US") is None


# -- monthly, quarterly, lifecycle --------------------------------------------------------------
def test_monthly_last_and_first_business_day_and_day_numbers() -> None:
    year = (ny(2026, 1, 1), ny(2027, 2, 1))
    audits = occ("value-realization-audit", *year)
    audit = [o.local_day for o in audits]
    assert len(audit) == 13
    assert date(2026, 10, 30) in audit  # Oct 31 is a Saturday
    assert date(2026, 5, 29) in audit  # May 31 is a Sunday
    assert date(2027, 1, 29) in audit  # Jan 31 is a Sunday
    assert date(2026, 12, 31) in audit  # a Thursday, a business day
    assert [o.period for o in audits[:2]] == ["2026-01", "2026-02"]

    first = [o.local_day for o in occ("ai-efficiency-audit", *year)]
    assert date(2027, 1, 4) in first  # Jan 1 is New Year's Day, then a weekend
    assert date(2026, 9, 1) in first

    nps = {
        o.local_day.month: o.local_day for o in occ("nps-review", ny(2026, 1, 1), ny(2027, 1, 1))
    }
    assert nps[11] == date(2026, 11, 13)  # the 15th is a Sunday: the Friday before
    assert nps[6] == date(2026, 6, 15)


def test_quarterly_ebr() -> None:
    found = occ("ebr", ny(2026, 1, 1), ny(2027, 1, 1))
    assert [o.period for o in found] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    # Month 3 of each quarter, day 1 (2026-03-01 is a Sunday: no earlier business day in March)
    assert [o.local_day for o in found] == [
        date(2026, 3, 2),
        date(2026, 6, 1),
        date(2026, 9, 1),
        date(2026, 12, 1),
    ]


def test_lifecycle_relative_to_the_contract() -> None:
    span = (ny(2026, 10, 1), ny(2027, 2, 1))
    contract = {"contract_start": date(2026, 11, 1), "contract_end": date(2026, 12, 31)}
    [kickoff] = occ("project-kickoff", *span, **contract)
    assert kickoff.local_day == date(2026, 11, 2)  # Nov 1 is a Sunday: the next business day
    assert kickoff.period == "contract_start:2026-11-01"
    assert local(kickoff) == ny(2026, 11, 2, 10, 0)
    [close_out] = occ("project-close-out", *span, **contract)
    assert close_out.local_day == date(2026, 12, 17)
    [pivot] = occ("asset-pivot", *span, **contract)
    assert pivot.period == "contract_end:2026-12-31"
    assert occ("project-kickoff", *span) == []  # no contract date, no kickoff
    # A one-off is deferred past time out of office, not lost.
    [late] = occ(
        "project-close-out", *span, **contract, ooo=[(date(2026, 12, 16), date(2026, 12, 18))]
    )
    assert late.local_day == date(2026, 12, 21)
    assert late.period == close_out.period


# -- grace and due_now ---------------------------------------------------------------------------
def test_due_now_catches_up_within_grace_and_drops_after() -> None:
    cutoff = CAT.get("touchpoint-cutoff")

    def at(moment: datetime) -> Occurrence | None:
        return due_now(cutoff, NY, moment, holiday_country="US")

    assert at(ny(2026, 11, 20, 14, 59)) is None
    on_time = at(ny(2026, 11, 20, 15, 0))
    assert on_time is not None and on_time.period == "2026-11-20"
    assert at(ny(2026, 11, 20, 15, 5)) == on_time
    assert at(ny(2026, 11, 20, 17, 59)) == on_time  # a missed tick, caught up
    assert at(ny(2026, 11, 20, 18, 0)) is None  # grace over: dropped
    assert at(ny(2026, 11, 21, 15, 0)) is None  # Saturday
    assert at(ny(2026, 11, 26, 15, 30)) is None  # Thanksgiving
    assert at(datetime(2026, 11, 20, 20, 5, tzinfo=UTC)) == on_time  # any aware zone


def test_due_now_uses_the_persons_own_time() -> None:
    cutoff = CAT.get("touchpoint-cutoff").with_person_time({"cutoff": "16:00", "standup": None})
    assert cutoff.at == time(16, 0)
    assert due_now(cutoff, NY, ny(2026, 11, 20, 15, 30), holiday_country="US") is None
    assert due_now(cutoff, NY, ny(2026, 11, 20, 16, 0), holiday_country="US") is not None
    eod = CAT.get("eod-recap")
    assert eod.with_person_time({"cutoff": "16:00"}) is eod


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_now(CAT.get("eod-recap"), NY, datetime(2026, 11, 20, 16), holiday_country="US")


# -- out of office -------------------------------------------------------------------------------
def test_out_of_office_drops_days() -> None:
    ooo = [(date(2026, 12, 24), date(2026, 12, 31))]
    assert is_out(date(2026, 12, 24), ooo) and is_out(date(2026, 12, 31), ooo)
    assert not is_out(date(2026, 12, 23), ooo) and not is_out(date(2027, 1, 1), ooo)
    assert not is_out(date(2026, 12, 28), [])

    span = (ny(2026, 12, 21), ny(2027, 1, 9))
    days = [o.local_day for o in occ("touchpoint-cutoff", *span, ooo=ooo)]
    assert days == [date(2026, 12, d) for d in (21, 22, 23)] + [
        date(2027, 1, d) for d in (4, 5, 6, 7, 8)
    ]
    # The Christmas-week presentation moved to Thursday the 24th, which is out: dropped.
    assert [o.period for o in occ("weekly-presentation", *span, ooo=ooo)] == [
        "2027-W01",
    ]
    assert (
        due_now(
            CAT.get("touchpoint-cutoff"), NY, ny(2026, 12, 28, 15, 0), holiday_country="US", ooo=ooo
        )
        is None
    )


# -- working hours -------------------------------------------------------------------------------
def test_within_working_hours() -> None:
    # The cadences' default working day: 09:00-18:00 (outside the default quiet hours).
    def cal(tz: ZoneInfo = NY, start: str = "09:00", end: str = "18:00", **kw: Any) -> WorkCalendar:
        return WorkCalendar(tz, start=time.fromisoformat(start), end=time.fromisoformat(end), **kw)

    assert cal().is_open(ny(2026, 11, 20, 9, 0))
    assert cal().is_open(ny(2026, 11, 20, 17, 59))
    assert not cal().is_open(ny(2026, 11, 20, 18, 0))
    assert not cal().is_open(ny(2026, 11, 20, 8, 59))
    assert not cal().is_open(ny(2026, 11, 21, 11, 0))  # Saturday
    assert cal().is_open(ny(2026, 11, 26, 11, 0))  # no holiday country given
    assert not cal(country="US").is_open(ny(2026, 11, 26, 11, 0))
    assert cal(start="07:00", end="15:00").is_open(ny(2026, 11, 20, 7, 30))
    # 14:30 UTC is 09:30 in New York but 14:30 in London
    assert cal().is_open(datetime(2026, 11, 20, 14, 30, tzinfo=UTC))
    assert not cal(ZoneInfo("Europe/London")).is_open(datetime(2026, 11, 20, 19, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="start must be before the end"):
        cal(start="18:00", end="09:00").is_open(ny(2026, 11, 20, 9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        cal().is_open(datetime(2026, 11, 20, 9, 0))


def test_next_working_moment() -> None:
    def cal(**kw: Any) -> WorkCalendar:
        return WorkCalendar(NY, start=time(9), end=time(18), **kw)

    inside = ny(2026, 11, 20, 11, 15)
    assert cal().next_open(inside) == inside
    assert cal().next_open(ny(2026, 11, 20, 7, 0)) == ny(2026, 11, 20, 9, 0)
    assert cal().next_open(ny(2026, 11, 20, 18, 30)) == ny(2026, 11, 23, 9, 0)
    assert cal(country="US").next_open(ny(2026, 11, 25, 19, 0)) == ny(2026, 11, 27, 9, 0)
    # across the spring-forward weekend: 09:00 EDT is 13:00 UTC
    after = cal().next_open(ny(2026, 3, 6, 18, 0))
    assert after == ny(2026, 3, 9, 9, 0) and after.astimezone(UTC).hour == 13
    ooo = ((date(2026, 11, 23), date(2026, 11, 24)),)
    assert cal(ooo=ooo).next_open(ny(2026, 11, 20, 18, 30)) == ny(2026, 11, 25, 9, 0)


def test_the_work_calendar_knows_business_days() -> None:
    cal = WorkCalendar(NY, country="US", ooo=((date(2026, 11, 23), date(2026, 11, 23)),))
    assert cal.is_business_day(date(2026, 11, 20))
    assert not cal.is_business_day(date(2026, 11, 21))  # Saturday
    assert not cal.is_business_day(date(2026, 11, 26))  # Thanksgiving
    assert cal.is_business_day(date(2026, 11, 23)) and not cal.is_workday(date(2026, 11, 23))
