"""Benchmark: a meeting brief for a client with 500 Linear issues and 200 pull requests in the
cache and a week of 80 team messages (half of them claims checked against the board), without
a model (the template), gathered and rendered. Target: under 200 ms.
Run: python -m bench.brief"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from pathlib import Path

from sqlalchemy import insert

from domain.delivery import Fetched, Issue, Milestone, PullRequest
from domain.portfolio import parse_portfolio
from prompts.brief_views import brief_blocks
from storage import connector_store
from storage.db import Database
from storage.models import Touchpoint
from storage.portfolio_store import client_by_slug, import_portfolio
from usecases import brief_actions

ISSUES = 500
PULLS = 200
TARGET_SECONDS = 0.2
NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
STATES = [
    ("Todo", "unstarted"),
    ("In Progress", "started"),
    ("In Review", "started"),
    ("Blocked", "started"),
    ("Done", "completed"),
    ("Canceled", "canceled"),
]
PORTFOLIO = (
    files("devkit")
    .joinpath("sample_portfolio.yaml")
    .read_text()
    .replace(
        "    contacts: [U0EXT1]\n",
        "    contacts: [U0EXT1]\n    linear: {team: LIN, project: Big}\n    github: [acme/big]\n",
        1,
    )
)


def build(db: Database, rnd: random.Random) -> int:
    with db.transaction() as tx:
        import_portfolio(tx, parse_portfolio(PORTFOLIO))
        client = client_by_slug(tx, "acme")
        assert client is not None
        milestones = [
            Milestone(f"Outcome {m}", date(2026, 10, 1) + timedelta(days=14 * m)) for m in range(8)
        ]
        issues = []
        for n in range(1, ISSUES + 1):
            state, kind = rnd.choice(STATES)
            issues.append(
                Issue(
                    identifier=f"LIN-{n}",
                    title=f"Work item {n} on the attribution pipeline",
                    url=f"https://linear.app/acme/issue/lin-{n}",
                    state=state,
                    state_type=kind,
                    assignee=f"Dev {n % 7}",
                    due=date(2026, 11, 1) + timedelta(days=rnd.randint(0, 60)),
                    labels=("backend",) if n % 3 else ("frontend", "client"),
                    updated_at=NOW - timedelta(hours=rnd.randint(1, 400)),
                    completed_at=NOW - timedelta(hours=rnd.randint(1, 400))
                    if kind == "completed"
                    else None,
                    milestone=milestones[n % 8].name,
                )
            )
        pulls = [
            PullRequest(
                repo="acme/big",
                number=n,
                title=f"LIN-{rnd.randint(1, ISSUES)} change {n}",
                url=f"https://github.com/acme/big/pull/{n}",
                state="closed" if n % 2 else "open",
                merged_at=NOW - timedelta(hours=rnd.randint(1, 400)) if n % 2 else None,
                updated_at=NOW - timedelta(hours=rnd.randint(1, 400)),
                branch=f"dev/lin-{n}",
            )
            for n in range(1, PULLS + 1)
        ]
        connector_store.replace(
            tx, client.id, Fetched("linear", issues=issues, milestones=milestones), NOW
        )
        connector_store.replace(tx, client.id, Fetched("github", pulls=pulls), NOW)
        # The week's story: 80 team messages, half of them claims about the board.
        claims = ["shipped", "is live", "is on track", "will ship next week", "looks good"]
        tx.execute(
            insert(Touchpoint),
            [
                {
                    "client_id": client.id,
                    "author_id": "U0CSO1",
                    "kind": "slack",
                    "source": "event",
                    "occurred_at": NOW - timedelta(hours=2 * n),
                    "local_date": (NOW - timedelta(hours=2 * n)).date(),
                    "excerpt": f"Work item {rnd.randint(1, ISSUES)} on the attribution "
                    f"pipeline {claims[n % len(claims)]} (LIN-{rnd.randint(1, ISSUES)}).",
                    "dedupe_key": f"bench:{n}",
                    "created_at": NOW,
                }
                for n in range(80)
            ],
        )
        return client.id


def measure(db: Database) -> dict[str, float]:
    out: dict[str, float] = {}
    for meeting in ("weekly", "triangle"):
        t0 = time.perf_counter()
        with db.session() as tx:
            client = client_by_slug(tx, "acme")
            assert client is not None
            brief = brief_actions.build(tx, None, client, meeting, NOW)
        _, blocks = brief_blocks(brief)
        out[f"/brief acme {meeting}"] = time.perf_counter() - t0
        assert brief.drafted_by == "template" and 0 < len(blocks) <= 50
    return out


def main() -> int:
    rnd = random.Random(15)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.migrate()
        build(db, rnd)
        best: dict[str, float] = {}
        for _ in range(5):
            for k, v in measure(db).items():
                best[k] = min(v, best.get(k, v))
        db.dispose()
    print(f"{ISSUES} issues and {PULLS} pull requests in the cache, no model (best of 5):")
    for k, v in best.items():
        print(f"  {k:<28} {v * 1000:8.1f} ms")
    worst = max(best.values())
    ok = worst < TARGET_SECONDS
    print(
        f"brief: {worst * 1000:.0f} ms (target < {TARGET_SECONDS * 1000:.0f} ms) "
        + ("OK" if ok else "SLOW")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
