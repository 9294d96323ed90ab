"""Closing a phase (docs/process.md, "Closing a phase"): a milestone closes when every Linear
issue in it is Done (or canceled); then the completion summary is drafted for the client in
the Status / Risks / Asks / Next frame, to edit and send.

Pure: the caller passes the cached board and `today`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.commands import CommandError, split_words, suggest
from domain.delivery import Board, Issue, Milestone, PullRequest

MILESTONE_USAGE = (
    'Usage: `/milestone acme "Attribution v2" close` — checks that every Linear issue of the '
    "milestone is Done, then drafts the completion summary for the client to edit and send."
)


@dataclass(frozen=True)
class MilestoneRequest:
    slug: str
    name: str
    action: str = "close"


def parse_milestone(text: str) -> MilestoneRequest:
    words = split_words(text)
    if len(words) < 3:
        raise CommandError("Name the client, the milestone (in quotes) and `close`.")
    if words[-1].lower() != "close":
        raise CommandError(f"Unknown action `{words[-1]}`: the action is `close`.")
    name = " ".join(words[1:-1]).strip()
    if not name:
        raise CommandError("Name the milestone, in quotes.")
    return MilestoneRequest(words[0].lower(), name)


@dataclass(frozen=True)
class Closing:
    milestone: Milestone
    issues: tuple[Issue, ...]  # every issue of the milestone
    open: tuple[Issue, ...]  # not Done: the close is refused while any is left
    pulls: tuple[PullRequest, ...]  # merged work that names the milestone's issues
    unmerged: tuple[PullRequest, ...]
    next_milestone: Milestone | None
    risks: tuple[Issue, ...]  # blocked or past due outside this milestone

    @property
    def closable(self) -> bool:
        return bool(self.issues) and not self.open


class UnknownMilestone(LookupError):
    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = known
        self.guess = suggest(name, [k.lower() for k in known])
        super().__init__(name)


def find(board: Board, name: str) -> Milestone:
    key = name.strip().lower()
    for m in board.milestones:
        if m.name.strip().lower() == key:
            return m
    # A milestone only the issues name (no project milestones fetched) still counts.
    for i in board.issues:
        if (i.milestone or "").strip().lower() == key and i.milestone:
            return Milestone(i.milestone)
    known = sorted(
        {m.name for m in board.milestones} | {i.milestone for i in board.issues if i.milestone}
    )
    raise UnknownMilestone(name, known)


def closing(board: Board, name: str, today: date) -> Closing:
    m = find(board, name)
    issues = tuple(board.milestone_issues(m.name))
    ids = {i.identifier for i in issues}
    pulls = {p.ref: p for i in issues for p in board.pulls_for(i.identifier)}
    later = sorted(
        (x for x in board.milestones if x.target and x.target >= today and x.name != m.name),
        key=lambda x: x.target or today,
    )
    risks = tuple(
        i
        for i in board.issues
        if i.identifier not in ids and not i.done and (i.blocked or i.overdue(today))
    )
    return Closing(
        milestone=m,
        issues=issues,
        open=tuple(i for i in issues if not i.done),
        pulls=tuple(p for p in pulls.values() if p.merged),
        unmerged=tuple(p for p in pulls.values() if not p.merged and p.state == "open"),
        next_milestone=later[0] if later else None,
        risks=risks,
    )
