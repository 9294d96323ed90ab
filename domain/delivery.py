"""What the delivery board says (docs/process.md, "Linear and GitHub"): a client's Linear
issues and milestones and its repositories' pull requests and releases, as fetched into the
local cache. Pure records and small rules; the connectors build them, the cache stores them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Source = Literal["linear", "github"]
SOURCES: tuple[Source, ...] = ("linear", "github")

# Linear's workflow state types (https://linear.app/docs/configuring-workflows).
StateType = Literal["triage", "backlog", "unstarted", "started", "completed", "canceled"]

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# "LIN-142" in a PR title, body or branch name ("dana/lin-142-attribution").
ISSUE_ID = re.compile(r"\b([A-Za-z][A-Za-z0-9]{0,9})-(\d{1,6})\b")


def check_repos(value: list[str]) -> list[str]:
    for repo in value:
        if not _REPO.match(repo):
            raise ValueError(f'"{repo}" is not a repository: write it as owner/repo')
    return value


class LinearSource(BaseModel):
    """`linear: {team: KEY, project: ...}` on a client in the portfolio file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    team: str = Field(min_length=1, max_length=16)
    project: str | None = None


class ConnectorSources(BaseModel):
    """A client's board: its Linear team (and project) and its GitHub repositories."""

    linear: LinearSource | None = None
    github: list[str] = Field(default_factory=list)

    _repos = field_validator("github")(check_repos)

    def configured(self) -> tuple[Source, ...]:
        out: list[Source] = []
        if self.linear is not None:
            out.append("linear")
        if self.github:
            out.append("github")
        return tuple(out)


@dataclass(frozen=True)
class Issue:
    identifier: str  # "LIN-142"
    title: str
    url: str
    state: str  # the team's state name: "In Review"
    state_type: str  # StateType
    assignee: str | None = None
    due: date | None = None
    labels: tuple[str, ...] = ()
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    milestone: str | None = None

    @property
    def done(self) -> bool:
        return self.state_type in ("completed", "canceled")

    @property
    def blocked(self) -> bool:
        return "blocked" in self.state.lower() or any("blocked" in x.lower() for x in self.labels)

    def overdue(self, today: date) -> bool:
        return self.due is not None and self.due < today and not self.done


@dataclass(frozen=True)
class Milestone:
    name: str
    target: date | None = None
    url: str | None = None


@dataclass(frozen=True)
class PullRequest:
    repo: str
    number: int
    title: str
    url: str
    state: str  # open | closed
    merged_at: datetime | None = None
    updated_at: datetime | None = None
    draft: bool = False
    branch: str = ""
    body: str = ""

    @property
    def ref(self) -> str:
        return f"{self.repo}#{self.number}"

    @property
    def merged(self) -> bool:
        return self.merged_at is not None

    def issue_ids(self) -> set[str]:
        """The Linear identifiers the PR names (title, branch, body), upper-cased."""
        text = f"{self.title} {self.branch} {self.body}"
        return {f"{a.upper()}-{n}" for a, n in ISSUE_ID.findall(text)}


@dataclass(frozen=True)
class Release:
    repo: str
    tag: str
    name: str
    url: str
    published_at: datetime | None = None


@dataclass(frozen=True)
class FetchState:
    """How fresh the cache is for one client and source."""

    source: str
    fetched_at: datetime | None  # the last successful fetch
    failing_since: datetime | None = None  # the first failure since then (None: healthy)
    error: str | None = None

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


@dataclass
class Board:
    """A client's cached board: what a brief, the story check and the reports read."""

    issues: list[Issue] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    pulls: list[PullRequest] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    states: dict[str, FetchState] = field(default_factory=dict)
    _by_issue: dict[str, list[PullRequest]] | None = field(default=None, repr=False)

    def issue(self, identifier: str) -> Issue | None:
        for i in self.issues:
            if i.identifier == identifier:
                return i
        return None

    def pulls_for(self, identifier: str) -> list[PullRequest]:
        """The pull requests that name the issue (indexed once: a board is read, not edited)."""
        if self._by_issue is None:
            index: dict[str, list[PullRequest]] = {}
            for p in self.pulls:
                for ident in p.issue_ids():
                    index.setdefault(ident, []).append(p)
            self._by_issue = index
        return self._by_issue.get(identifier, [])

    def milestone_issues(self, name: str) -> list[Issue]:
        key = name.strip().lower()
        return [i for i in self.issues if (i.milestone or "").strip().lower() == key]


@dataclass(frozen=True)
class Fetched:
    """One source's answer for one client: what replaces its part of the cache."""

    source: Source
    issues: Sequence[Issue] = ()
    milestones: Sequence[Milestone] = ()
    pulls: Sequence[PullRequest] = ()
    releases: Sequence[Release] = ()
