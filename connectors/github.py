"""GitHub over its REST API (https://docs.github.com/en/rest): the pull requests and releases
of a client's repositories, page by page following the `Link: <…>; rel="next"` header, with
the documented headers (`Accept: application/vnd.github+json`, `X-GitHub-Api-Version`).
Rate limits (`x-ratelimit-remaining`/`x-ratelimit-reset`, `Retry-After` on the secondary
limit) are honoured by the shared retry loop in connectors/http.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.http import Api
from domain.delivery import Fetched, PullRequest, Release

DEFAULT_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 10  # the 1,000 most recently updated pull requests per repository
HORIZON = timedelta(days=200)  # pull requests untouched for longer are not read (a QBR's past)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def pull_of(repo: str, item: dict[str, Any]) -> PullRequest:
    return PullRequest(
        repo=repo,
        number=int(item["number"]),
        title=str(item.get("title") or ""),
        url=str(item.get("html_url") or ""),
        state=str(item.get("state") or ""),
        merged_at=_time(item.get("merged_at")),
        updated_at=_time(item.get("updated_at")),
        draft=bool(item.get("draft")),
        branch=str((item.get("head") or {}).get("ref") or ""),
        body=str(item.get("body") or "")[:2000],
    )


def release_of(repo: str, item: dict[str, Any]) -> Release:
    return Release(
        repo=repo,
        tag=str(item.get("tag_name") or ""),
        name=str(item.get("name") or item.get("tag_name") or ""),
        url=str(item.get("html_url") or ""),
        published_at=_time(item.get("published_at")),
    )


class GitHubClient:
    def __init__(self, api: Api):
        self.api = api

    def _pages(
        self, path: str, params: dict[str, Any], older: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Every page, following `Link: rel="next"`; with `older`, stop after the page whose
        last item was updated before it (the list is sorted by update, newest first)."""
        items: list[dict[str, Any]] = []
        url: str | None = path
        query: dict[str, Any] | None = params
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self.api.request("GET", url, params=query)
            page = response.json()
            if isinstance(page, list):
                items.extend(page)
            nxt = response.links.get("next", {}).get("url")
            url, query = (nxt, None) if nxt else (None, None)
            last = _time(page[-1].get("updated_at")) if isinstance(page, list) and page else None
            if older is not None and last is not None and last < older:
                break
        return items

    def pulls(self, repo: str, now: datetime | None = None) -> list[PullRequest]:
        older = (now or datetime.now(UTC)) - HORIZON
        raw = self._pages(
            f"/repos/{repo}/pulls",
            {"state": "all", "sort": "updated", "direction": "desc", "per_page": PER_PAGE},
            older,
        )
        pulls = [pull_of(repo, item) for item in raw]
        return [p for p in pulls if p.updated_at is None or p.updated_at >= older]

    def releases(self, repo: str) -> list[Release]:
        return [
            release_of(repo, item)
            for item in self._pages(f"/repos/{repo}/releases", {"per_page": PER_PAGE})
        ]

    def fetch(self, repos: Sequence[str], now: datetime | None = None) -> Fetched:
        pulls: list[PullRequest] = []
        releases: list[Release] = []
        for repo in repos:
            pulls.extend(self.pulls(repo, now))
            releases.extend(self.releases(repo))
        return Fetched(source="github", pulls=pulls, releases=releases)
