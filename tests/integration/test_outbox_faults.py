"""The outbox on the unhappy path: Slack slower than the client's timeout, a reset after the
post, 429 with a long Retry-After while two processes deliver, `kill -9` mid-call, a heartbeat
that keeps a slow call's claim. Each post carries its key in Slack message metadata and an
unknown outcome is looked up in the channel's history before anything is sent again."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import select

from devkit.emulator import SlackEmulator
from storage.db import Database
from storage.models import Nudge
from tests.conftest import wait_until
from usecases import outbox
from usecases.outbox import EVENT_TYPE, NudgeSpec, deliver_due, effective_lease, enqueue

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _client(emulator: SlackEmulator, timeout: int = 10) -> WebClient:
    """Configured like the app's client (bot.app.make_web_client)."""
    return WebClient(
        token="xoxb-t",
        base_url=emulator.api_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def _spec(person: str = "U1", cadence: str = "cutoff") -> NudgeSpec:
    return NudgeSpec(
        cadence_id=cadence,
        period="2026-11-20",
        target=person,
        person_id=person,
        text=f"{cadence} for {person}",
        due_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(hours=2),
    )


def _seed(db: Database, *specs: NudgeSpec) -> None:
    with db.transaction() as s:
        for spec in specs or (_spec(),):
            enqueue(s, spec, NOW)


def _rows(db: Database) -> list[Nudge]:
    with db.session() as s:
        return list(s.scalars(select(Nudge).order_by(Nudge.id)))


def _truthy(value: object) -> bool:
    return str(value).lower() in ("1", "true")


def test_a_post_slower_than_the_timeout_is_found_in_history_not_posted_again(
    db: Database, emulator: SlackEmulator
) -> None:
    emulator.delay("chat.postMessage", 3)  # posted at once, answered after the client gave up
    _seed(db)
    client = _client(emulator, timeout=1)
    [first] = deliver_due(db, client, NOW)
    assert not first.ok and first.outcome == "unknown"
    [row] = _rows(db)
    assert row.status == "pending" and row.unsure_key and "outcome unknown" in str(row.last_error)
    [post] = emulator.calls("chat.postMessage")
    assert post["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"key": row.unsure_key}}

    [again] = deliver_due(db, client, NOW + timedelta(minutes=1))
    [message] = emulator.messages_in("U1")
    assert again.ok and again.outcome == "found" and again.ts == message["ts"]
    assert len(emulator.calls("chat.postMessage")) == 1  # never posted twice
    [opened] = emulator.calls("conversations.open")  # no DM channel known yet: opened
    assert opened["users"] == "U1"
    [history] = emulator.calls("conversations.history")
    assert history["channel"] == "D1" and _truthy(history["include_all_metadata"])
    assert float(history["oldest"]) <= float(message["ts"])
    [row] = _rows(db)
    assert row.status == "sent" and row.message_ts == message["ts"] and row.unsure_key is None
    assert deliver_due(db, client, NOW + timedelta(minutes=2)) == []


def test_a_reset_after_slack_posted_is_found_in_the_known_dm_not_posted_again(
    db: Database, emulator: SlackEmulator
) -> None:
    _seed(db, _spec(cadence="standup"))
    client = _client(emulator)
    [earlier] = deliver_due(db, client, NOW)  # an earlier DM: its channel is known
    assert earlier.ok
    _seed(db, _spec(cadence="cutoff"))
    emulator.fail_next("chat.postMessage", reset=True, after_apply=True)
    [lost] = deliver_due(db, client, NOW + timedelta(minutes=1))
    assert lost.outcome == "unknown"
    [found] = deliver_due(db, client, NOW + timedelta(minutes=2))
    assert found.outcome == "found"
    assert len(emulator.messages_in("U1")) == 2
    assert len(emulator.calls("chat.postMessage")) == 2
    assert emulator.calls("conversations.open") == []


def test_an_outcome_that_cannot_be_checked_is_not_resent_and_dropped_after_its_grace(
    db: Database, emulator: SlackEmulator
) -> None:
    emulator.delay("chat.postMessage", 3)
    _seed(db)
    client = _client(emulator, timeout=1)
    deliver_due(db, client, NOW)
    emulator.fail_next("conversations.history", error="missing_scope", times=2)
    [unchecked] = deliver_due(db, client, NOW + timedelta(minutes=1))
    assert unchecked.outcome == "unknown" and "missing_scope" in str(unchecked.error)
    assert len(emulator.calls("chat.postMessage")) == 1
    assert deliver_due(db, client, NOW + timedelta(hours=3)) == []  # past its grace
    [row] = _rows(db)
    assert row.status == "dropped" and "missing_scope" in str(row.last_error)
    assert len(emulator.calls("chat.postMessage")) == 1


def test_a_long_retry_after_is_not_slept_and_two_delivery_loops_send_once(
    db_url: str, emulator: SlackEmulator
) -> None:
    """3 × 429 with Retry-After 58 while two processes deliver (two loops, each with its own
    engine and client, one database): nobody sleeps a minute inside a tick, nobody takes a
    claim from a call still running, and the DM goes out once."""
    seed = Database(db_url)
    _seed(seed)
    seed.dispose()
    emulator.fail_next("chat.postMessage", 429, retry_after=58, times=3)
    t0 = time.monotonic()

    def now() -> datetime:  # a wall-clock second is a minute here: the lease is 2 s
        return NOW + timedelta(minutes=time.monotonic() - t0)

    stop = threading.Event()
    longest: list[float] = [0.0, 0.0]
    passes = [0, 0]
    errors: list[BaseException] = []

    def loop(i: int) -> None:
        db = Database(db_url)
        client = _client(emulator)
        try:
            while not stop.is_set():
                started = time.monotonic()
                deliver_due(db, client, now())
                longest[i] = max(longest[i], time.monotonic() - started)
                passes[i] += 1
                time.sleep(0.02)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in (0, 1)]
    for t in threads:
        t.start()
    check = Database(db_url)
    try:
        wait_until(lambda: _rows(check)[0].status == "sent", timeout=30)
        seen = list(passes)  # three more passes of each process: nothing more may go out
        wait_until(lambda: all(p >= s + 3 for p, s in zip(passes, seen, strict=True)), timeout=30)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        check.dispose()
    assert errors == []
    assert len(emulator.messages_in("U1")) == 1
    posts = emulator.calls("chat.postMessage")
    assert len(posts) == 4  # three 429s, one post
    assert max(longest) < 20, "a delivery pass slept through Retry-After"


def test_lease_outlives_the_worst_call(emulator: SlackEmulator) -> None:
    for timeout in (1, 10, 30, 60):
        client = _client(emulator, timeout=timeout)
        worst = timeout * (1 + outbox.RATE_RETRIES) + outbox.RETRY_AFTER_CAP * outbox.RATE_RETRIES
        assert effective_lease(client) > timedelta(seconds=worst)
        assert effective_lease(client) >= outbox.LEASE


def test_a_claim_is_renewed_while_its_post_is_in_flight(
    db: Database, emulator: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "HEARTBEAT_EVERY", timedelta(seconds=0.1))
    emulator.delay("chat.postMessage", 1.5)
    _seed(db)
    done: list[list[outbox.Delivery]] = []
    worker = threading.Thread(
        target=lambda: done.append(deliver_due(db, _client(emulator, timeout=5), NOW))
    )
    worker.start()
    emulator.wait_for("chat.postMessage")
    renewed = wait_until(
        lambda: [r for r in _rows(db) if r.status == "sending" and r.claimed_at > NOW]
    )
    assert renewed
    worker.join(10)
    [[delivery]] = done
    assert delivery.ok and _rows(db)[0].status == "sent"


def test_kill_9_after_slack_received_the_post_is_not_sent_again(
    db_url: str, emulator: SlackEmulator
) -> None:
    seed = Database(db_url)
    _seed(seed)
    emulator.delay("chat.postMessage", 30)  # Slack has the post; the answer never comes
    worker = [sys.executable, "-m", "tests.outbox_worker", db_url, emulator.api_url]
    proc = subprocess.Popen(
        [*worker, NOW.isoformat()], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        emulator.wait_for("chat.postMessage", timeout=30)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    [row] = _rows(seed)
    assert row.status == "sending"  # claimed by a process that is gone
    later = (NOW + timedelta(minutes=5)).isoformat()  # past its lease
    run = subprocess.run(
        [*worker, later], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "U1 found" in run.stdout
    [message] = emulator.messages_in("U1")
    assert len(emulator.calls("chat.postMessage")) == 1
    [history] = emulator.calls("conversations.history")
    assert _truthy(history["include_all_metadata"])
    [row] = _rows(seed)
    assert row.status == "sent" and row.message_ts == message["ts"]
    seed.dispose()


def test_delivery_runs_concurrently_and_is_paced_by_slacks_limit(
    db: Database, emulator: SlackEmulator
) -> None:
    """Many people at once: posts overlap (a bounded pool), Slack's 429s slow them down
    without a duplicate or a loss."""
    emulator.set_latency(0.05)
    emulator.rate_limit("chat.postMessage", per_second=10, retry_after=1)
    people = [f"U{i:03d}" for i in range(40)]
    _seed(db, *(_spec(p) for p in people))
    client = _client(emulator)
    for minute in range(6):
        deliver_due(db, client, NOW + timedelta(minutes=minute))
        if all(r.status == "sent" for r in _rows(db)):
            break
    assert all(r.status == "sent" for r in _rows(db))
    assert all(len(emulator.messages_in(p)) == 1 for p in people)
    assert len(emulator.calls("chat.postMessage")) > len(people)  # some were told to wait
    assert 1 < emulator.peak_in_flight("chat.postMessage") <= outbox.WORKERS
