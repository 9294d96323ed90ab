"""The HTTP contract with Slack: signatures, url_verification, health, retries."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import datetime

from sqlalchemy import func, select

from bot.runtime import build_service
from bot.server import ServerThread
from devkit.signing import event_body, slash_command_body
from storage.db import Database
from storage.models import ProcessedEvent, Touchpoint
from tests.conftest import NY, BotHarness, wait_until
from usecases.deps import Deps


def _count(bot: BotHarness, model: type) -> int:
    with bot.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_url_verification_challenge_is_answered(bot: BotHarness) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"}).encode()
    status, raw = bot.post(body)
    assert status == 200
    assert b"abc123" in raw


def test_bad_signature_is_401_and_records_nothing(bot: BotHarness) -> None:
    at = datetime(2026, 11, 20, 9, tzinfo=NY)
    body = event_body(
        {
            "type": "message",
            "channel": "C0ACME",
            "user": "U0CSO1",
            "text": "hi",
            "ts": f"{at.timestamp():.6f}",
        }
    )
    status, _ = bot.post(body, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert status == 401
    bot.settle()  # every acked request done: nothing more can arrive
    assert _count(bot, Touchpoint) == 0


def test_stale_timestamp_is_401(bot: BotHarness) -> None:
    body = slash_command_body("/pulse", "", user_id="U0CSO1")
    status, _ = bot.post(body, timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    bot.settle()  # every acked request done: nothing more can arrive
    assert bot.emulator.calls("response_url") == []


def test_event_retry_is_recorded_once(bot: BotHarness) -> None:
    at = datetime(2026, 11, 20, 9, tzinfo=NY)
    first = bot.message("C0ACME", "U0CSO1", "Morning!", at, event_id="Ev0001")
    assert first[0] == 200
    body = event_body(
        {
            "type": "message",
            "channel": "C0ACME",
            "user": "U0CSO1",
            "text": "Morning!",
            "ts": f"{at.timestamp():.6f}",
        },
        event_id="Ev0001",
    )
    retry = bot.post(
        body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry[0] == 200
    wait_until(lambda: _count(bot, Touchpoint) == 1)
    bot.settle()  # every acked request done: nothing more can arrive
    assert _count(bot, Touchpoint) == 1
    assert _count(bot, ProcessedEvent) == 1


def test_first_delivery_carrying_a_retry_header_is_still_recorded(bot: BotHarness) -> None:
    """Regression: dropping every request with X-Slack-Retry-Num loses events whose first
    delivery timed out on Slack's side."""
    at = datetime(2026, 11, 20, 9, tzinfo=NY)
    body = event_body(
        {
            "type": "message",
            "channel": "C0ACME",
            "user": "U0CSO1",
            "text": "Morning!",
            "ts": f"{at.timestamp():.6f}",
        },
        event_id="Ev0002",
    )
    status, _ = bot.post(body, headers={"X-Slack-Retry-Num": "2"})
    assert status == 200
    wait_until(lambda: _count(bot, Touchpoint) == 1)


def test_healthz_answers_200_with_the_database(bot: BotHarness) -> None:
    with urllib.request.urlopen(bot.server.url + "/healthz", timeout=5) as resp:
        assert resp.status == 200
        assert json.loads(resp.read())["status"] == "ok"


def test_healthz_answers_503_without_the_database(bot: BotHarness) -> None:
    broken = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    service = build_service(Deps(db=broken, clock=bot.clock), bot.settings)
    server = ServerThread(service.wsgi).start()
    try:
        req = urllib.request.Request(server.url + "/healthz")
        try:
            urllib.request.urlopen(req, timeout=5)
            raise AssertionError("expected 503")
        except urllib.error.HTTPError as err:
            assert err.code == 503
    finally:
        server.stop()


def test_commands_are_acknowledged_empty_and_the_card_follows(bot: BotHarness) -> None:
    """The ack carries nothing (so nothing slow sits before it); the card comes after it,
    through the response_url. Speed itself is measured in bench/, not here."""
    status, ack = bot.command("/pulse", "")
    assert status == 200 and ack == ""
    assert "Partnership Pulse" in bot.wait_response()
