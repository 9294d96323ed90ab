"""Local emulators of the Linear GraphQL API and the GitHub REST API, for the tests, the bench
and `make demo`: they answer with the documented response shapes — Linear's Relay connections
(`nodes`, `pageInfo { hasNextPage endCursor }`) and GitHub's JSON arrays with a `Link` header
(`rel="next"`, `rel="last"`) and `x-ratelimit-*` headers —, check the token, and can be told to
answer 429 with `Retry-After` (or GitHub's 403 with `x-ratelimit-remaining: 0`) or 5xx.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlparse


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class _Fault:
    status: int
    headers: dict[str, str]
    times: int
    body: Any = None


@dataclass
class _State:
    requests: list[Request] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)


class _JsonServer:
    """A loopback HTTP server answering JSON, recording requests, with queued faults."""

    def __init__(self, token: str, host: str = "127.0.0.1", port: int = 0):
        self.token = token
        self.down = False  # drop every connection without an answer (the API is unreachable)
        self.state = _State()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                outer._handle(self, "GET")

            def do_POST(self) -> None:
                outer._handle(self, "POST")

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(
        self,
        status: int = 429,
        *,
        retry_after: int | None = 1,
        times: int = 1,
        body: Any = None,
        **headers: str,
    ) -> None:
        h = {k.replace("_", "-"): v for k, v in headers.items()}
        if retry_after is not None:
            h["Retry-After"] = str(retry_after)
        with self._lock:
            self.state.faults.append(_Fault(status, h, times, body))

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self.state.requests)

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            if not self.state.faults:
                return None
            fault = self.state.faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self.state.faults.pop(0)
            return fault

    def go_down(self, down: bool = True) -> None:
        self.down = down

    def _handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urlparse(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        headers = {k.lower(): v for k, v in req.headers.items()}
        with self._lock:
            self.state.requests.append(Request(method, parsed.path, query, body, headers))
        if self.down:
            req.close_connection = True
            return
        fault = self._take_fault()
        if fault is not None:
            body = fault.body if fault.body is not None else {"message": "rate limited"}
            self._send(req, fault.status, body, fault.headers)
            return
        if not self._authorized(headers.get("authorization", "")):
            self._send(req, 401, self._unauthorized(), {})
            return
        status, payload, extra = self._answer(method, parsed.path, query, body)
        self._send(req, status, payload, extra)

    def _send(
        self, req: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str]
    ) -> None:
        data = json.dumps(payload).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json; charset=utf-8")
        req.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            req.send_header(k, v)
        req.end_headers()
        req.wfile.write(data)

    def _authorized(self, header: str) -> bool:
        raise NotImplementedError

    def _unauthorized(self) -> Any:
        return {"message": "Bad credentials"}

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError


# -- Linear ----------------------------------------------------------------------------------------


def _cursor(index: int) -> str:
    return base64.b64encode(f"i:{index}".encode()).decode()


def _index(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.b64decode(cursor).decode().split(":", 1)[1])


class LinearEmulator(_JsonServer):
    """POST / with `{"query", "variables"}`: `projects` (with `projectMilestones`) and `issues`
    (filtered by team key and project name, paginated with `first`/`after`)."""

    def __init__(self, token: str = "lin_api_test", **kwargs: Any):
        super().__init__(token, **kwargs)
        self.teams: dict[str, str] = {}  # key -> name
        self.projects: list[dict[str, Any]] = []  # {"name", "team", "milestones": [...]}
        self.issues: list[dict[str, Any]] = []  # GraphQL Issue nodes + "_team", "_project"

    def _authorized(self, header: str) -> bool:
        # Linear takes a personal API key as the bare Authorization header (or Bearer OAuth).
        return header in (self.token, f"Bearer {self.token}")

    def _unauthorized(self) -> Any:
        return {
            "errors": [
                {
                    "message": "Authentication required, not authenticated",
                    "extensions": {"code": "AUTHENTICATION_ERROR"},
                }
            ]
        }

    def add_project(self, team: str, name: str, milestones: list[tuple[str, str | None]]) -> None:
        self.teams.setdefault(team, team)
        self.projects.append(
            {
                "team": team,
                "name": name,
                "milestones": [{"name": n, "targetDate": d} for n, d in milestones],
            }
        )

    def add_issue(
        self,
        team: str,
        number: int,
        title: str,
        *,
        state: str = "Todo",
        state_type: str = "unstarted",
        project: str | None = None,
        milestone: str | None = None,
        due: str | None = None,
        labels: tuple[str, ...] = (),
        assignee: str | None = None,
        updated: str = "2026-11-18T15:00:00.000Z",
        completed: str | None = None,
    ) -> str:
        identifier = f"{team}-{number}"
        self.issues.append(
            {
                "identifier": identifier,
                "title": title,
                "url": f"https://linear.app/acme/issue/{identifier.lower()}",
                "dueDate": due,
                "updatedAt": updated,
                "completedAt": completed,
                "state": {"name": state, "type": state_type},
                "assignee": {"name": assignee} if assignee else None,
                "labels": {"nodes": [{"name": x} for x in labels]},
                "projectMilestone": {"name": milestone} if milestone else None,
                "_team": team,
                "_project": project,
            }
        )
        return identifier

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        text = str(body.get("query") or "")
        variables = body.get("variables") or {}
        headers = {"X-RateLimit-Requests-Limit": "1500", "X-RateLimit-Requests-Remaining": "1499"}
        if method != "POST" or not text:
            return 400, {"errors": [{"message": "Must provide query string."}]}, headers
        if "projects(" in text:
            nodes = [
                {
                    "id": f"p{n}",
                    "name": p["name"],
                    "url": f"https://linear.app/acme/project/{p['name'].lower().replace(' ', '-')}",
                    "projectMilestones": {"nodes": p["milestones"]},
                }
                for n, p in enumerate(self.projects)
                if p["name"] == variables.get("project") and p["team"] == variables.get("team")
            ]
            return 200, {"data": {"projects": {"nodes": nodes}}}, headers
        if "issues(" in text:
            flt = variables.get("filter") or {}
            team = ((flt.get("team") or {}).get("key") or {}).get("eq")
            project = ((flt.get("project") or {}).get("name") or {}).get("eq")
            chosen = [
                i
                for i in self.issues
                if (team is None or i["_team"] == team)
                and (project is None or i["_project"] == project)
            ]
            first = min(int(variables.get("first") or 50), 250)
            start = _index(variables.get("after"))
            page = chosen[start : start + first]
            end = start + len(page)
            nodes = [{k: v for k, v in i.items() if not k.startswith("_")} for i in page]
            info = {"hasNextPage": end < len(chosen), "endCursor": _cursor(end) if page else None}
            return 200, {"data": {"issues": {"nodes": nodes, "pageInfo": info}}}, headers
        return (
            400,
            {
                "errors": [
                    {
                        "message": "Unknown query",
                        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
                    }
                ]
            },
            headers,
        )


# -- GitHub ----------------------------------------------------------------------------------------


class GitHubEmulator(_JsonServer):
    """GET /repos/{owner}/{repo}/pulls and /releases, `per_page`/`page` with a Link header."""

    def __init__(self, token: str = "ghp_test", **kwargs: Any):
        super().__init__(token, **kwargs)
        self.pulls: dict[str, list[dict[str, Any]]] = {}
        self.releases: dict[str, list[dict[str, Any]]] = {}
        self.remaining = 5000

    def _authorized(self, header: str) -> bool:
        return header in (f"Bearer {self.token}", f"token {self.token}")

    def add_pull(
        self,
        repo: str,
        number: int,
        title: str,
        *,
        merged_at: str | None = None,
        state: str | None = None,
        branch: str = "",
        body: str = "",
        updated: str = "2026-11-18T15:00:00Z",
        draft: bool = False,
    ) -> None:
        self.pulls.setdefault(repo, []).append(
            {
                "number": number,
                "title": title,
                "html_url": f"https://github.com/{repo}/pull/{number}",
                "state": state or ("closed" if merged_at else "open"),
                "merged_at": merged_at,
                "updated_at": updated,
                "created_at": updated,
                "draft": draft,
                "head": {"ref": branch},
                "body": body,
                "user": {"login": "dev"},
            }
        )

    def add_release(self, repo: str, tag: str, published: str, name: str | None = None) -> None:
        self.releases.setdefault(repo, []).append(
            {
                "tag_name": tag,
                "name": name or tag,
                "html_url": f"https://github.com/{repo}/releases/tag/{tag}",
                "published_at": published,
            }
        )

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        self.remaining = max(0, self.remaining - 1)
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": "4102444800",
            "x-ratelimit-resource": "core",
        }
        parts = path.strip("/").split("/")
        if method != "GET" or len(parts) != 4 or parts[0] != "repos":
            return 404, {"message": "Not Found"}, headers
        repo, what = f"{parts[1]}/{parts[2]}", parts[3]
        table = {"pulls": self.pulls, "releases": self.releases}.get(what)
        if table is None or (repo not in self.pulls and repo not in self.releases):
            return 404, {"message": "Not Found"}, headers  # no such repository (or no access)
        items = table.get(repo, [])
        if what == "pulls":
            state = query.get("state", "open")
            if state != "all":
                items = [p for p in items if p["state"] == state]
            items = sorted(items, key=lambda p: p["updated_at"], reverse=True)
        per_page = min(int(query.get("per_page", 30)), 100)
        page = max(1, int(query.get("page", 1)))
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        base = f"{self.url}{path}"
        params = {k: v for k, v in query.items() if k != "page"}
        if page < last:
            links.append(f'<{base}?{urlencode({**params, "page": page + 1})}>; rel="next"')
            links.append(f'<{base}?{urlencode({**params, "page": last})}>; rel="last"')
        if links:
            headers["Link"] = ", ".join(links)
        return 200, chunk, headers


def seed_demo_board(
    linear: LinearEmulator, github: GitHubEmulator, monday: date, repo: str = "acme/analytics"
) -> None:
    """A small board for `csobot demo`, dated around the demo week (Monday `monday`)."""

    def day(offset: int) -> str:
        return (monday + timedelta(days=offset)).isoformat()

    linear.add_project(
        "LIN",
        "Attribution",
        [("Attribution v2", day(11)), ("Sprint 12", day(18)), ("EMEA dashboards", day(-3))],
    )
    linear.add_issue(
        "LIN", 142, "Attribution model review", state="In Review", state_type="started",
        project="Attribution", milestone="Attribution v2", updated=f"{day(2)}T15:00:00Z",
    )  # fmt: skip
    linear.add_issue(
        "LIN", 143, "Pipeline backfill to 2023", state="Done", state_type="completed",
        project="Attribution", milestone="Attribution v2", completed=f"{day(1)}T16:00:00Z",
    )  # fmt: skip
    linear.add_issue(
        "LIN", 150, "Warehouse sync", state="Blocked", state_type="started",
        project="Attribution",
    )  # fmt: skip
    linear.add_issue(
        "LIN", 160, "EMEA chart", state="Todo", state_type="unstarted",
        project="Attribution", milestone="EMEA dashboards", due=day(-1),
    )  # fmt: skip
    github.add_pull(repo, 88, "LIN-142 attribution model review", branch="lee/lin-142",
                    updated=f"{day(2)}T15:00:00Z")  # fmt: skip
    github.add_pull(repo, 87, "LIN-143 backfill", branch="lee/lin-143",
                    merged_at=f"{day(1)}T15:30:00Z", updated=f"{day(1)}T15:30:00Z")  # fmt: skip
