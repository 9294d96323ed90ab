"""The renewal timeline (docs/process.md, "Renewal timeline"), outcomes, the forecast call
and quarter parsing.

Stages start a fixed number of days before `contract_end`:

    −120 risk assessment · −90 outreach · −60 proposal · −45 negotiation
    −30 contract sent · −14 escalation if unsigned · 0 renewal date
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

from domain.health import Band


class Stage(BaseModel):
    id: str
    days_before: int
    title: str
    activity: str
    owner: str


STAGES: tuple[Stage, ...] = (
    Stage(
        id="risk_assessment",
        days_before=120,
        title="Risk assessment",
        activity="Renewal workflow triggered: assess renewal risk and health context.",
        owner="CSO (triggered automatically)",
    ),
    Stage(
        id="outreach",
        days_before=90,
        title="Outreach",
        activity="Reach out to the customer and schedule the business review.",
        owner="CSO",
    ),
    Stage(
        id="proposal",
        days_before=60,
        title="Review and proposal",
        activity="Business review completed; send the renewal proposal.",
        owner="CSO + renewal manager",
    ),
    Stage(
        id="negotiation",
        days_before=45,
        title="Negotiation",
        activity="Commercial negotiation and expansion discussion.",
        owner="Renewal manager / AE",
    ),
    Stage(
        id="contract_sent",
        days_before=30,
        title="Contract sent",
        activity="Contract sent; drive the signature process.",
        owner="Renewal manager",
    ),
    Stage(
        id="escalation",
        days_before=14,
        title="Escalation",
        activity="Escalate to CS leadership if the contract is not signed.",
        owner="CS leadership",
    ),
)


class Milestone(BaseModel):
    stage: Stage
    due: date


class Outcome(StrEnum):
    SIGNED = "signed"
    CHURNED = "churned"
    EXTENDED = "extended"


RENEWED_OUTCOMES = frozenset({Outcome.SIGNED, Outcome.EXTENDED})


@dataclass(frozen=True)
class RenewalOutcome:
    """The recorded outcome of the contract that ended (or ends) on `contract_end`."""

    client_id: int
    contract_end: date
    outcome: Outcome
    new_end: date | None
    arr_before: float
    arr_after: float
    band_at_renewal: Band | None
    recorded_by: str
    recorded_at: datetime


def effective_contract_end(
    contract_end: date | None, outcomes: Mapping[date, RenewalOutcome]
) -> tuple[date | None, RenewalOutcome | None]:
    """The contract end that is still open, following recorded renewals (signed/extended to a
    new date), and the outcome that closed the last one (churned → no open contract)."""
    end = contract_end
    last: RenewalOutcome | None = None
    seen: set[date] = set()
    while end is not None and end in outcomes and end not in seen:
        seen.add(end)
        last = outcomes[end]
        if last.outcome not in RENEWED_OUTCOMES:
            return None, last
        end = last.new_end
    return end, last


def renewal_target(
    contract_end: date | None, outcomes: Mapping[date, RenewalOutcome], today: date
) -> date | None:
    """The contract a /renewal is about: the one running today (so recording again before it
    ends corrects its outcome), else the latest open one."""
    end = contract_end
    seen: set[date] = set()
    while end is not None and end < today and end in outcomes and end not in seen:
        seen.add(end)
        row = outcomes[end]
        if row.outcome not in RENEWED_OUTCOMES or row.new_end is None:
            break
        end = row.new_end
    return end


def arr_after_renewal(outcome: Outcome, arr_after: float | None, current_arr: float) -> float:
    """ARR of the next contract: 0 when churned, else the figure given (the current ARR when
    none is given)."""
    return 0.0 if outcome is Outcome.CHURNED else float(arr_after if arr_after else current_arr)


ForecastCall = Literal["likely", "at risk", "churn"]


def days_to_renewal(contract_end: date, today: date) -> int:
    """Days from today to contract_end (negative once it has passed)."""
    return (contract_end - today).days


def renewal_schedule(contract_end: date) -> list[Milestone]:
    """Every stage with its start date, earliest first."""
    return [Milestone(stage=s, due=contract_end - timedelta(days=s.days_before)) for s in STAGES]


def renewal_stage(contract_end: date, today: date) -> Stage | None:
    """The stage today falls in: the latest stage that has started, from −120 days up to and
    including the renewal date. None before −120 days and after contract_end."""
    left = days_to_renewal(contract_end, today)
    if left < 0:
        return None
    current = None
    for stage in STAGES:
        if left <= stage.days_before:
            current = stage
    return current


def milestones_due(contract_end: date, today: date) -> list[Milestone]:
    """Milestones whose date has come (due ≤ today), earliest first; the last one is the current
    stage. The caller nudges those it has not nudged yet (keyed by stage id)."""
    return [m for m in renewal_schedule(contract_end) if m.due <= today]


FORECAST_RULE = """\
forecast call:
  a recorded outcome wins: signed/extended → likely, churned → churn
  Green, no open risk flag            → likely
  Green with an open risk flag        → at risk
  Yellow (or no score yet)            → at risk; churn if ≥ 2 open risk flags and ≤ 30 days left
  Red                                 → at risk; churn if ≤ 30 days left or ≥ 1 open risk flag
  past the renewal date, unsigned     → never better than at risk"""

CLOSE_DAYS = 30


def forecast_call(
    band: Band | str | None,
    days_to_renewal: int,
    outcome: Outcome | str | None,
    open_risk_flags: int,
) -> ForecastCall:
    """The renewal forecast call: "likely", "at risk" or "churn".

    Rule (FORECAST_RULE): a recorded outcome wins (signed/extended → likely, churned → churn).
    Otherwise Green → likely, or at risk with any open risk flag; Yellow or unscored → at risk,
    churn with ≥ 2 open risk flags inside 30 days; Red → at risk, churn inside 30 days or with
    any open risk flag. Unsigned past the renewal date is never "likely".
    """
    if outcome is not None:
        return "likely" if Outcome(outcome) in RENEWED_OUTCOMES else "churn"
    if open_risk_flags < 0:
        raise ValueError("open_risk_flags cannot be negative")
    close = days_to_renewal <= CLOSE_DAYS
    b = Band(band) if band is not None else None
    call: ForecastCall
    if b is Band.GREEN:
        call = "at risk" if open_risk_flags else "likely"
    elif b is Band.RED:
        call = "churn" if close or open_risk_flags else "at risk"
    else:
        call = "churn" if close and open_risk_flags >= 2 else "at risk"
    if days_to_renewal < 0 and call == "likely":
        call = "at risk"
    return call


# -- quarters ------------------------------------------------------------------------------

_YEAR_FIRST = re.compile(r"^(\d{4})\s*[-\s]?\s*q(\d)$", re.IGNORECASE)
_QUARTER_FIRST = re.compile(r"^q(\d)\s*[-\s]?\s*(\d{4})$", re.IGNORECASE)
_BARE = re.compile(r"^q(\d)$", re.IGNORECASE)


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    if not 1 <= quarter <= 4:
        raise ValueError(f"no quarter {quarter}: quarters are Q1 to Q4")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end - timedelta(days=1)


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def parse_quarter(text: str, today: date | None = None) -> tuple[date, date]:
    """ "2027Q1", "2027-Q1", "Q1 2027" → (2027-01-01, 2027-03-31), inclusive.

    A bare "Q4" needs `today` and means the latest Q4 that has started by today.
    """
    raw = text.strip()
    if m := _YEAR_FIRST.match(raw):
        return quarter_bounds(int(m.group(1)), int(m.group(2)))
    if m := _QUARTER_FIRST.match(raw):
        return quarter_bounds(int(m.group(2)), int(m.group(1)))
    if (m := _BARE.match(raw)) and today is not None:
        quarter = int(m.group(1))
        start, end = quarter_bounds(today.year, quarter)
        return (start, end) if start <= today else quarter_bounds(today.year - 1, quarter)
    raise ValueError(f'unknown quarter "{text}" (write it like 2027Q1, 2027-Q1 or Q1 2027)')
