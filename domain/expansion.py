"""Expansion signals (docs/process.md, "Expansion"), the estimated value of an opportunity,
the Green-for-60-days guardrail, and the pipeline's share of portfolio ARR (target 15–20%,
"Portfolio metrics")."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from domain.health import Band, HistoryItem, band_since, current_band


class ExpansionSignal(BaseModel):
    id: str
    label: str
    points: int
    action: str


SIGNALS: tuple[ExpansionSignal, ...] = (
    ExpansionSignal(
        id="seat_adoption",
        label="High adoption (>80% licensed seats active)",
        points=3,
        action="Explore user expansion",
    ),
    ExpansionSignal(
        id="new_department",
        label="New department expressing interest",
        points=3,
        action="Schedule discovery call",
    ),
    ExpansionSignal(
        id="premium_feature_requests",
        label="Feature requests for premium tier",
        points=2,
        action="Position upgrade path",
    ),
    ExpansionSignal(
        id="executive_engagement_rising",
        label="Executive engagement increasing",
        points=2,
        action="Propose strategic review",
    ),
    ExpansionSignal(
        id="renewal_within_90_days",
        label="Contract renewal within 90 days",
        points=2,
        action="Bundle expansion into renewal",
    ),
)
SIGNALS_BY_ID = {s.id: s for s in SIGNALS}
MAX_POINTS = sum(s.points for s in SIGNALS)

SEAT_ADOPTION_THRESHOLD = 0.80
RENEWAL_WINDOW_DAYS = 90
GREEN_DAYS_REQUIRED = 60
VALUE_PER_POINT = 0.025
PIPELINE_TARGET = (0.15, 0.20)


# Words in a Pulse hook that read as an expansion signal.
DEPARTMENT_WORDS = ("department", "another team", "other team", "new team", "division")
PREMIUM_WORDS = ("premium", "upgrade", "enterprise tier", "add-on", "addon")
EXEC_RISE_DAYS = 30
EXEC_RISE_POINTS = 1.0


def hook_signals(hooks: Iterable[str | None]) -> tuple[bool, int]:
    """(new department interest, premium requests) read from a client's Pulse hooks: any hook
    naming another department; one request per hook naming a premium tier."""
    dept, premium = False, 0
    for hook in hooks:
        text = (hook or "").lower()
        dept = dept or any(w in text for w in DEPARTMENT_WORDS)
        premium += int(any(w in text for w in PREMIUM_WORDS))
    return dept, premium


def executive_engagement_rising(points: Sequence[tuple[date, float]], today: date) -> bool:
    """executive_engagement now (the last value, oldest first) above its value 30 days ago
    by a point or more."""
    if not points:
        return False
    cutoff = today - timedelta(days=EXEC_RISE_DAYS)
    old = [v for d, v in points if d <= cutoff]
    return bool(old) and points[-1][1] - old[-1] >= EXEC_RISE_POINTS


class ExpansionInputs(BaseModel):
    active_seats: int | None = Field(default=None, ge=0)
    licensed_seats: int | None = Field(default=None, ge=0)
    new_department_interest: bool = False
    premium_feature_requests: int = Field(default=0, ge=0, description="open requests")
    executive_engagement_rising: bool = False
    contract_end: date | None = None


class ExpansionScore(BaseModel):
    points: int
    signals: list[str] = Field(description="ids of the signals that fired, table order")
    reasons: list[str]
    actions: list[str]


def score_expansion(signals: ExpansionInputs, today: date) -> ExpansionScore:
    """Sum of the table's points for each signal present (max 12):

    +3 active/licensed seats > 80% · +3 new department interest · +2 ≥ 1 premium-tier feature
    request · +2 executive engagement rising · +2 contract_end within the next 90 days.
    """
    fired: list[tuple[str, str]] = []
    if signals.active_seats is not None and signals.licensed_seats:
        share = signals.active_seats / signals.licensed_seats
        if share > SEAT_ADOPTION_THRESHOLD:
            fired.append(
                (
                    "seat_adoption",
                    f"{signals.active_seats}/{signals.licensed_seats} licensed seats active "
                    f"({share:.0%})",
                )
            )
    if signals.new_department_interest:
        fired.append(("new_department", "A new department is interested"))
    if signals.premium_feature_requests:
        n = signals.premium_feature_requests
        fired.append(
            ("premium_feature_requests", f"{n} premium-tier feature request{'s' * (n != 1)}")
        )
    if signals.executive_engagement_rising:
        fired.append(("executive_engagement_rising", "Executive engagement is increasing"))
    if signals.contract_end is not None:
        left = (signals.contract_end - today).days
        if 0 <= left <= RENEWAL_WINDOW_DAYS:
            fired.append(("renewal_within_90_days", f"Renewal in {left} days"))
    return ExpansionScore(
        points=sum(SIGNALS_BY_ID[i].points for i, _ in fired),
        signals=[i for i, _ in fired],
        reasons=[reason for _, reason in fired],
        actions=[SIGNALS_BY_ID[i].action for i, _ in fired],
    )


def estimated_value(arr: float, points: int) -> float:
    """Estimated expansion ARR = ARR × 2.5% × points (points 0..12, so at most 30% of ARR).

    A deliberately simple starting heuristic: each signal point is worth 2.5% of the
    client's current ARR; recalibrate against won expansions.
    """
    if arr < 0:
        raise ValueError("arr cannot be negative")
    clamped = max(0, min(points, MAX_POINTS))
    return round(arr * VALUE_PER_POINT * clamped, 2)


def expansion_allowed(band_history: Sequence[HistoryItem], today: date) -> bool:
    """The guardrail: no expansion push unless the client has been Green for the last
    60 days — its latest score is Green and its unbroken Green run began ≥ 60 days ago."""
    return green_long_enough(
        current_band(band_history, today), band_since(band_history, today), today
    )


def green_long_enough(band: Band | str | None, since: date | None, today: date) -> bool:
    """`expansion_allowed` from the client's current run: its band (of the latest score on or
    before today) and the day that run began (as each snapshot keeps it, `band_since`)."""
    return (
        band == Band.GREEN
        and since is not None
        and since <= today - timedelta(days=GREEN_DAYS_REQUIRED)
    )


class PipelineShare(BaseModel):
    share: float | None = Field(description="pipeline / portfolio ARR; None without ARR")
    target_low: float = PIPELINE_TARGET[0]
    target_high: float = PIPELINE_TARGET[1]
    status: Literal["below", "on target", "above", "no data"]


def pipeline_share(pipeline_value: float, portfolio_arr: float) -> PipelineShare:
    """share = expansion pipeline value / portfolio ARR, against the 15–20% target."""
    if pipeline_value < 0 or portfolio_arr < 0:
        raise ValueError("pipeline value and portfolio ARR cannot be negative")
    if not portfolio_arr:
        return PipelineShare(share=None, status="no data")
    share = round(pipeline_value / portfolio_arr, 4)
    low, high = PIPELINE_TARGET
    status: Literal["below", "on target", "above"] = (
        "below" if share < low else "above" if share > high else "on target"
    )
    return PipelineShare(share=share, status=status)


# -- the real pipeline: opportunities the CSO records (docs/process.md, "Expansion pipeline") --
class Stage(StrEnum):
    IDENTIFIED = "identified"
    QUALIFIED = "qualified"
    PROPOSED = "proposed"
    NEGOTIATING = "negotiating"
    WON = "won"
    LOST = "lost"


OPEN_STAGES = (Stage.IDENTIFIED, Stage.QUALIFIED, Stage.PROPOSED, Stage.NEGOTIATING)
CLOSED_STAGES = (Stage.WON, Stage.LOST)


def next_stages(stage: Stage) -> list[Stage]:
    """Where an opportunity can move from `stage`: forward one step, or closed won / lost.
    A closed one stays closed."""
    if stage in CLOSED_STAGES:
        return []
    i = OPEN_STAGES.index(stage)
    forward = [OPEN_STAGES[i + 1]] if i + 1 < len(OPEN_STAGES) else []
    return [*forward, Stage.WON, Stage.LOST]


@dataclass(frozen=True)
class Opportunity:
    id: int
    client_id: int
    title: str
    value: float
    stage: Stage
    next_step: str
    owner_id: str

    @property
    def open(self) -> bool:
        return self.stage in OPEN_STAGES


def open_pipeline(opportunities: Iterable[Opportunity]) -> float:
    """The pipeline's value: open opportunities only (won and lost are out of it)."""
    return float(sum(o.value for o in opportunities if o.open))


@dataclass(frozen=True)
class ListOpportunities:
    slug: str


@dataclass(frozen=True)
class AddOpportunity:
    slug: str
    value: float
    title: str
    next_step: str = ""


@dataclass(frozen=True)
class NoteRequest:
    """`/expansion acme note`: draft the note to leadership (what we could offer, how, the
    value to both sides), for the CSO to edit before it is posted."""

    slug: str


ExpansionRequest = ListOpportunities | AddOpportunity | NoteRequest


@dataclass(frozen=True)
class NoteFacts:
    """What the note is drafted from: the client's recent signals and open opportunities."""

    client_name: str
    signals: tuple[str, ...]  # the Pulse hooks and expansion flags of the last weeks
    opportunities: tuple[str, ...]  # "EMEA analytics seats (30,000, qualified)"


EXPANSION_USAGE = (
    "Usage: `/expansion acme` lists Acme's opportunities; `/expansion acme add 30000 \"EMEA "
    'analytics seats" [next: "call with their COO"]` records one; `/expansion acme note` '
    "drafts a note to leadership for you to edit."
)


def parse_amount(text: str) -> float:
    """An opportunity's value as the CSO writes it ("30000", "30,000", "$30k"); ValueError
    says why not."""
    raw = text.strip().replace(",", "").replace("$", "").lower()
    factor = 1000 if raw.endswith("k") else 1
    try:
        value = float(raw.removesuffix("k")) * factor
    except ValueError:
        raise ValueError(
            f'"{text.strip()}" is not an amount (write it like 30000 or 30k)'
        ) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f'"{text.strip()}" is not an amount (write it like 30000 or 30k)')
    if value <= 0:
        raise ValueError("the value must be more than 0")
    return value


def parse_expansion(text: str) -> ExpansionRequest:
    """`acme` | `acme add 30000 "EMEA analytics seats" [next: "…"]`; ValueError says why."""
    try:
        words = shlex.split(text.strip())
    except ValueError:
        raise ValueError("close the quotes around the opportunity") from None
    if not words:
        raise ValueError("name the client")
    slug = words[0].lower()
    if len(words) == 1:
        return ListOpportunities(slug)
    if words[1].lower() == "note" and len(words) == 2:
        return NoteRequest(slug)
    if words[1].lower() != "add":
        raise ValueError(f'"{words[1]}" is not something /expansion does (add, note, or nothing)')
    if len(words) < 4:
        raise ValueError("give the value and what the opportunity is")
    value = parse_amount(words[2])
    rest = words[3:]
    next_step = ""
    for i, w in enumerate(rest):
        if w.lower() in ("next:", "next"):
            next_step = " ".join(rest[i + 1 :])
            rest = rest[:i]
            break
    if not rest:
        raise ValueError("say what the opportunity is")
    return AddOpportunity(slug, value, " ".join(rest), next_step)
