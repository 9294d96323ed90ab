"""Connectors to the delivery board (docs/process.md, "Linear and GitHub"): Linear's GraphQL
API and GitHub's REST API, each optional (configured by its token), read with httpx and a retry
loop that honours rate limits, into `domain.delivery` records.

`Connectors.from_env(...)` builds the ones whose token is set; `fetch(sources)` answers one
client's board per source, or raises `Unreachable` (failing soft is the caller's part: the
cache keeps the last good fetch and notes since when the source is unreachable)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from connectors.errors import RetryPolicy, Sleep, Unreachable
from domain.delivery import ConnectorSources, Fetched, Source

if TYPE_CHECKING:
    import httpx

    from connectors import github, linear

__all__ = ["Connectors", "RetryPolicy", "Unreachable"]


@dataclass
class Connectors:
    linear: linear.LinearClient | None = None
    github: github.GitHubClient | None = None

    @classmethod
    def build(
        cls,
        *,
        linear_key: str | None,
        github_token: str | None,
        linear_url: str | None = None,
        github_url: str | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        transport: Callable[[], httpx.BaseTransport] | None = None,
    ) -> Connectors:
        pause = sleep or time.sleep
        lin = gh = None
        if linear_key or github_token:  # the HTTP client loads only when a board is configured
            from connectors import github, linear
            from connectors.http import Api
        if linear_key:
            lin = linear.LinearClient(
                Api(
                    "linear",
                    linear_url or linear.DEFAULT_URL,
                    {"Authorization": linear_key, "Content-Type": "application/json"},
                    transport=transport() if transport else None,
                    policy=policy,
                    sleep=pause,
                )
            )
        if github_token:
            gh = github.GitHubClient(
                Api(
                    "github",
                    github_url or github.DEFAULT_URL,
                    {
                        "Authorization": f"Bearer {github_token}",
                        "Accept": "application/vnd.github+json",
                        "X-GitHub-Api-Version": github.API_VERSION,
                    },
                    transport=transport() if transport else None,
                    policy=policy,
                    sleep=pause,
                )
            )
        return cls(linear=lin, github=gh)

    def enabled(self) -> tuple[Source, ...]:
        out: list[Source] = []
        if self.linear is not None:
            out.append("linear")
        if self.github is not None:
            out.append("github")
        return tuple(out)

    def fetch(
        self, source: Source, sources: ConnectorSources, now: datetime | None = None
    ) -> Fetched:
        """One source's board for one client (Unreachable when it cannot be read); `now` (the
        caller's clock) bounds how far back pull requests are read."""
        if source == "linear":
            if self.linear is None or sources.linear is None:
                raise Unreachable("linear", "not configured")
            return self.linear.fetch(sources.linear)
        if self.github is None or not sources.github:
            raise Unreachable("github", "not configured")
        return self.github.fetch(sources.github, now)

    def close(self) -> None:
        for c in (self.linear, self.github):
            if c is not None:
                c.api.close()
