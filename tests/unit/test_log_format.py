"""The log formats an operator reads: `json` lines parse and carry the known fields, secrets
stay out, and a Slack failure always names Slack's error code (text and json)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.logs import ContextFilter, RedactingFilter, make_formatter
from usecases import log_fields


def _slack_error(method: str, code: str) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url=f"https://slack.com/api/{method}",
        req_args={},
        data={"ok": False, "error": code},
        headers={},
        status_code=200,
    )
    return SlackApiError("The request to the Slack API failed.", response)


@pytest.fixture(params=["json", "text"])
def stream(request: pytest.FixtureRequest) -> Iterator[tuple[str, io.StringIO, logging.Logger]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(make_formatter(request.param, ["s3cr3t-signing-value"]))
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(["s3cr3t-signing-value"]))
    logger = logging.getLogger(f"csobot.test.format.{request.param}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield request.param, out, logger
    finally:
        logger.removeHandler(handler)


def test_each_json_line_parses_and_carries_the_bound_and_extra_fields(
    stream: tuple[str, io.StringIO, logging.Logger],
) -> None:
    fmt, out, logger = stream
    if fmt != "json":
        pytest.skip("json only")
    with log_fields.bound(request_id="inbox-7", event_id="Ev0001"):
        logger.info("recorded %s message for %s", "team", "acme", extra={"client": "acme"})
        with log_fields.bound(client="globex"):
            logger.warning("inner")
    logger.info("outside", extra={"latency_ms": 12.5})
    lines = [json.loads(raw) for raw in out.getvalue().splitlines()]
    assert len(lines) == 3
    first, inner, outside = lines
    assert first["message"] == "recorded team message for acme"
    assert (first["request_id"], first["event_id"], first["client"]) == (
        "inbox-7",
        "Ev0001",
        "acme",
    )
    assert first["level"] == "INFO" and first["time"].endswith("+00:00")
    assert inner["client"] == "globex" and inner["request_id"] == "inbox-7"
    assert outside["latency_ms"] == 12.5 and "request_id" not in outside


def test_a_slack_failure_names_its_method_and_code(
    stream: tuple[str, io.StringIO, logging.Logger],
) -> None:
    fmt, out, logger = stream
    exc = _slack_error("chat.postMessage", "channel_not_found")
    try:
        raise exc
    except SlackApiError:
        logger.exception("posting the digest failed")
    logger.warning("cannot read channel %s (%s)", "C1", _slack_error("conversations.info", "x_y"))
    text = out.getvalue()
    if fmt == "json":
        first, second = (json.loads(raw) for raw in text.splitlines())
        assert first["slack_error"] == "channel_not_found"
        assert first["slack_method"] == "chat.postMessage"
        assert "channel_not_found" in first["message"]
        assert "Traceback" in first["exception"]
        assert second["slack_error"] == "x_y" and second["slack_method"] == "conversations.info"
        assert second["message"] == "cannot read channel C1 (SlackApiError(x_y))"
    else:
        assert "posting the digest failed (Slack error: channel_not_found)" in text
        assert "cannot read channel C1 (SlackApiError(x_y))" in text


def test_secrets_stay_out_of_json_lines_and_tracebacks(
    stream: tuple[str, io.StringIO, logging.Logger],
) -> None:
    fmt, out, logger = stream
    try:
        raise RuntimeError("bad token xoxb-1234567890-abcdef and s3cr3t-signing-value")
    except RuntimeError:
        logger.exception("calling with %s", "xoxb-1234567890-abcdef")
    text = out.getvalue()
    assert "xoxb-1234567890" not in text.split("Traceback")[0]
    if fmt == "json":
        line = json.loads(text)
        assert "xoxb-1234567890" not in line["exception"]
        assert "s3cr3t-signing-value" not in line["exception"]
        assert "xoxb-[redacted]" in line["message"]
