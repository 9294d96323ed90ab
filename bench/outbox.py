"""Outbox delivery throughput: DMs per second delivered to the Slack emulator at 1, 10 and
100 ms of emulated Slack latency, on SQLite and PostgreSQL.

Each run enqueues one nudge for each of N people and times one `deliver_due` pass (claim in
one statement, post concurrently, record in bulk). Baselines in the same run: the same pass
with one worker (paced by our own round trips), and the previous outbox's loop (claim, post
and record per person, one at a time). A last row puts a per-method limit on
chat.postMessage in the emulator (429 with Retry-After beyond it): the pass is then paced by
Slack's limit, with no DM lost or doubled. The emulator runs in its own process.

    python -m bench.outbox [--people 300]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, event, func, select, update

from bench.tick import postgres
from storage.db import Database
from storage.models import Nudge
from usecases.outbox import WORKERS, NudgeSpec, deliver_due, enqueue

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
LATENCIES = (0.001, 0.010, 0.100)
SLACK_LIMIT = 50  # chat.postMessage per second, in the paced row


@dataclass
class Row:
    database: str
    latency_ms: int
    how: str
    dms: int
    seconds: float
    statements: int

    @property
    def rate(self) -> float:
        return self.dms / self.seconds if self.seconds else 0.0


@contextmanager
def emulator(latency: float, rate: int | None = None) -> Iterator[str]:
    argv = [sys.executable, "-m", "bench.emulator_proc", "--latency", str(latency)]
    if rate:
        argv += ["--rate", f"chat.postMessage={rate}"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().decode().strip() + "/api/"
    finally:
        proc.terminate()
        proc.wait(10)


def _client(api_url: str) -> WebClient:
    return WebClient(token="xoxb-bench", base_url=api_url, timeout=10)


def _seed(db: Database, n: int) -> None:
    with db.transaction() as session:
        session.execute(delete(Nudge))
        for i in range(n):
            person = f"UB{i:05d}"
            enqueue(
                session,
                NudgeSpec(
                    cadence_id="bench",
                    period="p",
                    target=person,
                    person_id=person,
                    text=f"Bench nudge {i}",
                    due_at=NOW - timedelta(minutes=1),
                    expires_at=NOW + timedelta(hours=2),
                ),
                NOW,
            )


def _sent(db: Database) -> int:
    with db.session() as session:
        return int(
            session.scalar(select(func.count()).select_from(Nudge).where(Nudge.status == "sent"))
            or 0
        )


def previous_outbox(db: Database, client: WebClient, now: datetime) -> int:
    """The loop this outbox replaced: per person, claim, load, post, record — in turn."""
    with db.session() as session:
        due = session.execute(
            select(Nudge.id, Nudge.target).where(Nudge.status == "pending", Nudge.due_at <= now)
        ).all()
    sent = 0
    for nudge_id, target in due:
        token = uuid.uuid4().hex
        with db.transaction() as session:
            session.execute(
                update(Nudge)
                .where(Nudge.id == nudge_id, Nudge.status == "pending")
                .values(status="sending", claim_token=token, claimed_at=now)
            )
        with db.session() as session:
            rows = list(session.scalars(select(Nudge).where(Nudge.claim_token == token)))
        try:
            resp = client.chat_postMessage(channel=target, text=rows[0].text)
        except (SlackApiError, OSError):
            continue
        with db.transaction() as session:
            session.execute(
                update(Nudge)
                .where(Nudge.claim_token == token)
                .values(status="sent", sent_at=now, message_ts=resp.get("ts"))
            )
        sent += 1
    return sent


def _timed(db: Database, fn: Callable[[], Any]) -> tuple[float, int]:
    count = [0]

    def counter(*_: Any) -> None:
        count[0] += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start, count[0]
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)


def bench(name: str, url: str, people: int) -> list[Row]:
    db = Database(url)
    db.migrate()
    rows: list[Row] = []
    for latency in LATENCIES:
        ms = round(latency * 1000)
        # Sequential runs are kept short at high latency: the rate is what is compared.
        few = people if latency < 0.05 else max(20, people // 6)
        with emulator(latency) as api:
            client = _client(api)
            _seed(db, 10)  # warm up the connections and the emulator
            deliver_due(db, client, NOW)
            runs: list[tuple[str, int, Callable[[], Any]]] = [
                ("previous outbox (per person)", few, partial(previous_outbox, db, client, NOW)),
                ("1 worker", few, partial(deliver_due, db, client, NOW, workers=1)),
                (f"{WORKERS} workers", people, partial(deliver_due, db, client, NOW)),
            ]
            for how, n, fn in runs:
                _seed(db, n)
                seconds, statements = _timed(db, fn)
                assert _sent(db) == n, f"{how}: {_sent(db)} of {n} sent"
                rows.append(Row(name, ms, how, n, seconds, statements))
    with emulator(0.010, rate=SLACK_LIMIT) as api:
        client = _client(api)
        _seed(db, people)

        def paced() -> None:
            for minute in range(10):  # a Retry-After past the cap waits for the next tick
                deliver_due(db, client, NOW + timedelta(minutes=minute))
                if _sent(db) == people:
                    return

        seconds, statements = _timed(db, paced)
        assert _sent(db) == people
        how = f"{WORKERS} workers, Slack limit {SLACK_LIMIT}/s"
        rows.append(Row(name, 10, how, people, seconds, statements))
    db.dispose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300)
    args = parser.parse_args(argv)
    runs: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        runs += bench("SQLite", f"sqlite:///{tmp}/bench.db", args.people)
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        with postgres(pg) as url:
            runs += bench("PostgreSQL", url, args.people)
    print("## Outbox delivery throughput: DMs per second to the Slack emulator\n")
    print(
        f"One nudge for each of {args.people} people (fewer for the one-at-a-time baselines "
        "at 100 ms), one delivery pass, Slack latency added by the emulator (its own "
        "process). Ratio: DMs/s against the previous outbox in the same run and latency.\n"
    )
    print("| database | Slack latency | delivery | DMs | seconds | DMs/s | ms/DM | SQL | ratio |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        base = next(
            (b for b in runs if b.database == r.database and b.latency_ms == r.latency_ms),
            r,
        )
        print(
            f"| {r.database} | {r.latency_ms} ms | {r.how} | {r.dms} | {r.seconds:.2f} | "
            f"{r.rate:.0f} | {1000 / r.rate if r.rate else 0:.1f} | {r.statements} | "
            f"{r.rate / base.rate if base.rate else 0:.1f}× |"
        )
    if not pg:
        print("\nPostgreSQL skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL.")
    print(
        f"\nThe last row of each database is paced by Slack: the emulator answers 429 "
        f"(Retry-After 1 s) past {SLACK_LIMIT} chat.postMessage a second; every DM is sent "
        "once. Its ratio is against the previous outbox at the same latency (10 ms)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
