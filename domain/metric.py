"""One leadership figure, as every feature reports it (docs/process.md, "Portfolio metrics").

A feature declares metric sources (bot/features.py); `csobot metrics`, `/metrics` and the
monthly leadership section of the digest read every source the same way. A value of None is
"no data" — nothing was recorded in the period — and is shown so, never as 0 % or 100 %.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from domain.calendar import IsoWeek
from domain.renewals import parse_quarter, quarter_of

Unit = Literal["ratio", "count", "days", "hours", "points", "score", "currency"]


@dataclass(frozen=True)
class Period:
    """The days a metric covers, both ends included (a month, a quarter)."""

    start: date
    end: date
    label: str  # "2026-11", "2026Q4"


@dataclass(frozen=True)
class Metric:
    key: str  # stable, dotted: "retention.grr", "support.response_within_sla"
    label: str  # what a leader reads: "Gross revenue retention"
    group: str  # the heading it sits under: "Retention", "Onboarding", "Support", ...
    value: float | None  # a ratio is a fraction (0.9 = 90 %); None = no data
    unit: Unit
    target: str | None = None  # from the process documents: "≥ 90 %", "< 1 a month"
    on_target: bool | None = None  # None when there is no data or no target
    formula: str = ""  # shown in `--help` and beside the figure
    evidence: tuple[str, ...] = field(default=())  # the records behind it, short

    @property
    def no_data(self) -> bool:
        return self.value is None


# -- periods ---------------------------------------------------------------------------------------
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def month_period(text: str) -> Period:
    """ "2026-11" → 2026-11-01 .. 2026-11-30."""
    m = _MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f'unknown month "{text.strip()}" (write it like 2026-11)')
    return month_of(date(int(m.group(1)), int(m.group(2)), 1))


def month_of(day: date) -> Period:
    """The calendar month `day` falls in."""
    first = day.replace(day=1)
    last = date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)
    return Period(first, last, f"{first.year}-{first.month:02d}")


def quarter_period(text: str, today: date | None = None) -> Period:
    """ "2026Q4", "2026-Q4", "Q4 2026" (a bare "Q4": the latest one started by `today`)."""
    start, end = parse_quarter(text, today)
    return Period(start, end, quarter_of(start))


def quarter_containing(day: date) -> Period:
    return quarter_period(quarter_of(day))


def parse_period(text: str, today: date) -> Period:
    """What `/metrics` takes: empty (this quarter), a quarter, or a month."""
    raw = text.strip()
    if not raw:
        return quarter_containing(today)
    if _MONTH.match(raw):
        return month_period(raw)
    try:
        return quarter_period(raw, today)
    except ValueError:
        raise ValueError(
            f'"{raw}" is neither a quarter nor a month (write it like 2026Q4 or 2026-11)'
        ) from None


def month_reviewed_by(week: IsoWeek) -> Period | None:
    """The month a week's digest reviews, when it is the first digest of a month: the digest of
    a week goes out the day after it ends, and the one going out in the first seven days of a
    month carries the month just ended. None for the other weeks."""
    day_after = week.sunday + timedelta(days=1)
    if day_after.day > 7:
        return None
    return month_of(day_after.replace(day=1) - timedelta(days=1))


# -- targets ---------------------------------------------------------------------------------------
def at_least(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def below(value: float | None, target: float) -> bool | None:
    return None if value is None else value < target
