"""Value from the record (docs/process.md, "QBR/EBR and the Value Realization Audit"): the
client's success criteria, the period's outputs (wins, issues done, pull requests merged,
releases), which of them are outcomes against a criterion and which are features only, and
next period's goals from the unmet criteria and the gaps in health.

An output is an *outcome* when it names a success criterion (two of its significant words, or
its metric) and carries evidence: a win, or a measured figure ("2 hours", "30%", "$12k").
Otherwise it is *feature only*. Pure: the caller passes what was recorded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.commands import CommandError
from domain.story import words

AUDIT_USAGE = (
    "Usage: `/audit acme [2026-11]` — the month's Value Realization Audit (default: this "
    "month), as a file in the CSO's DM."
)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

GOAL_SIGNAL_TARGET = 8.0  # a health signal under this is a gap worth a goal
_MEASURE = re.compile(
    r"(?:[$€£]\s?\d[\d,.]*\s?[kKmM]?\b|\b\d[\d,.]*\s?(?:%|percent|x\b|×|hours?|hrs?|h\b|days?|"
    r"weeks?|minutes?|mins?|seconds?|users?|seats?|dashboards?|reports?|k\b))",
    re.I,
)

OutputKind = Literal["win", "issue", "pull", "release"]
Mark = Literal["outcome", "feature only"]


class SuccessCriterion(BaseModel):
    """`success_criteria:` on a client in the portfolio file: what the client bought us for."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    goal: str = Field(min_length=3, max_length=300)
    metric: str | None = Field(default=None, max_length=200)
    target: str | None = Field(default=None, max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _plain_goal(cls, value: object) -> object:
        """A criterion written as a plain string (the `/client new` form) is its goal."""
        return {"goal": value} if isinstance(value, str) else value

    def label(self) -> str:
        out = self.goal
        if self.metric and self.target:
            out += f" ({self.metric}: {self.target})"
        elif self.target:
            out += f" (target {self.target})"
        return out


@dataclass(frozen=True)
class Output:
    kind: OutputKind
    ref: str  # "win:12", "LIN-142", "acme/web#88", "acme/web@v1.2"
    text: str
    at: datetime
    link: str | None = None


@dataclass(frozen=True)
class Marked:
    output: Output
    mark: Mark
    criterion: SuccessCriterion | None


def measured(text: str) -> bool:
    return bool(_MEASURE.search(text))


def criterion_of(text: str, criteria: Sequence[SuccessCriterion]) -> SuccessCriterion | None:
    said = words(text)
    for c in criteria:
        goal = words(c.goal) | (words(c.metric) if c.metric else frozenset())
        if goal and len(said & goal) >= min(2, len(goal)):
            return c
    return None


def mark(output: Output, criteria: Sequence[SuccessCriterion]) -> Marked:
    c = criterion_of(output.text, criteria)
    if c is not None and (output.kind == "win" or measured(output.text)):
        return Marked(output, "outcome", c)
    return Marked(output, "feature only", c)


def mark_all(outputs: Sequence[Output], criteria: Sequence[SuccessCriterion]) -> list[Marked]:
    return [mark(o, criteria) for o in sorted(outputs, key=lambda o: o.at)]


def value_lines(marked: Sequence[Marked]) -> list[str]:
    """Value delivered: each outcome, with the criterion it advances; measured wins too."""
    out: list[str] = []
    for m in marked:
        if m.mark == "outcome" and m.criterion is not None:
            out.append(f"{m.output.text} — toward “{m.criterion.goal}”")
        elif m.output.kind == "win" and measured(m.output.text):
            out.append(m.output.text)
    return out


def next_goals(
    criteria: Sequence[SuccessCriterion],
    marked: Sequence[Marked],
    weakest: Sequence[tuple[str, float]],
) -> list[str]:
    """Next period's goals: every success criterion no outcome advanced yet, then each health
    signal under the target — "Raise Adoption from 6 to 8 or more." A signal already at or
    above the target is never a goal to "raise" (it would read "from 9 to 8 or more")."""
    met = {m.criterion.goal for m in marked if m.mark == "outcome" and m.criterion is not None}
    goals = [f"{c.label()} — no outcome recorded yet." for c in criteria if c.goal not in met]
    goals += [f"Keep delivering on “{g}”." for g in sorted(met)]
    for label, value in weakest:
        if value < GOAL_SIGNAL_TARGET:
            goals.append(f"Raise {label} from {value:g} to {GOAL_SIGNAL_TARGET:g} or more.")
    return goals


@dataclass(frozen=True)
class AuditRequest:
    slug: str
    month: tuple[int, int] | None = None  # (year, month); None: this month


def parse_audit(text: str) -> AuditRequest:
    words_ = text.split()
    if not words_ or len(words_) > 2:
        raise CommandError("Name the client, and optionally the month.")
    if len(words_) == 1:
        return AuditRequest(words_[0].lower())
    m = _MONTH.match(words_[1])
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise CommandError(f"`{words_[1]}` is not a month: write it like 2026-11.")
    return AuditRequest(words_[0].lower(), (int(m.group(1)), int(m.group(2))))
