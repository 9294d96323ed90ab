"""The fault harness does what it says (so a passing fault test means the fault happened)."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from prompts.render import render
from tests.faults.claims import claims_saved
from tests.faults.harness import SqliteLocker, TcpProxy, business_times, channel_messages
from tests.llm_server import FakeLLMServer


@pytest.fixture
def echo_port() -> int:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield int(server.getsockname()[1])
    server.close()


def _echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def test_proxy_forwards_refuses_and_forwards_again(echo_port: int) -> None:
    with TcpProxy("127.0.0.1", echo_port) as proxy:
        conn = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
        conn.sendall(b"ping")
        assert conn.recv(4) == b"ping"
        port = proxy.port

        proxy.refuse()
        try:
            closed = conn.recv(4) == b""
        except OSError:
            closed = True
        assert closed  # the proxied connection was closed
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2)

        proxy.forward()
        assert proxy.port == port
        with socket.create_connection(("127.0.0.1", port), timeout=2) as again:
            again.sendall(b"pong")
            assert again.recv(4) == b"pong"
        assert proxy.accepted == 2


def test_locker_blocks_other_writers_until_released(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x INTEGER)")
    locker = SqliteLocker(path).hold(30)
    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("INSERT INTO t VALUES (1)")
    assert other.execute("SELECT count(*) FROM t").fetchone() == (0,)  # reads go on (WAL)
    locker.release()
    assert locker.released_at is not None and not locker.held
    other.execute("INSERT INTO t VALUES (1)")
    other.close()


def test_llm_hang_holds_requests_until_released() -> None:
    with FakeLLMServer() as llm:
        llm.hang(label="risk", max_hang=30)
        answers: list[dict[str, object]] = []

        def call() -> None:
            req = urllib.request.Request(
                llm.base_url + "/chat/completions",
                data=json.dumps({"model": "m", "messages": []}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=30) as resp:
                answers.append(json.loads(resp.read()))

        caller = threading.Thread(target=call)
        caller.start()
        caller.join(0.5)
        assert caller.is_alive() and llm.hanging == 1 and not answers
        llm.release()
        caller.join(10)
        assert llm.hanging == 0
        content = answers[0]["choices"][0]["message"]["content"]  # type: ignore[index]
        assert json.loads(content) == {"label": "risk"}


def test_claims() -> None:
    assert claims_saved("Something went wrong. Nothing you typed was lost — please try again.")
    assert not claims_saved(render("messages/internal_error.j2"))  # it says: not saved
    assert not claims_saved(render("messages/queued.j2"))  # kept, recorded once it's back
    assert claims_saved(":white_check_mark: Pulse recorded for *Acme Corp*: happy")
    assert claims_saved("Your pulse for Acme Corp is saved.")
    assert not claims_saved("The database is away: your pulse will be recorded once it is back.")
    assert not claims_saved("I could not save that yet; I'll tell you when it is recorded.")


def test_messages_spread_over_business_days() -> None:
    times = business_times(600, start=date(2026, 11, 13), per_day=120)  # a Friday
    days = sorted({t.date() for t in times})
    assert len(days) == 5 and all(d.weekday() < 5 for d in days)
    batch = channel_messages(600)
    assert len(set(batch.ts)) == len(set(batch.event_ids)) == 600
