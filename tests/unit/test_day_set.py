"""A client's days as the bits of one number (`DaySet`), and a week's two numbers counted from
them (`client_totals`) against the rules that list the days (`client_days`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import DaySet, IsoWeek, day_mask
from domain.kpi import client_days, client_totals

FIRST = date(2026, 9, 27)  # a Sunday: the span the counts were read for starts here
SPAN = 80
DAYS = [FIRST + timedelta(days=i) for i in range(SPAN)]
ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Tokyo"]
# W41..W49 of 2026: Columbus Day (US W42), Thanksgiving (US W48), none in GB
WEEKS = [IsoWeek(2026, w) for w in range(40, 50)]

day_sets = st.sets(st.sampled_from(DAYS), max_size=60)


@given(days=day_sets, first_offset=st.integers(0, 5), probe=st.sampled_from(DAYS))
def test_a_day_set_is_the_set_of_its_days(days: set[date], first_offset: int, probe: date) -> None:
    first = FIRST + timedelta(days=first_offset)
    inside = {d for d in days if d >= first}
    found = DaySet.of(first, days)
    assert set(found) == inside
    assert len(found) == len(inside)
    assert (probe in found) == (probe in inside)
    assert found == frozenset(inside)
    assert found & {probe} == frozenset(inside & {probe})
    assert "2026-10-01" not in found
    week = [*DAYS[first_offset : first_offset + 7], FIRST - timedelta(days=1)]
    assert found.among(week) == frozenset(d for d in week if d in inside)


def test_a_day_before_the_first_has_no_bit_and_bits_are_never_negative() -> None:
    assert day_mask(FIRST, [FIRST - timedelta(days=1), FIRST]) == 1
    assert FIRST - timedelta(days=1) not in DaySet(FIRST, 0b11)
    try:
        DaySet(FIRST, -1)
    except ValueError:
        pass
    else:
        raise AssertionError("a negative mask was taken")


@settings(max_examples=400, deadline=None)
@given(
    counted=day_sets,
    exempt=st.sets(st.sampled_from(DAYS), max_size=6),
    week=st.sampled_from(WEEKS),
    zone=st.sampled_from(ZONES),
    country=st.sampled_from(["US", "GB"]),
    hours=st.integers(-48, 24 * 9),
    win=st.sampled_from([None, "Demoed the new pipeline"]),
)
def test_the_week_counted_in_bits_equals_the_week_in_days(
    counted: set[date],
    exempt: set[date],
    week: IsoWeek,
    zone: str,
    country: str,
    hours: int,
    win: str | None,
) -> None:
    now = datetime.combine(week.monday, datetime.min.time(), UTC) + timedelta(hours=hours)
    tz = ZoneInfo(zone)
    days = client_days(
        tz, week, now, holiday_country=country, holiday_subdiv=None,
        touchpoint_days=counted, exemptions=exempt, win=win,
    )  # fmt: skip
    for given_days in (DaySet.of(FIRST, counted), counted):  # bits; any other set: the rules
        totals = client_totals(
            tz, week, now, holiday_country=country, holiday_subdiv=None,
            touchpoint_days=given_days, exemptions=exempt, presented=win is not None,
        )  # fmt: skip
        assert totals == (days.expected, days.done)
