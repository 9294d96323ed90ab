"""Risk playbooks (docs/process.md, "Playbooks") as data: checklists whose steps fall due
relative to the start.

The shipped playbooks live in `domain/playbooks.yaml`; `parse_playbooks()` validates the same
shape from any YAML text (e.g. an organisation's own playbooks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class PlaybookError(ValueError):
    """A bad playbook file or an unknown playbook id."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StepSpec(_Strict):
    text: str = Field(min_length=1)
    due_days: int = Field(ge=0, description="days after the start the step is due")
    repeat_every_days: int | None = Field(default=None, ge=1)
    repeat_times: int = Field(default=1, ge=1, description="occurrences in all")
    escalation: bool = False

    @model_validator(mode="after")
    def _repeat(self) -> StepSpec:
        if self.repeat_times > 1 and self.repeat_every_days is None:
            raise ValueError("repeat_times needs repeat_every_days")
        return self


class Playbook(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    description: str = ""
    triggers: list[str] = Field(default_factory=list)
    steps: list[StepSpec] = Field(min_length=1)


class PlaybookStep(BaseModel):
    index: int = Field(description="0-based position in the instantiated checklist")
    due: date
    text: str
    escalation: bool = False


class Progress(BaseModel):
    done: int
    total: int
    ratio: float | None = Field(description="done / total; None for an empty checklist")
    complete: bool

    def __str__(self) -> str:
        if self.ratio is None:
            return "0/0"
        return f"{self.done}/{self.total} ({self.ratio:.0%})"


class _File(_Strict):
    playbooks: list[Playbook]


def normalise_id(text: str) -> str:
    """ "Low Engagement", "low_engagement" → "low-engagement"."""
    return re.sub(r"[\s_-]+", "-", text.strip().lower())


def normalise_kind(text: str) -> str:
    """ "Competitor mention", "competitor-mention" → "competitor_mention"."""
    return re.sub(r"[\s_-]+", "_", text.strip().lower())


def parse_playbooks(text: str) -> dict[str, Playbook]:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlaybookError(f"playbooks: not valid YAML ({exc})") from None
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        problems = [
            ".".join(str(p) for p in err["loc"]) + ": " + err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        ]
        raise PlaybookError("playbooks: " + "; ".join(problems)) from None
    out: dict[str, Playbook] = {}
    owner: dict[str, str] = {}
    for book in parsed.playbooks:
        if book.id in out:
            raise PlaybookError(f'playbooks: "{book.id}" is listed twice')
        for trigger in book.triggers:
            kind = normalise_kind(trigger)
            if kind in owner:
                raise PlaybookError(
                    f'playbooks: trigger "{kind}" is used by both {owner[kind]} and {book.id}'
                )
            owner[kind] = book.id
        out[book.id] = book
    return out


@cache
def default_playbooks() -> Mapping[str, Playbook]:
    text = files("domain").joinpath("playbooks.yaml").read_text(encoding="utf-8")
    return parse_playbooks(text)


def playbook_ids(playbooks: Mapping[str, Playbook] | None = None) -> list[str]:
    return list(playbooks if playbooks is not None else default_playbooks())


def get_playbook(playbook_id: str, playbooks: Mapping[str, Playbook] | None = None) -> Playbook:
    books = playbooks if playbooks is not None else default_playbooks()
    key = normalise_id(playbook_id)
    if key not in books:
        raise PlaybookError(f'unknown playbook "{playbook_id}" (use one of: {", ".join(books)})')
    return books[key]


def instantiate(
    playbook_id: str, start: date, playbooks: Mapping[str, Playbook] | None = None
) -> list[PlaybookStep]:
    """The checklist for a playbook started on `start`, ordered by due date (ties keep the
    playbook's order). Repeating steps become one entry per occurrence, numbered "(1/4)"."""
    book = get_playbook(playbook_id, playbooks)
    raw: list[tuple[int, int, str, bool]] = []
    for order, spec in enumerate(book.steps):
        for n in range(spec.repeat_times):
            offset = spec.due_days + n * (spec.repeat_every_days or 0)
            text = (
                spec.text
                if spec.repeat_times == 1
                else f"{spec.text} ({n + 1}/{spec.repeat_times})"
            )
            raw.append((offset, order, text, spec.escalation))
    raw.sort(key=lambda r: (r[0], r[1]))
    return [
        PlaybookStep(index=i, due=start + timedelta(days=offset), text=text, escalation=esc)
        for i, (offset, _, text, esc) in enumerate(raw)
    ]


def suggest_playbook(
    signal_kind: str, playbooks: Mapping[str, Playbook] | None = None
) -> str | None:
    """The playbook a detected flag or signal kind suggests (competitor_mention →
    competitor-evaluation, stakeholder_change → executive-change, negative_sentiment or
    low engagement → low-engagement...), or None when no playbook fits."""
    books = playbooks if playbooks is not None else default_playbooks()
    kind = normalise_kind(signal_kind)
    for book in books.values():
        if kind in (normalise_kind(t) for t in book.triggers):
            return book.id
    return None


def progress(steps_done: int, total: int) -> Progress:
    if total < 0 or not 0 <= steps_done <= total:
        raise ValueError(f"progress: {steps_done} done of {total} is impossible")
    ratio = round(steps_done / total, 4) if total else None
    return Progress(
        done=steps_done, total=total, ratio=ratio, complete=total > 0 and steps_done == total
    )


@dataclass(frozen=True)
class Step:
    """A step of a running checklist."""

    id: int
    run_id: int
    text: str
    due: date
    escalation: bool
    done_at: datetime | None
    done_by: str | None


@dataclass(frozen=True)
class Run:
    """A playbook started for a client, with its steps in order."""

    id: int
    client_id: int
    playbook_id: str
    status: str  # active | completed
    steps: tuple[Step, ...]

    @property
    def progress(self) -> Progress:
        return progress(sum(1 for s in self.steps if s.done_at is not None), len(self.steps))
