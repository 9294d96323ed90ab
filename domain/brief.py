"""Meeting briefs (docs/process.md, "Meeting briefs"): the facts a brief is made of, each with
an id and a link, and the grounding rule for a model's draft — a sentence is kept only when
every id it cites is one of the gathered facts (a sentence citing none is dropped too).

Pure: the use case gathers the facts; this module names the meetings, parses `/brief`, builds
the suggested agenda and decisions from the facts, and filters a draft.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from domain.commands import CommandError

Meeting = Literal["weekly", "triangle"]
MEETING_WORDS: dict[str, Meeting] = {
    "weekly": "weekly",
    "presentation": "weekly",
    "friday": "weekly",
    "client": "weekly",
    "triangle": "triangle",
    "sync": "triangle",
    "triangle-sync": "triangle",
    "internal": "triangle",
}
MEETING_TITLES: dict[Meeting, str] = {
    "weekly": "weekly presentation",
    "triangle": "Triangle Sync",
}
# The cadence each automatic brief comes with (domain/cadences.yaml ids) and how long before
# it: the weekly presentation's brief with Thursday's preparation nudge, the Triangle Sync's
# two hours before the meeting.
MEETING_CADENCES: dict[str, tuple[Meeting, timedelta]] = {
    "thursday-prep": ("weekly", timedelta(0)),
    "triangle-sync": ("triangle", timedelta(hours=2)),
}
BRIEF_USAGE = (
    "Usage: `/brief acme [weekly|triangle]` — the brief for the client's weekly presentation "
    "(default) or its Triangle Sync."
)

Section = Literal[
    "touchpoints", "asks", "flags", "done", "progress", "blocked", "slipped", "merged",
    "health", "hook", "story", "sources",
]  # fmt: skip
SECTION_ORDER: tuple[Section, ...] = (
    "health",
    "hook",
    "touchpoints",
    "asks",
    "flags",
    "done",
    "merged",
    "progress",
    "blocked",
    "slipped",
    "story",
    "sources",
)

_CITATION = re.compile(r"\[([^\[\]]{1,80})\]")


@dataclass(frozen=True)
class Fact:
    id: str  # "LIN-142", "acme/analytics#88", "tp12", "flag7", "health", "hook", "story1"
    section: Section
    text: str
    link: str | None = None


@dataclass
class BriefFacts:
    client_name: str
    meeting: Meeting
    facts: list[Fact] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # "Linear unreachable since 10:40"

    def ids(self) -> set[str]:
        return {f.id for f in self.facts}

    def of(self, section: Section) -> list[Fact]:
        return [f for f in self.facts if f.section == section]

    def by_id(self) -> dict[str, Fact]:
        return {f.id: f for f in self.facts}


@dataclass(frozen=True)
class BriefRequest:
    slug: str
    meeting: Meeting = "weekly"


def parse_brief(text: str) -> BriefRequest:
    words = text.split()
    if not words:
        raise CommandError("Name the client.")
    if len(words) > 2:
        raise CommandError(f"Too many words: `{text.strip()}`.")
    slug = words[0].lower()
    if len(words) == 1:
        return BriefRequest(slug)
    meeting = MEETING_WORDS.get(words[1].lower())
    if meeting is None:
        raise CommandError(f"Unknown meeting `{words[1]}`: use weekly or triangle.")
    return BriefRequest(slug, meeting)


@dataclass(frozen=True)
class Sentence:
    text: str
    ids: tuple[str, ...]


def cited(text: str) -> tuple[str, ...]:
    """The ids a sentence cites inline: `[LIN-142]`, `[acme/analytics#88, tp12]`."""
    out: list[str] = []
    for group in _CITATION.findall(text):
        out.extend(part.strip() for part in group.split(",") if part.strip())
    return tuple(out)


def grounded(
    sentences: Iterable[Sentence], known: set[str]
) -> tuple[list[Sentence], list[Sentence]]:
    """(kept, dropped): a sentence is kept when it cites at least one id, inline or listed,
    and every id it cites is among the gathered facts."""
    kept: list[Sentence] = []
    dropped: list[Sentence] = []
    for s in sentences:
        ids = tuple(dict.fromkeys([*s.ids, *cited(s.text)]))
        if ids and all(i in known for i in ids):
            kept.append(Sentence(s.text, ids))
        else:
            dropped.append(Sentence(s.text, ids))
    return kept, dropped


@dataclass
class Brief:
    facts: BriefFacts
    summary: list[Sentence]
    drafted_by: Literal["model", "template"]
    dropped: list[Sentence] = field(default_factory=list)


def agenda(facts: BriefFacts) -> list[tuple[str, tuple[str, ...]]]:
    """The suggested agenda, each item with the facts it rests on."""
    items: list[tuple[str, tuple[str, ...]]] = []
    done = [f.id for f in facts.of("done")] + [f.id for f in facts.of("merged")]
    if facts.meeting == "triangle":
        story = [f.id for f in facts.of("story")]
        if story:
            items.append(("Set the story and the board right", tuple(story)))
        blocked = [f.id for f in facts.of("blocked")]
        if blocked:
            items.append(("Unblock the blocked work", tuple(blocked)))
        slipped = [f.id for f in facts.of("slipped")]
        if slipped:
            items.append(("Agree new dates for what slipped", tuple(slipped)))
        if done:
            items.append(("Pick the win to present on Friday", tuple(done)))
        return items
    if done:
        items.append(("The week's wins and what shipped", tuple(done)))
    progress = [f.id for f in facts.of("progress")]
    if progress:
        items.append(("What is in progress and when it lands", tuple(progress)))
    asks = [f.id for f in facts.of("asks")]
    if asks:
        items.append(("Answer the client's open questions", tuple(asks)))
    blocked = [f.id for f in facts.of("blocked")] + [f.id for f in facts.of("slipped")]
    if blocked:
        items.append(("Risks: blocked and late work", tuple(blocked)))
    return items


def decisions(facts: BriefFacts) -> list[tuple[str, tuple[str, ...]]]:
    """Decisions the meeting must take: blocked work, slipped dates, open flags."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for f in facts.of("blocked"):
        out.append((f"How to unblock {f.id}", (f.id,)))
    for f in facts.of("slipped"):
        out.append((f"A new date for {f.id}", (f.id,)))
    for f in facts.of("flags"):
        out.append((f"What to do about {f.id}", (f.id,)))
    return out


def order(facts: Sequence[Fact]) -> list[Fact]:
    rank = {s: n for n, s in enumerate(SECTION_ORDER)}
    return sorted(facts, key=lambda f: rank[f.section])
