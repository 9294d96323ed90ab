"""The exactly-once outbox against the Slack emulator (and PostgreSQL when configured)."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import select

from devkit.emulator import SlackEmulator
from storage.db import Database
from storage.models import Nudge
from usecases.outbox import NudgeSpec, close, deliver_due, enqueue

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


def _client(emulator: SlackEmulator) -> WebClient:
    return WebClient(
        token="xoxb-t",
        base_url=emulator.api_url,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=1),
        ],
    )


def _spec(
    person: str = "U1",
    cadence: str = "cutoff",
    client_id: int | None = None,
    period: str = "2026-11-20",
) -> NudgeSpec:
    return NudgeSpec(
        cadence_id=cadence,
        period=period,
        target=person,
        person_id=person,
        client_id=client_id,
        text=f"{cadence} for {person}",
        due_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(hours=2),
    )


def _rows(db: Database) -> list[Nudge]:
    with db.session() as s:
        return list(s.scalars(select(Nudge).order_by(Nudge.id)))


def test_the_same_key_is_enqueued_once(db: Database) -> None:
    with db.transaction() as s:
        assert enqueue(s, _spec(), NOW) is True
        assert enqueue(s, _spec(), NOW) is False
    assert len(_rows(db)) == 1


def test_repeated_ticks_send_once_and_batch_per_person(
    db: Database, emulator: SlackEmulator
) -> None:
    with db.transaction() as s:
        enqueue(s, _spec("U1", "cutoff"), NOW)
        enqueue(s, _spec("U1", "eod"), NOW)
        enqueue(s, _spec("U2", "cutoff"), NOW)
    client = _client(emulator)
    first = deliver_due(db, client, NOW)
    again = deliver_due(db, client, NOW + timedelta(minutes=1))
    assert sorted(d.target for d in first) == ["U1", "U2"] and again == []
    posts = emulator.calls("chat.postMessage")
    assert sorted(p["channel"] for p in posts) == ["U1", "U2"]
    u1 = next(p for p in posts if p["channel"] == "U1")
    assert "cutoff for U1" in u1["text"] and "eod for U1" in u1["text"]
    assert {r.status for r in _rows(db)} == {"sent"}


def test_a_nudge_past_its_grace_is_dropped_not_sent_late(
    db: Database, emulator: SlackEmulator
) -> None:
    with db.transaction() as s:
        enqueue(s, _spec(), NOW)
    assert deliver_due(db, _client(emulator), NOW + timedelta(hours=3)) == []
    assert emulator.calls("chat.postMessage") == []
    assert _rows(db)[0].status == "dropped"


def test_429_with_retry_after_is_sent_once_after_the_wait(
    db: Database, emulator: SlackEmulator
) -> None:
    emulator.fail_next("chat.postMessage", 429, retry_after=1)
    with db.transaction() as s:
        enqueue(s, _spec(), NOW)
    [delivery] = deliver_due(db, _client(emulator), NOW)
    assert delivery.ok
    calls = emulator.calls("chat.postMessage")
    assert len(calls) == 2  # the 429, then the one that went through
    assert calls[1].at - calls[0].at >= 0.9
    assert _rows(db)[0].status == "sent"


def test_a_refused_send_stays_pending_and_goes_out_next_tick(
    db: Database, emulator: SlackEmulator
) -> None:
    """ok:false is a definite answer (nothing was posted): sent again next tick, no lookup."""
    emulator.fail_next("chat.postMessage", error="channel_not_found")
    with db.transaction() as s:
        enqueue(s, _spec(), NOW)
    client = _client(emulator)
    [failed] = deliver_due(db, client, NOW)
    assert not failed.ok and failed.outcome == "failed"
    assert _rows(db)[0].status == "pending" and _rows(db)[0].unsure_key is None
    [ok] = deliver_due(db, client, NOW + timedelta(minutes=1))
    assert ok.ok and _rows(db)[0].attempts == 2
    assert len(emulator.calls("chat.postMessage")) == 2
    assert emulator.calls("conversations.history") == []


def test_a_5xx_is_not_retried_blindly_it_is_looked_up_then_sent_once(
    db: Database, emulator: SlackEmulator
) -> None:
    """Slack documents fatal_error as "some aspect may have succeeded": never re-posted on
    the spot; the next tick looks for it in the DM, finds nothing, and sends it once."""
    emulator.fail_next("chat.postMessage", 500, times=2)
    with db.transaction() as s:
        enqueue(s, _spec(), NOW)
    client = _client(emulator)
    [first] = deliver_due(db, client, NOW)
    assert first.outcome == "unknown" and len(emulator.calls("chat.postMessage")) == 1
    [second] = deliver_due(db, client, NOW + timedelta(minutes=1))
    assert second.outcome == "unknown"
    [ok] = deliver_due(db, client, NOW + timedelta(minutes=2))
    assert ok.ok and _rows(db)[0].status == "sent"
    assert len(emulator.calls("conversations.history")) == 2
    assert len(emulator.calls("chat.postMessage")) == 3
    assert len(emulator.messages_in("U1")) == 1


def test_a_kill_between_claim_and_send_is_sent_once_after_the_lease(
    db: Database, emulator: SlackEmulator
) -> None:
    with db.transaction() as s:
        enqueue(s, _spec(), NOW)
        # A process claimed it and died before calling Slack.
        s.flush()
        row = s.scalars(select(Nudge)).one()
        row.status, row.claim_token, row.claimed_at = "sending", "dead", NOW
    client = _client(emulator)
    assert deliver_due(db, client, NOW + timedelta(minutes=1)) == []  # lease still held
    [d] = deliver_due(db, client, NOW + timedelta(minutes=3))
    assert d.ok and len(emulator.calls("chat.postMessage")) == 1
    assert deliver_due(db, client, NOW + timedelta(minutes=4)) == []


def test_two_engines_delivering_at_once_send_each_nudge_once(
    db_url: str, emulator: SlackEmulator
) -> None:
    seed = Database(db_url)
    with seed.transaction() as s:
        for i in range(40):
            enqueue(s, _spec(f"U{i}"), NOW)
    seed.dispose()
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def engine() -> None:
        db = Database(db_url)
        try:
            barrier.wait()
            deliver_due(db, _client(emulator), NOW)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=engine) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    targets = [c["channel"] for c in emulator.calls("chat.postMessage")]
    assert sorted(targets) == sorted(f"U{i}" for i in range(40))


def test_close_marks_a_sent_nudge_done(db: Database, emulator: SlackEmulator) -> None:
    with db.transaction() as s:
        enqueue(s, _spec(), NOW)
    deliver_due(db, _client(emulator), NOW)
    with db.transaction() as s:
        closed = close(s, "cutoff:U1:-:2026-11-20", by="touchpoint", now=NOW)
        assert closed is not None and closed.message_ts
    assert _rows(db)[0].status == "closed"


def test_messages_to_one_channel_go_one_at_a_time_in_order(
    db: Database, emulator: SlackEmulator
) -> None:
    from dataclasses import replace

    with db.transaction() as s:
        for cadence in ("flag-1", "flag-2", "flag-3"):  # three alerts, not batched
            enqueue(s, replace(_spec("C0LEAD", cadence), batch=False), NOW)
        enqueue(s, _spec("U2", "cutoff"), NOW)
    emulator.set_latency(0.3, "chat.postMessage")
    try:
        sent = deliver_due(db, _client(emulator), NOW, workers=8)
    finally:
        emulator.set_latency(0.0, "chat.postMessage")
    assert sorted(d.target for d in sent) == ["C0LEAD", "C0LEAD", "C0LEAD", "U2"]
    lead = [p for p in emulator.calls("chat.postMessage") if p["channel"] == "C0LEAD"]
    assert [p["text"] for p in lead] == [
        "flag-1 for C0LEAD",
        "flag-2 for C0LEAD",
        "flag-3 for C0LEAD",
    ]
    # each one sent only after Slack answered the one before (0.3 s each)
    assert all(b.at - a.at >= 0.29 for a, b in itertools.pairwise(lead))
