"""SQLite locked by another writer for longer than the server's busy timeout."""

from __future__ import annotations

import time
from collections import Counter

from storage.models import Touchpoint
from tests.faults.harness import (
    ACME_TEAM,
    Rows,
    ServeFactory,
    SqliteLocker,
    channel_messages,
    sqlite_path,
)

LOCK_SECONDS = 45
EVENTS = 10


def test_sqlite_locked(sqlite_url: str, serve: ServeFactory) -> None:
    server = serve.start(sqlite_url)
    status, body = server.healthz()
    assert (status, body.get("status")) == (200, "ok")  # healthy before the lock
    batch = channel_messages(EVENTS, authors=ACME_TEAM)
    problems: list[str] = []

    locker = SqliteLocker(sqlite_path(sqlite_url)).hold(LOCK_SECONDS)
    try:
        # One at a time, like a quiet channel: if each ack waited on the lock, ten of them
        # could not all come back before the lock is released.
        replies = [server.post(b, timeout=LOCK_SECONDS + 15) for b in batch.bodies]
        health_status, health_body = server.healthz(timeout=10)
        health_at = time.monotonic()
    finally:
        assert locker.wait_released(LOCK_SECONDS + 15)
    released_at = locker.released_at
    assert released_at is not None

    statuses = Counter(r.status for r in replies)
    if statuses != {200: EVENTS}:
        problems.append(f"every event must be acked with 200: {dict(statuses)}")
    late = sum(r.at >= released_at for r in replies)
    if late:
        problems.append(f"{late} of {EVENTS} acks came only after the lock was released")
    if health_at >= released_at or health_status != 503 or health_body.get("status") == "ok":
        problems.append(
            f"/healthz while the database could not be written: {health_status} {health_body}"
            + (" (answered after the lock was released)" if health_at >= released_at else "")
        )

    deadline = time.monotonic() + 30
    while server.healthz(timeout=5)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    status, body = server.healthz()
    if status != 200:
        problems.append(f"/healthz 30 s after the lock was released: {status} {body}")
    rows = Rows(sqlite_url)
    try:
        n = rows.wait_count(Touchpoint, EVENTS, Touchpoint.channel == "C0ACME", timeout=60)
    finally:
        rows.dispose()
    if n != EVENTS:
        problems.append(f"{EVENTS} events acked during the lock: {n} recorded after it")
    assert not problems, "\n".join(problems) + "\n" + server.log_problems()
