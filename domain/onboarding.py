"""Onboarding by segment and the client lifecycle (docs/process.md, "Onboarding").

The plans are data (`domain/onboarding.yaml`): per segment a window, its phases and a
checklist whose items fall due a number of business days after the signature or the kickoff,
each with an owner role. An organization overrides a segment's plan or the rules in its
portfolio file (`organization.settings.onboarding`). Everything here is pure: the caller
passes `now`, the client's `WorkCalendar` and the records.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.calendar import WorkCalendar

Section = Literal["pre_kickoff", "week_1", "weeks_2_4", "weeks_4_8", "handoff"]
SECTIONS: tuple[Section, ...] = ("pre_kickoff", "week_1", "weeks_2_4", "weeks_4_8", "handoff")
SECTION_TITLES: dict[str, str] = {
    "pre_kickoff": "Pre-kickoff",
    "week_1": "Week 1: kickoff",
    "weeks_2_4": "Weeks 2-4: implementation",
    "weeks_4_8": "Weeks 4-8: adoption",
    "handoff": "Handoff (Week 8)",
}
Owner = Literal["cso", "service_lead", "engagement_partner", "ae"]
SEGMENTS = ("enterprise", "mid_market", "smb")


class OnboardingError(ValueError):
    """Bad onboarding settings: each problem names the field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class ItemSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    text: str = Field(min_length=1)
    section: Section
    due: int = Field(ge=0, le=400, description="business days after the anchor")
    anchor: Literal["signature", "kickoff"]
    owner: Owner = "cso"
    phase: str | None = None
    marks: Literal["kickoff", "activation", "handoff"] | None = None


class Plan(_Strict):
    name: str
    approach: str = ""
    window_days: tuple[int, int]
    phases: tuple[str, ...] = ()
    items: tuple[ItemSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        low, high = self.window_days
        if not 0 < low <= high:
            raise ValueError("window_days: write [shortest, longest] with 0 < shortest <= longest")
        ids = [i.id for i in self.items]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"items: {', '.join(twice)} listed twice")
        for mark in ("kickoff", "handoff"):
            n = sum(1 for i in self.items if i.marks == mark)
            if n != 1:
                raise ValueError(f"items: exactly one item must be `marks: {mark}` (found {n})")
        if sum(1 for i in self.items if i.marks == "activation") > 1:
            raise ValueError("items: at most one item may be `marks: activation`")
        unknown = [i.phase for i in self.items if i.phase and i.phase not in self.phases]
        if unknown:
            raise ValueError(f"items: phase {unknown[0]!r} is not one of phases")
        return self

    @property
    def handoff_item(self) -> ItemSpec:
        return next(i for i in self.items if i.marks == "handoff")


class Rules(_Strict):
    handoff_within_hours: int = Field(default=24, ge=1)
    kickoff_within_business_days: int = Field(default=5, ge=1)
    kickoff_escalate_after_business_days: int = Field(default=1, ge=0)
    stall_sections: tuple[Section, ...] = ("weeks_2_4",)
    stall_hours: int = Field(default=48, ge=1)
    stall_head_hours: int = Field(default=96, ge=1)
    renewal_forecast_days: int = Field(default=120, ge=1)
    early_churn_days: int = Field(default=90, ge=1)
    time_to_value_target_days: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _order(self) -> Rules:
        if self.stall_head_hours < self.stall_hours:
            raise ValueError("stall_head_hours must be at least stall_hours")
        return self


class CloseoutItemSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    text: str = Field(min_length=1)
    owner: Owner = "cso"


class Catalogue(_Strict):
    rules: Rules = Field(default_factory=Rules)
    plans: dict[Literal["enterprise", "mid_market", "smb"], Plan]
    closeout: tuple[CloseoutItemSpec, ...] = Field(min_length=1)

    def plan(self, segment: str) -> Plan:
        return self.plans[segment if segment in self.plans else "mid_market"]


@cache
def _default_data() -> dict[str, Any]:
    text = files("domain").joinpath("onboarding.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@cache
def default_catalogue() -> Catalogue:
    return Catalogue.model_validate(_default_data())


def effective_catalogue(overrides: Mapping[str, Any] | None) -> Catalogue:
    """The shipped plans with an organization's overrides: `rules` fields change one by one, a
    segment under `plans` is replaced whole, `closeout` replaces the close-out checklist.
    OnboardingError names each bad field (`onboarding.plans.smb.items.2.due: …`)."""
    if not overrides:
        return default_catalogue()
    if not isinstance(overrides, Mapping):
        raise OnboardingError(["onboarding: must be a mapping (rules, plans, closeout)"])
    data = copy.deepcopy(_default_data())
    unknown = sorted(set(overrides) - {"rules", "plans", "closeout"})
    if unknown:
        raise OnboardingError([f"onboarding.{unknown[0]}: not a setting (rules, plans, closeout)"])
    rules = overrides.get("rules") or {}
    plans = overrides.get("plans") or {}
    if not isinstance(rules, Mapping) or not isinstance(plans, Mapping):
        raise OnboardingError(["onboarding: rules and plans must be mappings"])
    data["rules"] = {**data["rules"], **rules}
    for segment, plan in plans.items():
        if segment not in SEGMENTS:
            raise OnboardingError(
                [f"onboarding.plans.{segment}: not a segment ({', '.join(SEGMENTS)})"]
            )
        data["plans"][segment] = plan
    if "closeout" in overrides:
        data["closeout"] = overrides["closeout"]
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            problems.append(f"onboarding.{where}: {str(err['msg']).removeprefix('Value error, ')}")
        raise OnboardingError(problems) from None


# -- due dates ----------------------------------------------------------------------------------
def add_business_days(cal: WorkCalendar, day: date, days: int) -> date:
    """`days` business days after `day` on the client's calendar (a day that is not one
    counts from the next business day)."""
    start = datetime.combine(day, cal.start, tzinfo=cal.tz)
    return cal.add_days(start, days).date()


def end_of_day(cal: WorkCalendar, day: date) -> datetime:
    """The close of business on `day`, local to the client, in UTC."""
    return datetime.combine(day, cal.end, tzinfo=cal.tz).astimezone(UTC)


def kickoff_deadline(cal: WorkCalendar, signed_on: date, rules: Rules) -> date:
    return add_business_days(cal, signed_on, rules.kickoff_within_business_days)


def due_on(
    item: ItemSpec, cal: WorkCalendar, signed_on: date, kickoff_on: date | None, rules: Rules
) -> date:
    """The item's due day: business days after the signature or the kickoff (until a kickoff
    is scheduled, the last day it may be)."""
    if item.anchor == "signature":
        return add_business_days(cal, signed_on, item.due)
    anchor = kickoff_on or kickoff_deadline(cal, signed_on, rules)
    return add_business_days(cal, anchor, item.due)


@dataclass(frozen=True)
class PlannedItem:
    item_id: str
    text: str
    section: str
    owner: str
    due_on: date
    due_at: datetime
    position: int
    anchor: str
    marks: str | None = None
    phase: str | None = None


def plan_items(
    plan: Plan, cal: WorkCalendar, signed_on: date, kickoff_on: date | None, rules: Rules
) -> list[PlannedItem]:
    out = []
    for position, item in enumerate(plan.items):
        day = due_on(item, cal, signed_on, kickoff_on, rules)
        out.append(
            PlannedItem(
                item_id=item.id,
                text=item.text,
                section=item.section,
                owner=item.owner,
                due_on=day,
                due_at=end_of_day(cal, day),
                position=position,
                anchor=item.anchor,
                marks=item.marks,
                phase=item.phase,
            )
        )
    return out


# -- the checklist's state ------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """One checklist item of one client, as stored."""

    id: int
    item_id: str
    text: str
    section: str
    owner: str
    due_on: date
    due_at: datetime
    position: int
    anchor: str = "kickoff"
    marks: str | None = None
    phase: str | None = None
    done_at: datetime | None = None
    done_by: str | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None

    def overdue(self, now: datetime) -> bool:
        return not self.done and now > self.due_at

    def overdue_hours(self, now: datetime) -> float:
        return max(0.0, (now - self.due_at).total_seconds() / 3600) if not self.done else 0.0


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    overdue: tuple[Item, ...]
    next_items: tuple[Item, ...]

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total


def progress(items: Sequence[Item], now: datetime, upcoming: int = 3) -> Progress:
    """Done of total, the overdue items, and the next `upcoming` open items not overdue."""
    ordered = sorted(items, key=lambda i: (i.due_at, i.position))
    overdue = tuple(i for i in ordered if i.overdue(now))
    next_items = tuple(i for i in ordered if not i.done and not i.overdue(now))[:upcoming]
    return Progress(sum(1 for i in items if i.done), len(items), overdue, next_items)


def handoff_blockers(items: Sequence[Item]) -> list[Item]:
    """The open items that keep the Week-8 handoff from being marked complete."""
    return sorted(
        (i for i in items if not i.done and i.marks != "handoff"), key=lambda i: i.position
    )


StallLevel = Literal["service_lead", "head_of_delivery"]


def stall_levels(item: Item, now: datetime, rules: Rules) -> list[StallLevel]:
    """Who an overdue item has reached: past `stall_hours` in a stall section the Service
    Lead, past `stall_head_hours` the head of delivery too."""
    if item.done or item.section not in rules.stall_sections:
        return []
    hours = item.overdue_hours(now)
    levels: list[StallLevel] = []
    if hours >= rules.stall_hours:
        levels.append("service_lead")
    if hours >= rules.stall_head_hours:
        levels.append("head_of_delivery")
    return levels


KickoffTimer = Literal["nudge", "escalate"]


def kickoff_timer(
    cal: WorkCalendar,
    signed_on: date,
    kickoff_on: date | None,
    kickoff_done: bool,
    today: date,
    rules: Rules,
) -> KickoffTimer | None:
    """No kickoff scheduled by the deadline (signature + the kickoff window, business days):
    on the deadline the CSO is nudged; `kickoff_escalate_after_business_days` later it is
    escalated."""
    if kickoff_on is not None or kickoff_done:
        return None
    deadline = kickoff_deadline(cal, signed_on, rules)
    if today < deadline:
        return None
    escalate = add_business_days(cal, deadline, rules.kickoff_escalate_after_business_days)
    return "escalate" if today >= escalate and escalate > deadline else "nudge"


def sales_handoff_deadline(cal: WorkCalendar, signed_on: date, rules: Rules) -> datetime:
    """When the sales handoff (AE -> CSO) is due: `handoff_within_hours` clock hours after the
    signature. The signature is a day without a time, so the hours count from the end of that
    day in the client's timezone (signed Fri: due by the end of Sat with the default 24 h)."""
    end_of_day = datetime.combine(signed_on + timedelta(days=1), time(0), tzinfo=cal.tz)
    return end_of_day.astimezone(UTC) + timedelta(hours=rules.handoff_within_hours)


def sales_handoff_late(
    cal: WorkCalendar,
    signed_on: date,
    received_at: datetime | None,
    now: datetime,
    rules: Rules,
) -> bool:
    """No sales handoff received and its deadline has passed."""
    return received_at is None and now >= sales_handoff_deadline(cal, signed_on, rules)


def forecast_due(contract_end: date | None, today: date, rules: Rules) -> bool:
    """The renewal forecast to Sales Ops is due from `renewal_forecast_days` before the end."""
    if contract_end is None:
        return False
    return contract_end - timedelta(days=rules.renewal_forecast_days) <= today <= contract_end


# -- lifecycle stage ------------------------------------------------------------------------------
class Stage(StrEnum):
    ONBOARDING = "onboarding"
    ADOPTION = "adoption"
    VALUE_REALIZATION = "value_realization"
    EXPANSION = "expansion"
    ADVOCACY = "advocacy"
    CLOSED = "closed"


STAGE_LABELS = {
    Stage.ONBOARDING: "Onboarding",
    Stage.ADOPTION: "Adoption",
    Stage.VALUE_REALIZATION: "Value realization",
    Stage.EXPANSION: "Expansion",
    Stage.ADVOCACY: "Advocacy",
    Stage.CLOSED: "Closed out",
}
ADOPTION_UNTIL_DAYS = 90


@dataclass(frozen=True)
class StageFacts:
    signed_on: date | None  # the signature (or the contract start of a client added without)
    onboarding: bool  # an onboarding checklist exists for the client
    handed_off_on: date | None  # the Week-8 handoff ticked (None: not yet)
    expansion: bool = False  # a qualified expansion opportunity is open
    advocacy: bool = False  # the client is in the advocacy (reference) program
    closed: bool = False  # the project was closed out


def lifecycle_stage(facts: StageFacts, today: date) -> Stage | None:
    """Onboarding until the Week-8 handoff, adoption to day 90 after the signature, value
    realization after; expansion and advocacy when those records exist. None: no signature
    or contract start to count from."""
    if facts.closed:
        return Stage.CLOSED
    if facts.onboarding and facts.handed_off_on is None:
        return Stage.ONBOARDING
    if facts.advocacy:
        return Stage.ADVOCACY
    if facts.expansion:
        return Stage.EXPANSION
    if facts.signed_on is None:
        return None
    if today < facts.signed_on:
        return Stage.ONBOARDING
    if (today - facts.signed_on).days < ADOPTION_UNTIL_DAYS:
        return Stage.ADOPTION
    return Stage.VALUE_REALIZATION


def local_morning(cal: WorkCalendar, day: date, now: datetime) -> datetime:
    """09:00 (the calendar's start) on `day`, never before `now`."""
    return max(datetime.combine(day, cal.start or time(9), tzinfo=cal.tz).astimezone(UTC), now)


@dataclass(frozen=True)
class Lifecycle:
    """A client's signature, kickoff, account executive and sales handoff, as stored."""

    client_id: int
    segment: str
    signed_on: date
    kickoff_on: date | None
    ae_id: str | None
    success_criteria: tuple[str, ...]
    handoff: dict[str, str]
    started_at: datetime
    source: str
    handoff_received_at: datetime | None = None
    handed_off_at: datetime | None = None


@dataclass(frozen=True)
class CloseoutItem:
    id: int
    item_id: str
    text: str
    owner: str
    position: int
    done_at: datetime | None = None
    done_by: str | None = None


@dataclass(frozen=True)
class Closeout:
    id: int
    client_id: int
    started_at: datetime
    started_by: str
    case_study_candidate: bool
    case_study_note: str | None
    report_md: str
    closed_at: datetime | None
    items: tuple[CloseoutItem, ...]
