"""Founder interventions (docs/process.md, "Founder interventions"): success is friction that
never reaches the founders. Target: fewer than one a month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

TARGET_PER_MONTH = 1.0  # "< 1 per month"
TARGET_TEXT = "< 1 a month"
# The DM that tells a founder an intervention was recorded: a notice, never an escalation.
DM_CADENCE = "founder-intervention"

SOURCES = {
    "channel": "posted in the client channel",
    "internal": "posted in the internal channel while a flag or an escalation was open",
    "command": "recorded by hand",
    "escalation": "an escalation reached a founder",
}


@dataclass(frozen=True)
class InterventionRecord:
    client: str  # the client's name
    founder: str  # the founder's name
    day: date
    source: str  # channel | internal | command | escalation
    reason: str

    def line(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        how = SOURCES.get(self.source, self.source)
        return f"{self.founder} on {self.client}, {self.day.isoformat()} — {how}{why}"


def months_in(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def per_month(count: int, start: date, end: date) -> float:
    """Interventions a month over a period of whole months (a quarter: the count / 3)."""
    return round(count / months_in(start, end), 2)
