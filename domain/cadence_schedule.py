"""When a cadence falls: the calendar arithmetic of the engine. Pure: every function takes
`now` (an aware datetime) and a `ZoneInfo`. docs/process.md, "Business days and time zones".

* Only business days produce occurrences: a weekday in `working_days` (Mon-Fri by default)
  that is not a public holiday of `holiday_country`/`holiday_subdiv` (`WorkCalendar`).
* Weekly: the cadence's weekday of each ISO week; if that day is not a business day, the
  previous business day of the same ISO week, else the next one of that week, else none.
  `interval_weeks: 2` keeps every other week, counted from the ISO week of 1970-01-05.
* Monthly / quarterly: `first_business_day`, `last_business_day`, or a day number (clamped to
  the month's length) moved like weekly: previous business day of the month, else the next.
* Lifecycle: `anchor` (contract_start / contract_end) + `offset_days`, moved forward to the next
  business day on which the person is not out of office (a one-off must not be lost). Its
  period key is the anchor and its date ("contract_end:2026-12-31"), so a renewed contract
  gets its own occurrence.
* Out of office (inclusive date ranges) drops daily, weekly, monthly and quarterly days.
* The due moment is `at` local time on the day (DST-correct: built in the zone, then converted
  to UTC); an occurrence expires `grace` later. A missed tick is caught up until then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MO, MONTHLY, WEEKLY, rrule, rruleset

from domain.cadence import (
    DAY_SPECS,
    Cadence,
    DailySchedule,
    DaySpec,
    LifecycleSchedule,
    MonthlySchedule,
    QuarterlySchedule,
    WeeklySchedule,
)
from domain.calendar import (
    WORKING_DAYS,
    IsoWeek,
    OooRange,
    WorkCalendar,
    holidays_of_year,
    is_out,
    local_date,
)

_EPOCH_MONDAY = date(1970, 1, 5)


@dataclass(frozen=True, slots=True)
class Occurrence:
    cadence_id: str
    period: str  # the natural-key period: "2026-11-20", "2026-W47", "2026-11", "2026Q4", ...
    local_day: date
    due_at: datetime  # aware, UTC
    expires_at: datetime  # due_at + grace: not sent at or after this moment


def period_key(cadence: Cadence, local_day: date, *, anchor_date: date | None = None) -> str:
    """The period an occurrence on `local_day` belongs to (part of the nudge's natural key)."""
    s = cadence.schedule
    if isinstance(s, DailySchedule):
        return local_day.isoformat()
    if isinstance(s, WeeklySchedule):
        return str(IsoWeek.of(local_day))
    if isinstance(s, MonthlySchedule):
        return f"{local_day.year:04d}-{local_day.month:02d}"
    if isinstance(s, QuarterlySchedule):
        return f"{local_day.year:04d}Q{(local_day.month - 1) // 3 + 1}"
    return f"{s.anchor}:{(anchor_date or local_day).isoformat()}"


def _nearest(days: list[date], target: int, ok: Callable[[date], bool]) -> date | None:
    """days[target] if ok, else the closest earlier ok day, else the closest later one.

    Hand-written on purpose: "the nearest business day, earlier first, within this week or
    month" is not a recurrence rule (rrule can only drop a day, not move it)."""
    for d in reversed(days[: target + 1]):
        if ok(d):
            return d
    for d in days[target + 1 :]:
        if ok(d):
            return d
    return None


def _days(rule: rrule | rruleset) -> list[date]:
    return [moment.date() for moment in rule]


def _business(cal: WorkCalendar, first: date, last: date, rule: rrule) -> rruleset:
    """`rule`'s days that are business days: public holidays on working weekdays are excluded
    (`exdate`); `rule` itself keeps to the working weekdays (`byweekday`)."""
    days = rruleset(cache=False)
    days.rrule(rule)
    for year in range(first.year, last.year + 1):
        for holiday in holidays_of_year(cal.country, cal.subdiv, year):
            if first <= holiday <= last and holiday.weekday() in cal.working_days:
                days.exdate(datetime.combine(holiday, datetime.min.time()))
    return days


def _month_end(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)


def _first_or_last(
    cal: WorkCalendar, first: date, last: date, spec: DaySpec, bymonth: Sequence[int] | None
) -> list[date]:
    """The first (last) business day of each month: the first (last) few working weekdays of
    the month (`bysetpos`), holidays excluded, the earliest (latest) one left."""
    start, end = first.replace(day=1), _month_end(last)
    at_start = spec == "first_business_day"
    rule = rrule(
        MONTHLY,
        dtstart=start,
        until=end,
        bymonth=bymonth,
        byweekday=cal.working_days,
        # Enough working weekdays that a run of holidays at the month's edge still leaves one.
        bysetpos=range(1, 8) if at_start else range(-1, -8, -1),
        cache=False,
    )
    chosen: dict[tuple[int, int], date] = {}
    for day in _days(_business(cal, start, end, rule)):
        key = (day.year, day.month)
        if key not in chosen or (day < chosen[key] if at_start else day > chosen[key]):
            chosen[key] = day
    return [chosen[k] for k in sorted(chosen)]


@lru_cache(maxsize=4096)
def _schedule_days(
    schedule: DailySchedule | WeeklySchedule | MonthlySchedule | QuarterlySchedule,
    first: date,
    last: date,
    cal: WorkCalendar,
) -> tuple[date, ...]:
    """The business days a repeating schedule falls on around [first, last] (cached: a tick asks
    the same for every person who shares a calendar)."""
    s = schedule
    ok = cal.is_business_day
    found: list[date] = []
    if isinstance(s, DailySchedule):
        daily = rrule(DAILY, dtstart=first, until=last, byweekday=cal.working_days, cache=False)
        found = _days(_business(cal, first, last, daily))
    elif isinstance(s, WeeklySchedule):
        # Every `interval_weeks`-th ISO week, counted from the week of 1970-01-05.
        monday = IsoWeek.of(first).monday
        monday += timedelta(weeks=(-((monday - _EPOCH_MONDAY).days // 7)) % s.interval_weeks)
        weeks = rrule(
            WEEKLY,
            dtstart=monday,
            until=IsoWeek.of(last).monday,
            interval=s.interval_weeks,
            byweekday=MO,
            cache=False,
        )
        for week_monday in _days(weeks):
            day = _nearest(IsoWeek.of(week_monday).days(), s.weekday.number, ok)
            if day is not None:
                found.append(day)
    else:
        bymonth = (
            [m for m in range(1, 13) if (m - 1) % 3 == s.month - 1]
            if isinstance(s, QuarterlySchedule)
            else None
        )
        if s.day in DAY_SPECS:
            found = _first_or_last(cal, first, last, s.day, bymonth)
        else:
            months = rrule(
                MONTHLY, dtstart=first.replace(day=1), until=last, bymonth=bymonth, cache=False
            )
            for month_start in _days(months):
                days = [month_start + timedelta(days=i) for i in range(_month_end(month_start).day)]
                day = _nearest(days, min(int(s.day), len(days)) - 1, ok)
                if day is not None:
                    found.append(day)
    return tuple(found)


def _candidate_days(
    cadence: Cadence,
    first: date,
    last: date,
    cal: WorkCalendar,
    ooo: Sequence[OooRange],
    contract_start: date | None,
    contract_end: date | None,
) -> list[tuple[date, date | None]]:
    """(local day, lifecycle anchor date) pairs of the cadence's days between first and last."""
    s = cadence.schedule
    if isinstance(s, LifecycleSchedule):
        anchor = contract_start if s.anchor == "contract_start" else contract_end
        if anchor is None:
            return []
        day = anchor + timedelta(days=s.offset_days)
        for _ in range(62):  # forward past weekends, holidays and time out of office
            if cal.is_business_day(day) and not is_out(day, ooo):
                return [(day, anchor)]
            day += timedelta(days=1)
        return []
    return [(d, None) for d in _schedule_days(s, first, last, cal) if not is_out(d, ooo)]


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime for {name}: times must be timezone-aware")


def occurrences_between(
    cadence: Cadence,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    holiday_country: str,
    holiday_subdiv: str | None = None,
    working_days: Iterable[int] = WORKING_DAYS,
    contract_start: date | None = None,
    contract_end: date | None = None,
    ooo: Sequence[OooRange] = (),
) -> list[Occurrence]:
    """Occurrences of an enabled cadence with `start <= due_at < end`, by due time.

    A disabled cadence has none. `tz` is the person's zone: `at` is read there.
    """
    _aware(start, "start")
    _aware(end, "end")
    cal = WorkCalendar(
        tz, holiday_country, holiday_subdiv, working_days=tuple(sorted(set(working_days)))
    )
    if not cadence.enabled or end <= start:
        return []
    first = local_date(start, tz) - timedelta(days=1)
    last = local_date(end, tz) + timedelta(days=1)
    out = []
    for day, anchor in _candidate_days(
        cadence, first, last, cal, ooo, contract_start, contract_end
    ):
        due = datetime.combine(day, cadence.at, tzinfo=tz).astimezone(UTC)
        if start <= due < end:
            period = period_key(cadence, day, anchor_date=anchor)
            out.append(Occurrence(cadence.id, period, day, due, due + cadence.grace))
    return sorted(out, key=lambda o: o.due_at)


def due_now(
    cadence: Cadence,
    tz: ZoneInfo,
    now: datetime,
    *,
    holiday_country: str,
    holiday_subdiv: str | None = None,
    working_days: Iterable[int] = WORKING_DAYS,
    contract_start: date | None = None,
    contract_end: date | None = None,
    ooo: Sequence[OooRange] = (),
) -> Occurrence | None:
    """The occurrence with `due_at <= now < expires_at` (the latest one if several), or None.

    The engine calls this every minute: a missed tick is caught up while within grace; once
    the grace has passed the occurrence is gone (dropped, never sent late).
    """
    _aware(now, "now")
    live = [
        o
        for o in occurrences_between(
            cadence,
            tz,
            now - cadence.grace,
            now + timedelta(microseconds=1),
            holiday_country=holiday_country,
            holiday_subdiv=holiday_subdiv,
            working_days=working_days,
            contract_start=contract_start,
            contract_end=contract_end,
            ooo=ooo,
        )
        if o.due_at <= now < o.expires_at
    ]
    return live[-1] if live else None
