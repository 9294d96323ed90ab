"""Linear over its GraphQL API (https://developers.linear.app/docs/graphql/working-with-the-graphql-api):
the team's project milestones and the issues of the team (and project, when configured) with
state, assignee, due date, labels and updated-at, read page by page with Relay cursors
(`first`/`after`, `pageInfo { hasNextPage endCursor }`).

A GraphQL POST is one JSON body; httpx carries it so the shared retry loop sees the status and
the rate-limit headers (Linear answers a rate limit with HTTP 400/429 and a `RATELIMITED` error
code, and `X-RateLimit-Requests-*` headers).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from connectors.http import Api, Unreachable
from domain.delivery import Fetched, Issue, LinearSource, Milestone

DEFAULT_URL = "https://api.linear.app/graphql"
PAGE_SIZE = 100
MAX_PAGES = 50  # 5,000 issues: a board bigger than that is not one client's

PROJECT_QUERY = """
query Project($team: String!, $project: String!) {
  projects(first: 5, filter: {name: {eq: $project}, accessibleTeams: {key: {eq: $team}}}) {
    nodes { id name url
      projectMilestones(first: 100) { nodes { id name targetDate } } }
  }
}
"""

ISSUES_QUERY = """
query Issues($filter: IssueFilter, $first: Int!, $after: String) {
  issues(first: $first, after: $after, filter: $filter, orderBy: updatedAt) {
    nodes {
      identifier title url dueDate updatedAt completedAt
      state { name type }
      assignee { name }
      labels { nodes { name } }
      projectMilestone { name }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def issue_of(node: dict[str, Any]) -> Issue:
    state = node.get("state") or {}
    return Issue(
        identifier=str(node["identifier"]),
        title=str(node.get("title") or ""),
        url=str(node.get("url") or ""),
        state=str(state.get("name") or ""),
        state_type=str(state.get("type") or ""),
        assignee=(node.get("assignee") or {}).get("name"),
        due=_date(node.get("dueDate")),
        labels=tuple(str(x["name"]) for x in (node.get("labels") or {}).get("nodes", [])),
        updated_at=_time(node.get("updatedAt")),
        completed_at=_time(node.get("completedAt")),
        milestone=(node.get("projectMilestone") or {}).get("name"),
    )


class LinearClient:
    def __init__(self, api: Api):
        self.api = api

    def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.api.request("POST", "", json={"query": query, "variables": variables})
        body = response.json()
        errors = body.get("errors") or []
        if errors:
            codes = {str((e.get("extensions") or {}).get("code", "")) for e in errors}
            if "RATELIMITED" in codes:
                raise Unreachable("linear", "rate-limited (RATELIMITED)")
            raise Unreachable("linear", f"query refused: {str(errors[0].get('message'))[:120]}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise Unreachable("linear", "answer without data")
        return data

    def milestones(self, source: LinearSource) -> list[Milestone]:
        if not source.project:
            return []
        data = self._query(PROJECT_QUERY, {"team": source.team, "project": source.project})
        out: list[Milestone] = []
        for project in data["projects"]["nodes"]:
            for m in project.get("projectMilestones", {}).get("nodes", []):
                out.append(
                    Milestone(
                        name=str(m["name"]),
                        target=_date(m.get("targetDate")),
                        url=project.get("url"),
                    )
                )
        return out

    def issues(self, source: LinearSource) -> list[Issue]:
        flt: dict[str, Any] = {"team": {"key": {"eq": source.team}}}
        if source.project:
            flt["project"] = {"name": {"eq": source.project}}
        out: list[Issue] = []
        after: str | None = None
        for _ in range(MAX_PAGES):
            data = self._query(ISSUES_QUERY, {"filter": flt, "first": PAGE_SIZE, "after": after})
            page = data["issues"]
            out.extend(issue_of(n) for n in page["nodes"])
            info = page["pageInfo"]
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
        return out

    def fetch(self, source: LinearSource) -> Fetched:
        return Fetched(
            source="linear", milestones=self.milestones(source), issues=self.issues(source)
        )
