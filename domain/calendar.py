"""Calendar truth: ISO weeks, business days, public holidays and local dates."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
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


@lru_cache(maxsize=64)
def _holiday_calendar(country: str, subdiv: str | None, years: tuple[int, ...]) -> dict[date, str]:
    if not country:
        return {}
    cal = holidays_lib.country_holidays(country, subdiv=subdiv, years=years)
    return {d: str(name) for d, name in cal.items()}


def validate_holiday_country(country: str, subdiv: str | None = None) -> None:
    """Raise ValueError with a readable message if the country/subdivision is unknown."""
    if not country:
        return
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


def is_business_day(day: date, country: str, subdiv: str | None = None) -> bool:
    return day.weekday() < 5 and day not in holidays_between(country, day, day, subdiv)


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
    from datetime import UTC

    return datetime.fromtimestamp(float(ts), tz=UTC)
