"""AI efficiency (docs/process.md, "AI efficiency"): the share of the CSO's process tasks done
by hand, per CSO and month, and its change against the CSO's first full month. Target: 20 %
fewer manual tasks (a change of −20 % or better)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

TARGET_CHANGE = -0.20
TARGET_TEXT = "−20 % vs the first full month"

# What the bot does for the CSO, and what the CSO does by hand (the same process tasks).
AUTOMATED = {
    "touchpoint_from_slack": "touchpoints recorded from Slack",
    "drafted_update": "drafted updates sent (/update)",
    "accepted_flag": "suggested flags accepted",
    "generated_qbr": "QBRs generated",
    "generated_digest": "leadership digests generated",
}
# Tasks that are nobody's in particular (the weekly digest): the organization's line.
ORGANIZATION = ""
MANUAL = {
    "logged_touchpoint": "touchpoints logged by hand (/touchpoint)",
    "manual_flag": "flags raised by hand (a reaction)",
    "handwritten_update": "updates written by hand",
}


@dataclass(frozen=True)
class Task:
    person: str  # the CSO's Slack id; ORGANIZATION for a task that is not a CSO's
    day: date
    kind: str  # a key of AUTOMATED or MANUAL


def month_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def manual_share(tasks: Iterable[Task]) -> float | None:
    """manual / (automated + manual); None without any task (no data)."""
    counts = Counter("manual" if t.kind in MANUAL else "auto" for t in tasks)
    total = counts["manual"] + counts["auto"]
    return round(counts["manual"] / total, 4) if total else None


def first_full_month(first_day: date) -> str:
    """The CSO's first full month: the month of their first task if it began on the 1st, else
    the next one."""
    if first_day.day == 1:
        return month_of(first_day)
    nxt = date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)
    return month_of(nxt)


@dataclass(frozen=True)
class CsoEfficiency:
    person: str
    share: float | None  # in the period
    baseline_month: str | None
    baseline: float | None  # the share in the first full month
    change: float | None  # share / baseline − 1; None without both (or a zero baseline)


def efficiency(
    tasks: Iterable[Task], person: str, start: date, end: date, first_day: date | None
) -> CsoEfficiency:
    """One CSO: the manual share in [start, end], its baseline and the change."""
    mine = [t for t in tasks if t.person == person]
    share = manual_share(t for t in mine if start <= t.day <= end)
    if first_day is None:
        return CsoEfficiency(person, share, None, None, None)
    base_month = first_full_month(first_day)
    baseline = manual_share(t for t in mine if month_of(t.day) == base_month)
    change = (
        round(share / baseline - 1, 4)
        if share is not None and baseline and month_of(start) > base_month
        else None
    )
    return CsoEfficiency(person, share, base_month, baseline, change)
