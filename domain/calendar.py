"""Calendar truth: ISO weeks, business days, public holidays, local dates, and the one work
calendar (`WorkCalendar`: business days, working hours, time out of office) that cadences, flag
loops and the KPI share. docs/process.md, "Business days and time zones"."""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        m = _ISO_WEEK.match(text.strip())
        if not m:
            raise ValueError(f'"{text}" is not an ISO week; write it like 2026-W47')
        year, week = int(m.group(1)), int(m.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f'"{text}" is not an ISO week: {year} has no week {week}') from None
        return cls(year, week)

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    def shift(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.monday + timedelta(weeks=weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


_COUNTRIES = "holidays.countries"
_countries_lock = threading.Lock()


class DaySet(AbstractSet[date]):
    """A set of dates as the bits of one integer: bit i is `first` + i days. What SQL hands
    back for a client's days over a span (one number per client, whatever the span), read
    as a set without building a date per day; `mask` answers "which of these days" with a
    bit operation (`domain.kpi.client_totals`)."""

    __slots__ = ("bits", "first")

    def __init__(self, first: date, bits: int = 0) -> None:
        if bits < 0:
            raise ValueError("a day set's bits are never negative")
        self.first = first
        self.bits = bits

    @classmethod
    def of(cls, first: date, days: Iterable[date]) -> DaySet:
        return cls(first, day_mask(first, days))

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        i = (day - self.first).days
        return i >= 0 and bool(self.bits >> i & 1)

    def __iter__(self) -> Iterator[date]:
        bits, first = self.bits, self.first
        while bits:
            low = bits & -bits
            yield first + timedelta(days=low.bit_length() - 1)
            bits ^= low

    def __len__(self) -> int:
        return self.bits.bit_count()

    def among(self, days: Iterable[date]) -> frozenset[date]:
        """Those of `days` in the set, as a plain set (a week's few days looked up often)."""
        first, bits = self.first, self.bits
        return frozenset(d for d in days if d >= first and bits >> (d - first).days & 1)

    def __hash__(self) -> int:
        return hash(frozenset(self))

    def __repr__(self) -> str:
        return f"DaySet({sorted(self)!r})"

    @classmethod
    def _from_iterable(cls, it: Iterable[date]) -> frozenset[date]:  # type: ignore[override]
        return frozenset(it)


def day_mask(first: date, days: Iterable[date]) -> int:
    """`days` as bits from `first` (bit i: `first` + i days); days before `first` are left
    out."""
    mask = 0
    for day in days:
        i = (day - first).days
        if i >= 0:
            mask |= 1 << i
    return mask


def _one_country_at_a_time() -> None:
    """Let the holidays library load the countries asked for, and only those.

    Its `holidays.countries` package imports all of its ~250 countries (about 8 MB resident,
    for the life of the process) when any one is asked for, though its own loader
    (`holidays.registry.EntityLoader`) then imports that country's module by name, which needs
    nothing of the package but its path. So the package is registered without running its
    `__init__`: a country's module loads alone (a US calendar costs under 1 MB). Nothing in the
    library reads the package's names at run time. Once per process, before the first calendar;
    if the package is already imported, it is left as it is."""
    if _COUNTRIES in sys.modules:
        return
    with _countries_lock:
        if _COUNTRIES in sys.modules:
            return
        spec = importlib.util.find_spec(_COUNTRIES)
        if spec is None or spec.submodule_search_locations is None:
            return  # not the layout this expects: the library imports as it always does
        sys.modules[_COUNTRIES] = importlib.util.module_from_spec(spec)


@lru_cache(maxsize=64)
def _holiday_calendar(country: str, subdiv: str | None, years: tuple[int, ...]) -> dict[date, str]:
    if not country:
        return {}
    _one_country_at_a_time()
    cal = holidays_lib.country_holidays(country, subdiv=subdiv, years=years)
    return {d: str(name) for d, name in cal.items()}


def validate_holiday_country(country: str, subdiv: str | None = None) -> None:
    """Raise ValueError with a readable message if the country/subdivision is unknown."""
    if not country:
        return
    _one_country_at_a_time()
    try:
        holidays_lib.country_holidays(country, subdiv=subdiv, years=2026)
    except NotImplementedError:
        raise ValueError(f'unknown holiday country "{country}" (use an ISO code like US)') from None
    except Exception as exc:  # holidays raises NotImplementedError/KeyError for bad subdivs
        raise ValueError(f'unknown holiday subdivision "{subdiv}" for {country}: {exc}') from None


def holidays_between(
    country: str, start: date, end: date, subdiv: str | None = None
) -> dict[date, str]:
    years = tuple(range(start.year, end.year + 1))
    cal = _holiday_calendar(country, subdiv, years)
    return {d: n for d, n in cal.items() if start <= d <= end}


@lru_cache(maxsize=256)
def holidays_of_year(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    """The public holidays of one year (cached: the engine asks per day, thousands of times)."""
    return frozenset(holidays_between(country, date(year, 1, 1), date(year, 12, 31), subdiv))


def is_business_day(day: date, country: str, subdiv: str | None = None) -> bool:
    """Monday to Friday, minus the public holidays of the country (and subdivision)."""
    return day.weekday() < 5 and day not in holidays_of_year(country, subdiv, day.year)


def business_days(days: Iterable[date], country: str, subdiv: str | None = None) -> list[date]:
    days = sorted(days)
    if not days:
        return []
    hol = holidays_between(country, days[0], days[-1], subdiv)
    return [d for d in days if d.weekday() < 5 and d not in hol]


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware")
    return moment.astimezone(tz).date()


def local_datetime(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The aware instant for a wall-clock time on a day in tz (DST-safe via zoneinfo)."""
    return datetime.combine(day, at, tzinfo=tz)


def slack_ts_to_datetime(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), tz=UTC)


# -- the work calendar ---------------------------------------------------------------------------
WORKING_DAYS: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday to Friday (date.weekday())

OooRange = tuple[date, date]  # an inclusive out-of-office range


def is_out(day: date, ooo_ranges: Iterable[OooRange]) -> bool:
    """True if `day` falls inside any inclusive (start, end) out-of-office range."""
    return any(min(a, b) <= day <= max(a, b) for a, b in ooo_ranges)


@dataclass(frozen=True)
class WorkCalendar:
    """One person's (or one client's) working time, in one timezone: business days (working
    weekdays minus public holidays, minus time out of office) and a working day from `start`
    to `end` local time. Every caller says its own hours: the cadence engine a person's
    (09:00-18:00 unless their quiet hours say otherwise), the flag loops the organization's
    workday (09:00-17:00 by default)."""

    tz: ZoneInfo
    country: str = ""
    subdiv: str | None = None
    start: time = time(9)
    end: time = time(17)
    working_days: tuple[int, ...] = WORKING_DAYS
    ooo: Sequence[OooRange] = field(default=())

    def __post_init__(self) -> None:
        days = frozenset(self.working_days)
        if not days or not days <= set(range(7)):
            raise ValueError(f"working_days must be weekday numbers 0-6 (Monday=0), got {days}")
        if self.start >= self.end:
            raise ValueError(
                f"working hours {self.start:%H:%M}-{self.end:%H:%M}: the start must be before "
                "the end"
            )

    def is_business_day(self, day: date) -> bool:
        """A working weekday that is not a public holiday (out of office not considered)."""
        return day.weekday() in self.working_days and day not in holidays_of_year(
            self.country, self.subdiv, day.year
        )

    def is_workday(self, day: date) -> bool:
        """A business day the person is not out of office."""
        return self.is_business_day(day) and not is_out(day, self.ooo)

    def _open(self, day: date) -> datetime:
        return datetime.combine(day, self.start, tzinfo=self.tz)

    def _close(self, day: date) -> datetime:
        return datetime.combine(day, self.end, tzinfo=self.tz)

    def _next_workday(self, day: date) -> date:
        for _ in range(400):
            day += timedelta(days=1)
            if self.is_workday(day):
                return day
        raise ValueError("no working day within 400 days (check working days and out-of-office)")

    def is_open(self, moment: datetime) -> bool:
        """True if `moment` is on a workday, at local `start <= time < end` (quiet hours are
        everything else)."""
        _aware(moment)
        local = moment.astimezone(self.tz)
        day = local.date()
        return self.is_workday(day) and self.start <= local.time().replace(tzinfo=None) < self.end

    def clamp(self, moment: datetime) -> datetime:
        """The moment itself (local time) during working hours, else the next opening."""
        _aware(moment)
        local = moment.astimezone(self.tz)
        day = local.date()
        if self.is_workday(day):
            if local < self._open(day):
                return self._open(day)
            if local < self._close(day):
                return local
        return self._open(self._next_workday(day))

    def next_open(self, moment: datetime) -> datetime:
        """`moment` (in UTC) if within working hours, else the next opening (in UTC)."""
        return self.clamp(moment).astimezone(UTC)

    def add_hours(self, moment: datetime, hours: float) -> datetime:
        """`hours` of working time after `moment` (nights, weekends and holidays don't count)."""
        left = timedelta(hours=hours)
        current = self.clamp(moment)
        while True:
            close = self._close(current.date())
            if current + left <= close:
                return current + left
            left -= close - current
            current = self._open(self._next_workday(current.date()))

    def add_days(self, moment: datetime, days: int) -> datetime:
        """The same working time `days` business days later (a Friday flag is due Monday)."""
        current = self.clamp(moment)
        day = current.date()
        for _ in range(days):
            day = self._next_workday(day)
        return datetime.combine(day, current.timetz().replace(tzinfo=None), tzinfo=self.tz)


def _aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: times must be timezone-aware")
