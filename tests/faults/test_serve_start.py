"""`csobot serve` started while its database or Slack is out of reach: it stays up, says so in
one line, keeps what it acknowledges, and catches up by itself."""

from __future__ import annotations

import time

from storage.models import Touchpoint
from tests.faults.harness import (
    ACME_TEAM,
    Rows,
    ServeFactory,
    TcpProxy,
    channel_messages,
    free_port,
)


def _wait_status(server: object, status: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    code = 0
    while time.monotonic() < deadline:
        code, _ = server.healthz()  # type: ignore[attr-defined]
        if code == status:
            return code
        time.sleep(0.3)
    return code


def test_serve_starts_without_its_database_and_catches_up(
    private_pg_url: str, serve: ServeFactory
) -> None:
    batch = channel_messages(5, authors=ACME_TEAM)
    rows = Rows(private_pg_url)
    try:
        with TcpProxy.for_url(private_pg_url) as proxy:
            proxy.forward()
            proxy.refuse()  # refusing before the process even starts
            server = serve.start(
                proxy.url_for(private_pg_url), import_db_url=private_pg_url, wait=False
            )
            server.wait_up(healthy=False)
            assert _wait_status(server, 503) == 503
            assert [server.post(b).status for b in batch.bodies] == [200] * 5
            proxy.forward()
            assert rows.wait_count(Touchpoint, 5, timeout=60) == 5
            assert _wait_status(server, 200) == 200
            log = server.tail(20000)
    finally:
        rows.dispose()
    assert log.count("cannot reach the database at postgresql+psycopg://") == 1
    assert "Traceback" not in log


def test_serve_starts_while_slack_is_out_of_reach(fault_db_url: str, serve: ServeFactory) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}/api/"
    server = serve.start(fault_db_url, env={"SLACK_API_URL": unreachable})
    batch = channel_messages(3, authors=ACME_TEAM)
    assert [server.post(b).status for b in batch.bodies] == [200] * 3
    rows = Rows(fault_db_url)
    try:
        assert rows.wait_count(Touchpoint, 3, timeout=30) == 3
    finally:
        rows.dispose()
    log = server.tail(20000)
    assert f"cannot reach Slack at {unreachable}" in log
    assert "Traceback" not in log
