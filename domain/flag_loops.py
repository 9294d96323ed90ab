"""The flag process as data (docs/process.md, "Flags"): the reaction vocabulary, the decisions
a flag can get, and the loops that must close, with business-time arithmetic. Pure: no Slack, no
database, `now` is always a parameter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.calendar import is_business_day
from domain.flags import FlagVocabulary

logger = logging.getLogger(__name__)


class Decision(StrEnum):
    IN_SCOPE = "in_scope"
    CHANGE_REQUEST = "change_request"
    RESOLVED = "resolved"


DECISION_LABELS: dict[Decision, str] = {
    Decision.IN_SCOPE: "In scope",
    Decision.CHANGE_REQUEST: "Needs change request",
    Decision.RESOLVED: "Resolved",
}


class FlagStatus(StrEnum):
    SUGGESTED = "suggested"  # the classifier's guess, waiting for the CSO
    OPEN = "open"  # flagged, waiting for a decision
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"  # the reaction was removed before a decision
    DISMISSED = "dismissed"  # the CSO dismissed the suggestion


class FlagSettings(BaseModel):
    """`organization.settings["flags"]`; every number defaults to docs/process.md, "Flags"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vocabulary: FlagVocabulary = Field(default_factory=FlagVocabulary, alias="reactions")
    # An open flag with no decision: nudge the CSO after this many business days, then the SL.
    remind_cso_after_days: int = Field(default=1, ge=1, le=10)
    remind_service_lead_after_days: int = Field(default=2, ge=1, le=20)
    # A client question with no team reply in its thread or channel within these business hours.
    reply_within_hours: float = Field(default=4, gt=0, le=40)
    # An answered internal question the asker never acknowledged, after these business days.
    acknowledge_within_days: int = Field(default=1, ge=1, le=10)
    workday_start: time = time(9)
    workday_end: time = time(17)
    # Loops look this far back, so an old backlog never floods anyone on the first tick.
    lookback_days: int = Field(default=7, ge=1, le=60)

    @model_validator(mode="before")
    @classmethod
    def _reactions(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("reactions"), Mapping):
            data = {**data, "reactions": {"reactions": dict(data["reactions"])}}
        return data

    @model_validator(mode="after")
    def _order(self) -> FlagSettings:
        if self.remind_service_lead_after_days < self.remind_cso_after_days:
            raise ValueError("remind_service_lead_after_days must be >= remind_cso_after_days")
        if self.workday_end <= self.workday_start:
            raise ValueError("workday_end must be after workday_start")
        return self

    @classmethod
    def from_org_settings(cls, settings: Mapping[str, Any] | None) -> FlagSettings:
        """The configured flag settings; the defaults (logged) when they are malformed."""
        raw = (settings or {}).get("flags")
        if raw is None:
            return cls()
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            logger.warning("organization settings 'flags' ignored (%s): using defaults", exc)
            return cls()


# -- business time -----------------------------------------------------------------------------
class WorkCalendar(BaseModel):
    """Business days (weekends and public holidays off) and a working day, in one timezone."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    tz: ZoneInfo
    country: str = ""
    subdiv: str | None = None
    start: time = time(9)
    end: time = time(17)

    def is_workday(self, day: date) -> bool:
        return is_business_day(day, self.country, self.subdiv)

    def _open(self, day: date) -> datetime:
        return datetime.combine(day, self.start, tzinfo=self.tz)

    def _close(self, day: date) -> datetime:
        return datetime.combine(day, self.end, tzinfo=self.tz)

    def _next_workday(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def clamp(self, moment: datetime) -> datetime:
        """The moment itself during working hours, else the next opening."""
        local = moment.astimezone(self.tz)
        day = local.date()
        if self.is_workday(day):
            if local < self._open(day):
                return self._open(day)
            if local < self._close(day):
                return local
        return self._open(self._next_workday(day))

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


# -- the loops ---------------------------------------------------------------------------------
def lookback(now: datetime, settings: FlagSettings) -> datetime:
    """Loops look back this far, so an old backlog never floods anyone on the first tick."""
    return now - timedelta(days=settings.lookback_days)


class Escalation(BaseModel):
    """Who an undecided flag goes to next, and when."""

    step: str  # "cso" | "service_lead"
    due_at: datetime


def flag_escalations(
    flagged_at: datetime, cal: WorkCalendar, settings: FlagSettings, now: datetime
) -> list[Escalation]:
    """The escalations of an open flag that are due at `now`, in order."""
    steps = [
        Escalation(step="cso", due_at=cal.add_days(flagged_at, settings.remind_cso_after_days)),
        Escalation(
            step="service_lead",
            due_at=cal.add_days(flagged_at, settings.remind_service_lead_after_days),
        ),
    ]
    return [s for s in steps if s.due_at <= now]


class ThreadMessage(BaseModel):
    """One message of an internal thread, as the orphaned-thread check needs it."""

    author: str
    at: datetime


def orphaned_answer(
    asker: str, asked_at: datetime, replies: list[ThreadMessage], acknowledged: bool
) -> ThreadMessage | None:
    """The first teammate's answer the asker never acknowledged (a later message by the asker,
    or a reaction), or None when the thread is closed or unanswered."""
    if acknowledged:
        return None
    ordered = sorted((r for r in replies if r.at > asked_at), key=lambda r: r.at)
    answer = next((r for r in ordered if r.author != asker), None)
    if answer is None:
        return None
    if any(r.author == asker and r.at > answer.at for r in ordered):
        return None
    return answer
