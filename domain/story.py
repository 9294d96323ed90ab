"""Story vs board (docs/process.md, "Story vs board"): what the team told the client — updates,
wins, pulse "update" lines, messages in the client channel — against the delivery board.

A *claim* is a line of the story that says something is done/shipped or on track. A claim is
about the board items it names (`LIN-142`, `PR #88`) or whose title (an issue's, a
milestone's) it repeats in at least two significant words. The mismatch kinds:

- `told_done`: the client was told it is done/shipped; a matching issue is not Done (and its
  pull request, when there is one, is unmerged).
- `told_on_track`: the client was told it is on track; a matching issue or milestone is past
  its due date and not done.
- `blocked_unmentioned`: an issue is blocked and the story of the window never names it.
- `milestone_slipped`: a milestone's target date passed with issues still open, and the story
  of the window never names it.
- `milestone_name`: a milestone whose name means nothing to the client ("Sprint 12", "M2",
  "Phase 3", "v2.1", "Misc").

Pure: the caller passes the story, the board and `today`. Each mismatch has a stable `key`
(kind + items + claim), so a nudge is sent once per mismatch.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from domain.delivery import Board, Issue, Milestone, PullRequest

MismatchKind = Literal[
    "told_done", "told_on_track", "blocked_unmentioned", "milestone_slipped", "milestone_name"
]
KINDS: tuple[MismatchKind, ...] = (
    "told_done",
    "told_on_track",
    "blocked_unmentioned",
    "milestone_slipped",
    "milestone_name",
)
StorySource = Literal["update", "win", "pulse", "message"]
ClaimKind = Literal["done", "on_track"]

WINDOW_DAYS = 14

_DONE = re.compile(
    r"\b(shipped|ship(?:ped)? it|released|launched|deployed|went live|is live|are live|"
    r"now live|live now|completed|complete|finished|delivered|done|merged|rolled out)\b",
    re.I,
)
_ON_TRACK = re.compile(
    r"\b(on track|on schedule|on time|will (?:ship|land|deliver|release|be (?:done|ready|live))|"
    r"ready by|lands? (?:on|by|next)|ships? (?:on|by|next)|due (?:on|by))\b",
    re.I,
)
_NEGATED = re.compile(r"\b(not|n't|isn't|aren't|never|almost|nearly|once|until|when)\b", re.I)
_PR_REF = re.compile(r"(?:\bPR\s*#?|#)(\d{1,6})\b", re.I)
_ISSUE_REF = re.compile(r"\b([A-Za-z][A-Za-z0-9]{0,9})-(\d{1,6})\b")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "have",
        "has",
        "into",
        "our",
        "your",
        "their",
        "them",
        "they",
        "will",
        "were",
        "been",
        "also",
        "just",
        "more",
        "less",
        "than",
        "then",
        "when",
        "what",
        "which",
        "while",
        "about",
        "after",
        "before",
        "over",
        "under",
        "team",
        "client",
        "update",
        "week",
        "today",
        "tomorrow",
        "yesterday",
        "done",
        "shipped",
        "released",
        "live",
        "ready",
        "track",
    ]
)
# Milestone names that say nothing to the client.
_MEANINGLESS = re.compile(
    r"^\s*(?:(?:sprint|iteration|cycle|milestone|phase|stage|release|m|ms|p|q[1-4])[\s._-]*"
    r"\d+(?:\.\d+)*|v?\d+(?:\.\d+)+|misc(?:ellaneous)?|backlog|todo|tbd|wip|other|general|"
    r"stuff|tasks?|bugs?|fixes|tech(?:nical)? debt|chores?)\s*$",
    re.I,
)


@dataclass(frozen=True)
class StoryLine:
    """One thing the team told the client."""

    source: StorySource
    ref: str  # "win:12", "touchpoint:40", "pulse:3"
    text: str
    at: datetime
    link: str | None = None


@dataclass(frozen=True)
class Claim:
    line: StoryLine
    kind: ClaimKind


@dataclass(frozen=True)
class Mismatch:
    kind: MismatchKind
    key: str
    claim: Claim | None = None
    issues: tuple[Issue, ...] = ()
    pulls: tuple[PullRequest, ...] = ()
    milestone: Milestone | None = None

    @property
    def refs(self) -> tuple[str, ...]:
        out = [i.identifier for i in self.issues] + [p.ref for p in self.pulls]
        if self.milestone is not None:
            out.append(f"milestone:{self.milestone.name}")
        return tuple(out)


@dataclass
class StoryCheck:
    mismatches: list[Mismatch] = field(default_factory=list)
    claims: int = 0

    def of(self, kind: MismatchKind) -> list[Mismatch]:
        return [m for m in self.mismatches if m.kind == kind]


def words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if len(w) >= 4 and w not in _STOP)


_title_words = functools.lru_cache(maxsize=8192)(words)


def claims_of(line: StoryLine) -> list[Claim]:
    """The claims a line makes: per sentence, done before on-track; a negated one is none
    ("not live yet", "almost done")."""
    out: list[Claim] = []
    for sentence in re.split(r"(?<=[.!?;\n])\s+", line.text):
        if _NEGATED.search(sentence):
            continue
        if _DONE.search(sentence):
            out.append(
                Claim(StoryLine(line.source, line.ref, sentence, line.at, line.link), "done")
            )
        elif _ON_TRACK.search(sentence):
            out.append(
                Claim(StoryLine(line.source, line.ref, sentence, line.at, line.link), "on_track")
            )
    return out


@dataclass(frozen=True)
class _Text:
    """A text read once: its significant words, the issue ids and PR numbers it names."""

    low: str
    words: frozenset[str]
    ids: frozenset[str]
    prs: frozenset[int]

    @classmethod
    def of(cls, text: str) -> _Text:
        return cls(
            text.lower(),
            words(text),
            frozenset(f"{a.upper()}-{n}" for a, n in _ISSUE_REF.findall(text)),
            frozenset(int(n) for n in _PR_REF.findall(text)),
        )

    def repeats(self, title: str) -> bool:
        """The text repeats the title: at least two of its significant words (one, for a
        title with a single significant word)."""
        title_words = _title_words(title)
        if not title_words:
            return False
        return len(self.words & title_words) >= min(2, len(title_words))

    def names(self, issue: Issue, board: Board) -> bool:
        if issue.identifier in self.ids or self.repeats(issue.title):
            return True
        return bool(self.prs) and any(
            p.number in self.prs for p in board.pulls_for(issue.identifier)
        )


def issues_named(text: str, board: Board) -> list[Issue]:
    t = _Text.of(text)
    return [i for i in board.issues if t.names(i, board)]


def milestones_named(text: str, board: Board) -> list[Milestone]:
    t = _Text.of(text)
    return [m for m in board.milestones if m.name.lower() in t.low or t.repeats(m.name)]


def _day(at: datetime) -> str:
    return at.date().isoformat()


def meaningless(name: str) -> bool:
    return bool(_MEANINGLESS.match(name))


def check(
    story: Sequence[StoryLine], board: Board, today: date, *, window_days: int = WINDOW_DAYS
) -> StoryCheck:
    """Every mismatch between the story and the board, in a stable order."""
    result = StoryCheck()
    lines = sorted(story, key=lambda s: s.at)
    told = " \n".join(s.text for s in lines)
    seen: set[str] = set()

    def add(m: Mismatch) -> None:
        if m.key not in seen:
            seen.add(m.key)
            result.mismatches.append(m)

    for line in lines:
        for claim in claims_of(line):
            result.claims += 1
            named = issues_named(claim.line.text, board)
            if claim.kind == "done":
                open_ = tuple(i for i in named if not i.done)
                if open_:
                    pulls = tuple(
                        p for i in open_ for p in board.pulls_for(i.identifier) if not p.merged
                    )
                    ids = ",".join(i.identifier for i in open_)
                    add(Mismatch("told_done", f"told_done:{ids}:{line.ref}", claim, open_, pulls))
            else:
                late = tuple(i for i in named if i.overdue(today))
                if late:
                    ids = ",".join(i.identifier for i in late)
                    add(Mismatch("told_on_track", f"told_on_track:{ids}:{line.ref}", claim, late))
                for m in milestones_named(claim.line.text, board):
                    open_m = [i for i in board.milestone_issues(m.name) if not i.done]
                    if m.target is not None and m.target < today and open_m:
                        add(
                            Mismatch(
                                "told_on_track",
                                f"told_on_track:milestone:{m.name}:{line.ref}",
                                claim,
                                tuple(open_m),
                                milestone=m,
                            )
                        )

    all_told = _Text.of(told)
    for issue in board.issues:
        if issue.blocked and not issue.done and not all_told.names(issue, board):
            add(Mismatch("blocked_unmentioned", f"blocked:{issue.identifier}", issues=(issue,)))

    for m in board.milestones:
        open_m = [i for i in board.milestone_issues(m.name) if not i.done]
        said = m.name.lower() in all_told.low or all_told.repeats(m.name)
        if m.target is not None and m.target < today and open_m and not said:
            add(
                Mismatch(
                    "milestone_slipped",
                    f"slipped:{m.name}:{m.target.isoformat()}",
                    issues=tuple(open_m),
                    milestone=m,
                )
            )
        if meaningless(m.name):
            add(Mismatch("milestone_name", f"name:{m.name}", milestone=m))
    return result
