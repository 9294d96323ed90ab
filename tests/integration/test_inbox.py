"""Acked means kept: the inbox and the spool behind every acknowledged request."""

from __future__ import annotations

import itertools
import json
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_bolt import Ack, BoltContext
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from devkit.signing import sign
from domain.calendar import IsoWeek
from handlers.common import after_ack
from handlers.inbox import SWEEP_GAP, add_task, task
from handlers.lanes import EVENTS
from storage import status as service_status
from storage.models import InboxItem, Pulse, Touchpoint
from tests.conftest import NY, SECRET, BotHarness, wait_until
from usecases.deps import Deps
from usecases.digest_actions import load_digest

AT = datetime(2026, 11, 20, 9, 0, tzinfo=NY)

CALLS: dict[str, list[dict[str, Any]]] = {"flaky": [], "noted": []}


@task("test.flaky", EVENTS)
def _flaky(deps: Deps, payload: dict[str, Any]) -> None:
    CALLS["flaky"].append(payload)
    if len(CALLS["flaky"]) == 1:
        raise OperationalError("INSERT …", {}, ConnectionRefusedError("connection refused"))


@task("test.noted", EVENTS)
def _noted(deps: Deps, payload: dict[str, Any]) -> None:
    CALLS["noted"].append(payload)


def _count(bot: BotHarness, model: type) -> int:
    with bot.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _healthz(bot: BotHarness) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(bot.server.url + "/healthz", timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _sqlite_path(bot: BotHarness) -> str:
    url = bot.settings.database_url
    if not url.startswith("sqlite"):
        pytest.skip("an SQLite lock")
    return url.removeprefix("sqlite:///")


def test_while_the_database_is_locked_requests_are_spooled_and_recorded_after(
    bot: BotHarness,
) -> None:
    locker = sqlite3.connect(_sqlite_path(bot), timeout=0)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        for i in range(5):
            status, _ = bot.message("C0ACME", "U0CSO1", f"update {i}", AT + timedelta(minutes=i))
            assert status == 200
        status, ack = bot.command("/pulse", "acme happy update: sent the report")
        assert status == 200
        # Honest: kept, not "saved" — nothing is in the database yet.
        assert "kept safely" in ack and "recorded as soon as it's back" in ack
        assert bot.inbox.spool.waiting() == 6
        code, report = _healthz(bot)
        assert code == 503 and report["database"].startswith("unavailable")
        assert bot.emulator.calls("response_url") == []
    finally:
        locker.rollback()
        locker.close()
    bot.settle(timeout=45)
    assert _count(bot, Touchpoint) == 5 and _count(bot, Pulse) == 1
    assert "Acme Corp" in bot.wait_response()  # the confirmation, once it is really saved
    assert bot.inbox.spool.waiting() == 0
    assert _healthz(bot)[0] == 200


def test_a_transient_failure_is_retried_with_back_off_and_then_done(bot: BotHarness) -> None:
    CALLS["flaky"].clear()
    with bot.db.transaction() as session:
        assert add_task(session, "test.flaky", "one", {"n": 1})
        assert not add_task(session, "test.flaky", "one", {"n": 1})  # its key: once
    bot.deps.kick()
    wait_until(lambda: len(CALLS["flaky"]) == 2, timeout=15)
    bot.settle()
    with bot.db.session() as s:
        [item] = s.scalars(select(InboxItem).where(InboxItem.kind == "test.flaky"))
    assert item.status == "done" and item.attempts == 2 and item.body is None


def test_a_dead_processs_item_is_taken_over_when_its_lease_runs_out(bot: BotHarness) -> None:
    CALLS["noted"].clear()
    now = datetime.now(UTC)
    with bot.db.transaction() as s:
        s.add(
            InboxItem(
                key="task:test.noted:orphan",
                lane=EVENTS,
                kind="test.noted",
                mode="http",
                body=json.dumps({"from": "a killed process"}),
                status="pending",
                attempts=0,
                next_at=now - timedelta(seconds=30),
                owner="host:999:dead",
                lease_until=now - timedelta(seconds=1),
                received_at=now - timedelta(seconds=30),
            )
        )
    bot.settle()
    assert CALLS["noted"] == [{"from": "a killed process"}]


def test_work_that_keeps_failing_is_given_up_and_the_person_told(bot: BotHarness) -> None:
    def boom(ack: Ack, context: BoltContext) -> None:
        ack()

        def work() -> None:
            raise ValueError("a bug")

        after_ack(context, work)

    bot.app.command("/boom")(boom)
    status, ack = bot.command("/boom", "")
    assert status == 200 and ack == ""
    text = bot.wait_response(timeout=30)
    assert text.startswith(":warning: Sorry — that didn't go through")
    assert "ValueError" not in text and "a bug" not in text
    with bot.db.session() as s:
        [item] = s.scalars(select(InboxItem).where(InboxItem.key.like("command:%")))
    assert item.status == "failed" and item.attempts == 3 and item.body is None


def test_a_body_over_a_megabyte_is_refused_before_it_is_read(bot: BotHarness) -> None:
    host, port = bot.server.url.removeprefix("http://").split(":")
    body_size = 200 * 1024 * 1024
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {body_size}\r\n\r\n"
            ).encode()
            + b"{" * 1024  # 1 KB of the promised 200 MB: the answer comes without the rest
        )
        answer = sock.recv(200)
    assert answer.startswith(b"HTTP/1.1 413")


def test_malformed_json_gets_400_not_a_traceback(bot: BotHarness) -> None:
    for body in (b'{"type": "event_callback", "event": ', b"[1, 2]", b'"\xff"'):
        status, raw = bot.post(body, headers={"Content-Type": "application/json"})
        assert status == 400 and b"Traceback" not in raw


def test_app_rate_limited_is_an_alarm_in_the_log_and_in_healthz(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    minute = int(datetime.now(UTC).timestamp()) // 60 * 60
    body = json.dumps(
        {
            "token": "t",
            "type": "app_rate_limited",
            "team_id": "T0EMU",
            "minute_rate_limited": minute,
            "api_app_id": "A0CSOBOT",
        }
    ).encode()
    status, _ = bot.post(body)
    assert status == 200
    assert any(
        r.levelname == "ERROR" and "app_rate_limited" in r.getMessage() for r in caplog.records
    )
    code, report = _healthz(bot)
    assert code == 200 and report["status"] == "degraded"
    stamp = datetime.fromtimestamp(minute, UTC).strftime("%Y-%m-%dT%H:%MZ")
    assert report["slack"]["events_dropped_minutes"] == [stamp]


@pytest.mark.parametrize("kind", ["tokens_revoked", "app_uninstalled"])
def test_revoked_or_uninstalled_shows_in_healthz(bot: BotHarness, kind: str) -> None:
    event = {"type": kind, "event_ts": "1.0"}
    if kind == "tokens_revoked":
        event["tokens"] = {"bot": ["UBOT"]}
    status, _ = bot.event(event)
    assert status == 200
    bot.settle()
    code, report = _healthz(bot)
    assert code == 503 and report["slack"]["revoked"]["reason"] == kind


def test_an_unsigned_or_stale_request_is_not_kept(bot: BotHarness) -> None:
    body = b'{"type": "event_callback", "event_id": "EvX", "event": {"type": "message"}}'
    req = urllib.request.Request(
        bot.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 401
    stale = sign(SECRET, body, timestamp=int(datetime.now(UTC).timestamp()) - 600)
    req = urllib.request.Request(
        bot.url, data=body, headers={"Content-Type": "application/json", **stale}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 401
    assert _count(bot, InboxItem) == 0


def test_the_next_digest_says_which_hours_the_record_may_be_missing(bot: BotHarness) -> None:
    dropped = datetime(2026, 11, 18, 14, 5, tzinfo=NY)  # Wednesday of 2026-W47
    body = json.dumps(
        {"type": "app_rate_limited", "minute_rate_limited": int(dropped.timestamp())}
    ).encode()
    assert bot.post(body)[0] == 200
    with bot.db.session() as session:
        digest = load_digest(session, IsoWeek(2026, 47), bot.clock.now())
        before = load_digest(session, IsoWeek(2026, 46), bot.clock.now())
    [gaps] = [s for s in digest.sections if s.id == "gaps"]
    assert [i.text for i in gaps.items] == ["Wed 18 Nov 14:00–15:00"]
    assert "may be missing" in gaps.summary
    assert any("Record gaps" in a for a in digest.attention_items)
    [quiet] = [s for s in before.sections if s.id == "gaps"]
    assert quiet.items == [] and "every event" in quiet.summary


def test_a_failed_reply_is_tried_once_more(bot: BotHarness) -> None:
    bot.emulator.fail_next("response_url", status=500)
    bot.command("/pulse", "acme happy")
    calls = bot.emulator.wait_for("response_url", count=2)
    assert calls[0]["text"] == calls[1]["text"] and "Acme Corp" in calls[1]["text"]


def test_nothing_is_sent_once_slack_says_the_app_lost_access(bot: BotHarness) -> None:
    from scheduling.runner import run_tick

    bot.event({"type": "app_uninstalled", "event_ts": "1.0"})
    bot.settle()
    bot.clock.set(datetime(2026, 11, 20, 15, 5, tzinfo=NY))  # the cutoff: nudges are due
    bot.emulator.clear()
    run_tick(bot.deps, bot.web, bot.jobs)
    assert bot.emulator.calls("chat.postMessage") == []
    with bot.db.transaction() as s:  # installed again
        service_status.clear(s, service_status.REVOKED)
    run_tick(bot.deps, bot.web, bot.jobs)
    assert bot.emulator.calls("chat.postMessage")  # the same minute's nudges now go out


def test_healthz_reports_what_the_write_before_each_ack_costs(bot: BotHarness) -> None:
    code, report = _healthz(bot)
    assert code == 200 and report["inbox"]["write_ms"] == {"samples": 0}  # no data, not 0 ms
    for i in range(3):
        status, _ = bot.message("C0ACME", "U0EXT1", f"Quick question number {i}", AT)
        assert status == 200
    bot.settle()
    written = _healthz(bot)[1]["inbox"]["write_ms"]
    assert written["samples"] == 3
    assert 0 < written["p50"] <= written["p99"]


def test_requests_arriving_together_are_each_kept_once_by_the_group_writer(
    bot: BotHarness,
) -> None:
    import threading

    statuses: list[int] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        status, _ = bot.message(
            "C0ACME",
            "U0CSO1",
            f"Shipped fix number {i} for the export team today",
            AT,
            event_id=f"EvGroup{i:03d}",
        )
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 24
    bot.settle(timeout=45)
    with bot.db.session() as s:
        keys = list(s.scalars(select(InboxItem.key).where(InboxItem.kind == "slack")))
    group = [k for k in keys if "EvGroup" in k]
    assert len(group) == len(set(group)) == 24  # every one kept, none twice
    assert bot.inbox.spool.waiting() == 0


def test_a_burst_of_kicks_is_a_few_sweeps_not_one_each(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each client message kicks the sweeper (its classification waits in the model lane): the
    sweeps of a burst start SWEEP_GAP apart, each taking what arrived meanwhile."""
    inbox = bot.inbox
    sweeps: list[float] = []
    sweep = inbox.sweep

    def counted() -> int:
        sweeps.append(time.monotonic())
        return sweep()

    monkeypatch.setattr(inbox, "sweep", counted)
    inbox.kick()
    assert wait_until(lambda: bool(sweeps), 5)
    began = time.monotonic()
    kicks = 200
    for _ in range(kicks):
        inbox.kick()
        time.sleep(0.001)
    time.sleep(2 * SWEEP_GAP)
    elapsed = time.monotonic() - began
    during = [t for t in sweeps if t >= began]
    assert during, "the kicks brought no sweep"
    assert len(during) <= elapsed / SWEEP_GAP + 2, (len(during), elapsed)
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert all(g >= SWEEP_GAP * 0.9 for g in gaps), gaps
