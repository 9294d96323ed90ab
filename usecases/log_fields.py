"""What a log line is about, for the operator's structured logs (CSOBOT_LOG_FORMAT=json).

The inbox and the scheduler bind the request they are running (`request_id`, `event_id`) and a
use case may add the client it works on (`client`); every line logged meanwhile on that thread
carries them. Binding costs one context-variable set: nothing is formatted unless a line is
written (bot/logs.py reads them there).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk.errors import SlackApiError

# The fields an operator can filter on, in the order a JSON line shows them.
FIELDS = ("request_id", "event_id", "client", "slack_method", "slack_error", "latency_ms")

_bound: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "csobot_log_fields", default=None
)


def current() -> dict[str, Any]:
    """The fields bound on this thread (or context), possibly none."""
    return _bound.get() or {}


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Every line logged inside carries `fields` (None values are left out)."""
    merged = {**current(), **{k: v for k, v in fields.items() if v is not None}}
    token = _bound.set(merged)
    try:
        yield
    finally:
        _bound.reset(token)


def slack_error_of(exc: SlackApiError) -> str:
    """Slack's error code (`channel_not_found`), or the HTTP status when the body has none."""
    response = exc.response
    if response is None:
        return "no_response"
    return str(response.get("error") or f"http_{response.status_code}")


def slack_method_of(exc: SlackApiError) -> str | None:
    """`chat.postMessage`, from the failed call's URL."""
    url = str(getattr(exc.response, "api_url", "") or "")
    return url.rstrip("/").rsplit("/", 1)[-1] or None


def slack_fields(exc: BaseException) -> dict[str, Any]:
    """`slack_method` and `slack_error` of a Slack failure (nothing for any other error)."""
    if not isinstance(exc, SlackApiError):
        return {}
    return {"slack_method": slack_method_of(exc), "slack_error": slack_error_of(exc)}
