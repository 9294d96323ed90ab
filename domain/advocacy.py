"""The reference program (docs/process.md, "Advocacy and references"): who enters the pipeline,
the tiers, fatigue, and who to ask. Pure: `now` is a parameter."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)


class Tier(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    label: str
    activities: str


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    data: Any = yaml.safe_load(files("domain").joinpath("advocacy.yaml").read_text("utf-8"))
    return dict(data)


class AdvocacySettings(BaseModel):
    """`organization.settings["advocacy"]`; defaults from domain/advocacy.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tiers: tuple[Tier, ...] = Field(
        default_factory=lambda: tuple(Tier(**t) for t in _shipped()["tiers"])
    )
    green_days: int = Field(default_factory=lambda: int(_shipped()["green_days"]), ge=1)
    nps_at_least: int = Field(default_factory=lambda: int(_shipped()["nps_at_least"]), ge=0, le=10)
    fatigue_asks: int = Field(default_factory=lambda: int(_shipped()["fatigue_asks"]), ge=0)
    fatigue_days: int = Field(default_factory=lambda: int(_shipped()["fatigue_days"]), ge=1)

    @classmethod
    def from_org_settings(cls, settings: Mapping[str, Any] | None) -> AdvocacySettings:
        raw = (settings or {}).get("advocacy")
        try:
            return cls.model_validate(raw or {})
        except ValidationError as exc:
            logger.warning("organization settings 'advocacy' ignored (%s): using defaults", exc)
            return cls()

    def tier(self, tier_id: str) -> Tier | None:
        return next((t for t in self.tiers if t.id == tier_id), None)

    def tier_rank(self, tier_id: str) -> int:
        return next((i for i, t in enumerate(self.tiers) if t.id == tier_id), -1)


def enters_pipeline(
    band: str | None,
    band_since: date | None,
    latest_nps: int | None,
    today: date,
    settings: AdvocacySettings,
) -> bool:
    """Green for `green_days`+ days and the latest NPS at least `nps_at_least`."""
    if band != "green" or band_since is None or latest_nps is None:
        return False
    return (today - band_since).days >= settings.green_days and latest_nps >= settings.nps_at_least


def asks_within(asked: Sequence[datetime], now: datetime, days: int) -> int:
    since = now - timedelta(days=days)
    return sum(1 for at in asked if since <= at <= now)


def is_fatigued(asked: Sequence[datetime], now: datetime, settings: AdvocacySettings) -> bool:
    """Asked more than `fatigue_asks` times in the last `fatigue_days` days."""
    return asks_within(asked, now, settings.fatigue_days) > settings.fatigue_asks


@dataclass(frozen=True)
class Candidate:
    client_id: int
    name: str
    segment: str
    tier: str
    use_cases: tuple[str, ...]
    asked: tuple[datetime, ...]
    case_study: bool  # marked as a case-study candidate (a close-out, or by hand)


@dataclass(frozen=True)
class Suggestion:
    candidate: Candidate
    fit: int
    rest_days: int | None  # days since the last ask; None: never asked
    fatigued: bool


def suggest(
    candidates: Sequence[Candidate],
    now: datetime,
    settings: AdvocacySettings,
    *,
    segment: str | None = None,
    use_case: str | None = None,
) -> list[Suggestion]:
    """Who can we ask? Fit first (segment +2, use case +2, case-study candidate +1, higher tier
    +1 a step), then rest (never asked, or longest since the last ask). Fatigued references
    come last, marked so — they are not suggestions."""
    out: list[Suggestion] = []
    for c in candidates:
        fit = settings.tier_rank(c.tier)
        if segment and c.segment == segment:
            fit += 2
        if use_case and any(use_case.lower() in u.lower() for u in c.use_cases):
            fit += 2
        if c.case_study:
            fit += 1
        last = max(c.asked) if c.asked else None
        rest = (now - last).days if last else None
        out.append(Suggestion(c, fit, rest, is_fatigued(c.asked, now, settings)))
    return sorted(
        out,
        key=lambda s: (
            s.fatigued,
            -s.fit,
            -(s.rest_days if s.rest_days is not None else 10_000),
            s.candidate.name,
        ),
    )
