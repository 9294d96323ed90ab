"""Linear and GitHub connectors against the local emulators: pagination (Linear's cursors,
GitHub's Link header), 429 with Retry-After and GitHub's rate-limit headers, an unreachable
API failing soft into the cache, and a token that never reaches a log or an error."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.runtime import make_connectors
from bot.settings import Settings
from connectors import Connectors, RetryPolicy, Unreachable
from devkit.board_emulators import GitHubEmulator, LinearEmulator
from domain.delivery import ConnectorSources, LinearSource
from domain.portfolio import parse_portfolio
from storage import connector_store as store
from storage.db import Database
from storage.portfolio_store import client_by_slug
from tests.conftest import SAMPLE_PORTFOLIO, load_portfolio
from usecases.clock import FixedClock
from usecases.connector_actions import refresh_client, refresh_due
from usecases.deps import Deps

LINEAR_KEY = "lin_api_SECRET_do_not_log_1234"
GITHUB_TOKEN = "ghp_SECRET_do_not_log_5678"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SOURCES = ConnectorSources(
    linear=LinearSource(team="LIN", project="Attribution"), github=["acme/analytics"]
)


@pytest.fixture
def linear() -> Iterator[LinearEmulator]:
    with LinearEmulator(token=LINEAR_KEY) as emu:
        yield emu


@pytest.fixture
def github() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(token=GITHUB_TOKEN) as emu:
        yield emu


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def _connectors(
    linear: LinearEmulator | None, github: GitHubEmulator | None, sleep: Sleeps | None = None
) -> Connectors:
    return Connectors.build(
        linear_key=LINEAR_KEY,
        github_token=GITHUB_TOKEN,
        linear_url=linear.url if linear else "http://127.0.0.1:9",
        github_url=github.url if github else "http://127.0.0.1:9",
        policy=RetryPolicy(attempts=3, backoff=0.01, max_wait=5, timeout=2),
        sleep=sleep or Sleeps(),
    )


def _seed(linear: LinearEmulator, github: GitHubEmulator, issues: int, pulls: int) -> None:
    linear.add_project("LIN", "Attribution", [("Attribution v2", "2026-11-30")])
    for n in range(1, issues + 1):
        linear.add_issue("LIN", n, f"Issue {n}", project="Attribution", milestone="Attribution v2")
    linear.add_issue("LIN", 9999, "Another project's issue", project="Other")
    for n in range(1, pulls + 1):
        github.add_pull("acme/analytics", n, f"PR {n}", branch=f"dev/lin-{n}")
    github.add_release("acme/analytics", "v1.2.0", "2026-11-17T12:00:00Z")


def test_linear_cursor_pagination_reads_every_page(
    linear: LinearEmulator, github: GitHubEmulator
) -> None:
    _seed(linear, github, issues=230, pulls=0)
    fetched = _connectors(linear, github).fetch("linear", SOURCES)
    assert len(fetched.issues) == 230  # three pages of 100, the other project's issue left out
    assert [m.name for m in fetched.milestones] == ["Attribution v2"]
    pages = [r for r in linear.requests if "issues(" in r.body.get("query", "")]
    assert len(pages) == 3
    assert pages[0].body["variables"]["after"] is None
    assert pages[1].body["variables"]["after"] and pages[2].body["variables"]["after"]
    assert all(r.headers["authorization"] == LINEAR_KEY for r in linear.requests)


def test_github_link_header_pagination(linear: LinearEmulator, github: GitHubEmulator) -> None:
    _seed(linear, github, issues=0, pulls=250)
    fetched = _connectors(linear, github).fetch("github", SOURCES, NOW)
    assert len(fetched.pulls) == 250
    assert {p.number for p in fetched.pulls} == set(range(1, 251))
    assert [r.tag for r in fetched.releases] == ["v1.2.0"]
    pull_pages = [r for r in github.requests if r.path.endswith("/pulls")]
    assert [r.query.get("page", "1") for r in pull_pages] == ["1", "2", "3"]
    assert pull_pages[0].headers["x-github-api-version"] == "2022-11-28"
    assert fetched.pulls[0].issue_ids() <= {f"LIN-{n}" for n in range(1, 251)}


def test_429_with_retry_after_is_waited_out(linear: LinearEmulator, github: GitHubEmulator) -> None:
    _seed(linear, github, issues=3, pulls=3)
    linear.fail_next(429, retry_after=2)
    github.fail_next(429, retry_after=3)
    sleeps = Sleeps()
    c = _connectors(linear, github, sleeps)
    assert len(c.fetch("linear", SOURCES).issues) == 3
    assert len(c.fetch("github", SOURCES, NOW).pulls) == 3
    assert sleeps.slept == [2.0, 3.0]  # exactly what each API asked for


def test_github_primary_rate_limit_waits_until_reset(
    linear: LinearEmulator, github: GitHubEmulator
) -> None:
    _seed(linear, github, issues=0, pulls=2)
    wall = datetime.now(UTC).timestamp()
    github.fail_next(
        403, retry_after=None, x_ratelimit_remaining="0", x_ratelimit_reset=str(int(wall) + 2)
    )
    sleeps = Sleeps()
    assert len(_connectors(linear, github, sleeps).fetch("github", SOURCES, NOW).pulls) == 2
    assert len(sleeps.slept) == 1 and 0 < sleeps.slept[0] <= 2.5


def test_a_long_rate_limit_fails_soft_instead_of_sleeping(
    linear: LinearEmulator, github: GitHubEmulator
) -> None:
    github.fail_next(429, retry_after=3600)
    sleeps = Sleeps()
    with pytest.raises(Unreachable) as err:
        _connectors(linear, github, sleeps).fetch("github", SOURCES, NOW)
    assert "rate-limited" in err.value.reason
    assert sleeps.slept == []


def test_5xx_is_retried_with_backoff(linear: LinearEmulator, github: GitHubEmulator) -> None:
    _seed(linear, github, issues=2, pulls=0)
    linear.fail_next(502, retry_after=None)
    sleeps = Sleeps()
    assert len(_connectors(linear, github, sleeps).fetch("linear", SOURCES).issues) == 2
    assert sleeps.slept == [0.01]


def test_a_bad_token_is_refused_without_retrying(linear: LinearEmulator) -> None:
    c = Connectors.build(
        linear_key="wrong",
        github_token=None,
        linear_url=linear.url,
        policy=RetryPolicy(attempts=3, backoff=0.01),
        sleep=Sleeps(),
    )
    with pytest.raises(Unreachable, match="refused"):
        c.fetch("linear", SOURCES)
    assert len(linear.requests) == 1


def _deps(db: Database, connectors: Connectors) -> Deps:
    return Deps(db=db, clock=FixedClock(NOW), connectors=connectors)


def test_fetch_into_the_cache_then_unreachable_keeps_it_and_says_since_when(
    db: Database, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    db.migrate()
    load_portfolio(db)
    _seed(linear, github, issues=5, pulls=4)
    with db.transaction() as tx:
        acme = client_by_slug(tx, "acme")
    assert acme is not None
    deps = _deps(db, _connectors(linear, github))
    done = refresh_client(deps, acme.id, SOURCES, NOW)
    assert {(r.source, r.items) for r in done} == {("linear", 6), ("github", 5)}
    with db.transaction() as tx:
        board = store.board(tx, acme.id)
    assert len(board.issues) == 5 and len(board.pulls) == 4 and len(board.releases) == 1
    assert board.states["linear"].fetched_at == NOW and not board.states["linear"].failing
    assert board.issue("LIN-2") is not None and board.pulls_for("LIN-2")[0].number == 2

    # Linear goes away: the cache keeps the last good board; the first failure's time stays.
    down = _deps(db, _connectors(None, github))
    later = NOW + timedelta(hours=1)
    refresh_client(down, acme.id, SOURCES, later, only=("linear",))
    refresh_client(down, acme.id, SOURCES, later + timedelta(hours=1), only=("linear",))
    with db.transaction() as tx:
        board = store.board(tx, acme.id)
    assert len(board.issues) == 5
    state = board.states["linear"]
    assert state.failing_since == later and state.fetched_at == NOW
    assert state.error is not None and "cannot connect" in state.error

    # Back again: healthy, replaced wholesale (an issue deleted upstream leaves the cache).
    linear.issues.pop()
    linear.issues.pop(0)
    refresh_client(deps, acme.id, SOURCES, later + timedelta(hours=2), only=("linear",))
    with db.transaction() as tx:
        board = store.board(tx, acme.id)
    assert len(board.issues) == 4 and not board.states["linear"].failing


def test_the_schedule_refreshes_what_is_stale_only(
    db: Database, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    db.migrate()
    text = SAMPLE_PORTFOLIO.replace(
        "    contacts: [U0EXT1]\n",
        "    contacts: [U0EXT1]\n"
        "    linear: {team: LIN, project: Attribution}\n"
        "    github: [acme/analytics]\n",
        1,
    )
    load_portfolio(db, text)
    _seed(linear, github, issues=2, pulls=1)
    deps = _deps(db, _connectors(linear, github))
    assert len(refresh_due(deps, NOW)) == 2
    assert refresh_due(deps, NOW + timedelta(minutes=5)) == []  # fresh: nothing fetched
    assert len(refresh_due(deps, NOW + timedelta(minutes=31))) == 2


def test_portfolio_rejects_a_bad_repository_name() -> None:
    text = SAMPLE_PORTFOLIO.replace(
        "    contacts: [U0EXT1]\n", "    contacts: [U0EXT1]\n    github: [not-a-repo]\n", 1
    )
    with pytest.raises(ValueError, match="owner/repo"):
        parse_portfolio(text)


def test_the_tokens_are_never_logged_nor_shown(
    db: Database,
    linear: LinearEmulator,
    github: GitHubEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db.migrate()
    load_portfolio(db)
    _seed(linear, github, issues=2, pulls=2)
    with db.transaction() as tx:
        acme = client_by_slug(tx, "acme")
    assert acme is not None
    caplog.set_level(logging.DEBUG)
    linear.fail_next(429, retry_after=1)
    github.fail_next(500, retry_after=None, times=5)  # every try fails: an error is stored
    settings = Settings(
        LINEAR_API_KEY=LINEAR_KEY,  # type: ignore[call-arg]
        GITHUB_TOKEN=GITHUB_TOKEN,
        LINEAR_API_URL=linear.url,
        GITHUB_API_URL=github.url,
        _env_file=None,
    )
    connectors = make_connectors(settings)
    assert connectors is not None
    for c in (connectors.linear, connectors.github):
        assert c is not None
        c.api._sleep = Sleeps()
    deps = _deps(db, connectors)
    refresh_client(deps, acme.id, SOURCES, NOW)
    # Bad token too: the refusal names the status, not the token.
    bad = Connectors.build(linear_key=LINEAR_KEY + "x", github_token=None, linear_url=linear.url)
    with pytest.raises(Unreachable) as refused:
        bad.fetch("linear", SOURCES)
    with db.transaction() as tx:
        states = store.fetch_states(tx, acme.id)
    shown = " ".join(
        [caplog.text, repr(settings), str(refused.value), *(str(s.error) for s in states.values())]
    )
    assert states["github"].failing  # the failure path ran and logged
    assert "github" in caplog.text and "HTTP 500" in caplog.text
    assert LINEAR_KEY not in shown and GITHUB_TOKEN not in shown
    assert "SECRET" not in shown


def test_no_token_no_connectors() -> None:
    assert make_connectors(Settings(_env_file=None)) is None  # type: ignore[call-arg]


def test_the_portfolio_import_stores_where_the_board_lives(db: Database) -> None:
    db.migrate()
    text = SAMPLE_PORTFOLIO.replace(
        "    contacts: [U0EXT1]\n",
        "    contacts: [U0EXT1]\n    linear: {team: LIN}\n    github: [acme/web, acme/api]\n",
        1,
    )
    load_portfolio(db, text)
    with db.transaction() as tx:
        acme = client_by_slug(tx, "acme")
        assert acme is not None
        assert store.sources_of(tx, acme.id) == ConnectorSources(
            linear=LinearSource(team="LIN"), github=["acme/web", "acme/api"]
        )
    load_portfolio(db)  # removed from the file: removed from the database
    with db.transaction() as tx:
        assert store.sources_of(tx, acme.id).configured() == ()


def test_a_dead_api_costs_one_try_per_round_not_one_per_client(
    db: Database, linear: LinearEmulator, github: GitHubEmulator
) -> None:
    db.migrate()
    text = SAMPLE_PORTFOLIO
    for slug in ("U0EXT1", "U0EXT2"):
        text = text.replace(
            f"    contacts: [{slug}]\n",
            f"    contacts: [{slug}]\n    linear: {{team: LIN}}\n",
            1,
        )
    load_portfolio(db, text)
    linear.go_down()
    deps = _deps(db, _connectors(linear, github))
    done = refresh_due(deps, NOW)
    assert len(done) == 2 and all(r.state is not None and r.state.failing for r in done)
    assert len(linear.requests) == 3  # one request's tries (the policy's 3), for both clients


def test_github_stops_paging_past_the_horizon(
    linear: LinearEmulator, github: GitHubEmulator
) -> None:
    for n in range(1, 151):
        github.add_pull("acme/analytics", n, f"PR {n}", updated="2026-11-10T10:00:00Z")
    for n in range(151, 301):
        github.add_pull("acme/analytics", n, f"Old PR {n}", updated="2025-01-10T10:00:00Z")
    github.add_release("acme/analytics", "v1.0.0", "2026-11-01T12:00:00Z")
    fetched = _connectors(linear, github).fetch("github", SOURCES, NOW)
    assert {p.number for p in fetched.pulls} == set(range(1, 151))
    pages = [r.query.get("page", "1") for r in github.requests if r.path.endswith("/pulls")]
    assert pages == ["1", "2"]  # page 2 ends before the horizon: page 3 is not read


def test_linear_ratelimited_error_waits_until_its_reset(
    linear: LinearEmulator, github: GitHubEmulator
) -> None:
    _seed(linear, github, issues=2, pulls=0)
    reset_ms = int((datetime.now(UTC).timestamp() + 2) * 1000)
    linear.fail_next(
        400,
        retry_after=None,
        body={
            "errors": [{"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]
        },
        X_RateLimit_Requests_Remaining="0",
        X_RateLimit_Requests_Reset=str(reset_ms),
    )
    sleeps = Sleeps()
    assert len(_connectors(linear, github, sleeps).fetch("linear", SOURCES).issues) == 2
    assert len(sleeps.slept) == 1 and 0 < sleeps.slept[0] <= 2.5
