"""`csobot serve` with CSOBOT_LOG_FORMAT=json, as an operator runs it: every line is one JSON
object, lines carry the request, event and client they are about, a Slack failure carries Slack's
method and error code, and the start says nothing spurious."""

from __future__ import annotations

import json
import time
from typing import Any

from storage.models import Touchpoint
from tests.faults.harness import ACME_TEAM, Rows, Serve, ServeFactory, channel_messages


def _lines(server: Serve) -> list[dict[str, Any]]:
    text = server.tail(1_000_000)
    parsed = []
    for raw in text.splitlines():
        if raw.strip():
            parsed.append(json.loads(raw))  # a line that is not JSON fails here, with its text
    return parsed


def _wait_line(server: Serve, match: Any, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in _lines(server) if match(line)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no such log line in:\n{server.tail()}"
        time.sleep(0.2)


def test_json_logs_carry_the_fields_and_slack_error_codes(
    sqlite_url: str, serve: ServeFactory
) -> None:
    server = serve.start(sqlite_url, env={"CSOBOT_LOG_FORMAT": "json"})
    batch = channel_messages(2, authors=ACME_TEAM)
    assert [server.post(b).status for b in batch.bodies] == [200, 200]
    rows = Rows(sqlite_url)
    try:
        assert rows.wait_count(Touchpoint, 2, timeout=30) == 2
    finally:
        rows.dispose()

    # The work of a message event: the request, Slack's event id and the client are named.
    recorded = _wait_line(server, lambda ln: ln["message"].startswith("recorded "))
    assert recorded["client"] == "acme"
    assert recorded["event_id"] in batch.event_ids
    assert recorded["request_id"].startswith("inbox-")
    assert recorded["level"] == "INFO" and recorded["logger"].startswith("handlers.")

    # Slack refuses the form `/update` opens: the line says which method and Slack's code.
    server.emulator.fail_next("views.open", error="expired_trigger_id")
    server.command("/update", "acme eod", user="U0CSO1")  # Bolt answers 500: the form failed
    failed = _wait_line(server, lambda ln: ln.get("slack_error") == "expired_trigger_id")
    assert failed["slack_method"] == "views.open"
    assert failed["level"] == "ERROR"
    assert "expired_trigger_id" in failed["message"]
    assert "SlackApiError" in failed["exception"]  # the traceback, inside the one JSON object

    lines = _lines(server)  # every line, start-up included, is one JSON object
    assert not any("will be unused" in ln["message"] for ln in lines)
    assert not any(
        ln["level"] == "WARNING" and ln["logger"].startswith("csobot.bolt") for ln in lines
    )
    assert "xoxb-fault" not in server.tail(1_000_000)
