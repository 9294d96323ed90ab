"""Portfolio success metrics (docs/process.md, "Portfolio metrics") as pure formulas.

Ratios are fractions (0.9 = 90%) rounded to 4 decimals; NPS is in points (−100..100).
A zero denominator returns None, meaning "no data" — never 0% or 100%.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from domain.health import Band
from domain.renewals import RENEWED_OUTCOMES, Outcome


class RenewalRecord(BaseModel):
    """One contract that came up for renewal in the period."""

    client: str
    arr_before: float = Field(ge=0, description="ARR expiring")
    arr_after: float = Field(ge=0, description="ARR of the renewed contract; 0 when churned")
    outcome: Outcome
    band_at_renewal: Band | None = None

    @model_validator(mode="after")
    def _churn_has_no_arr(self) -> RenewalRecord:
        if self.outcome is Outcome.CHURNED and self.arr_after:
            raise ValueError(f"{self.client}: churned but arr_after is {self.arr_after:g}")
        return self

    @property
    def renewed(self) -> bool:
        return self.outcome in RENEWED_OUTCOMES

    @property
    def expansion(self) -> float:
        return max(self.arr_after - self.arr_before, 0.0) if self.renewed else 0.0

    @property
    def contraction(self) -> float:
        return max(self.arr_before - self.arr_after, 0.0) if self.renewed else 0.0


class QbrRecord(BaseModel):
    """A QBR that was due (account above the ARR threshold) in the period."""

    client: str
    quarter: str
    delivered: bool


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def grr(renewals: Sequence[RenewalRecord]) -> float | None:
    """GRR = renewed ARR (excluding expansion) / expiring ARR

    renewed ARR excluding expansion = Σ min(arr_after, arr_before) over renewed contracts
    expiring ARR = Σ arr_before over all contracts up for renewal
    """
    renewed = sum(min(r.arr_after, r.arr_before) for r in renewals if r.renewed)
    return _ratio(renewed, sum(r.arr_before for r in renewals))


def nrr(renewals: Sequence[RenewalRecord]) -> float | None:
    """NRR = (renewed + expansion − contraction) / beginning ARR

    renewed = Σ arr_before of renewed contracts; expansion / contraction = Σ the increase /
    decrease from arr_before to arr_after; beginning ARR = Σ arr_before of all contracts up
    for renewal (churned ones count in the denominator only).
    """
    renewed = [r for r in renewals if r.renewed]
    numerator = (
        sum(r.arr_before for r in renewed)
        + sum(r.expansion for r in renewed)
        - sum(r.contraction for r in renewed)
    )
    return _ratio(numerator, sum(r.arr_before for r in renewals))


def logo_retention(renewals: Sequence[RenewalRecord]) -> float | None:
    """Logo retention = renewed customers / customers up for renewal

    renewed = outcome signed or extended.
    """
    return _ratio(sum(1 for r in renewals if r.renewed), len(renewals))


def health_score_accuracy(renewals: Sequence[RenewalRecord]) -> float | None:
    """Health-score accuracy = Green accounts that renewed / Green accounts at renewal

    Green = band_at_renewal is Green; renewed = outcome signed or extended.
    """
    green = [r for r in renewals if r.band_at_renewal is Band.GREEN]
    return _ratio(sum(1 for r in green if r.renewed), len(green))


def qbr_completion(qbrs: Sequence[QbrRecord]) -> float | None:
    """QBR completion = QBRs delivered / QBRs due

    one QbrRecord per QBR due in the period.
    """
    return _ratio(sum(1 for q in qbrs if q.delivered), len(qbrs))


PROMOTER_MIN = 9
DETRACTOR_MAX = 6
NpsCategory = Literal["promoter", "passive", "detractor"]


def nps_category(score: int) -> NpsCategory:
    """Promoter 9–10, passive 7–8, detractor 0–6 (the buckets `nps` counts)."""
    if score >= PROMOTER_MIN:
        return "promoter"
    return "detractor" if score <= DETRACTOR_MAX else "passive"


def nps(scores: Iterable[int]) -> float | None:
    """NPS = % promoters (9–10) − % detractors (0–6), on 0–10 answers; in points, −100..100

    passives (7–8) count in the total only.
    """
    values = list(scores)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            raise ValueError(f"NPS answers are whole numbers 0..10, got {value!r}")
    if not values:
        return None
    promoters = sum(1 for v in values if nps_category(v) == "promoter")
    detractors = sum(1 for v in values if nps_category(v) == "detractor")
    return round((promoters - detractors) * 100 / len(values), 1)


def expansion_share(expansion_arr: float, managed_arr: float) -> float | None:
    """Expansion share = expansion ARR / total managed ARR"""
    if expansion_arr < 0 or managed_arr < 0:
        raise ValueError("ARR cannot be negative")
    return _ratio(expansion_arr, managed_arr)


def renewal_expansion_arr(renewals: Sequence[RenewalRecord]) -> float:
    """Σ expansion (arr_after − arr_before, when positive) over renewed contracts."""
    return sum(r.expansion for r in renewals)


def formula(metric: Callable[..., object]) -> str:
    """The formula line of a metric's docstring, for help text."""
    return (metric.__doc__ or "").strip().splitlines()[0]


METRICS: dict[str, Callable[..., float | None]] = {
    "grr": grr,
    "nrr": nrr,
    "logo_retention": logo_retention,
    "health_score_accuracy": health_score_accuracy,
    "qbr_completion": qbr_completion,
    "nps": nps,
    "expansion_share": expansion_share,
}

TARGETS: dict[str, float] = {
    "grr": 0.90,
    "nrr": 1.10,
    "logo_retention": 0.90,
    "health_score_accuracy": 0.80,
    "qbr_completion": 1.0,
    "nps": 50.0,
    "expansion_share": 0.20,
}
