"""The HTTP under both connectors: one `httpx.Client` per API with its token in a header, and a
retry loop that honours the API's own pacing: `Retry-After` (seconds or an HTTP date),
GitHub's `x-ratelimit-remaining: 0` with `x-ratelimit-reset` (epoch seconds), Linear's
`X-RateLimit-Requests-Reset` (epoch milliseconds), and exponential back-off on 5xx and lost
connections. A wait longer than `max_wait` is not slept: the fetch fails soft instead
(`Unreachable`), and the next scheduled fetch tries again.

The token is never logged and never put in an error: errors carry the method, the path and
the status only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from connectors.errors import RetryPolicy, Sleep, Unreachable

logger = logging.getLogger(__name__)

__all__ = ["Api", "RetryPolicy", "Sleep", "Unreachable"]


def _header_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """How long the API asks us to wait, from its headers (None: it does not say)."""
    retry_after = headers.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
            except (TypeError, ValueError):
                pass
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
        try:
            return max(0.0, float(headers["x-ratelimit-reset"]) - now)
        except ValueError:
            pass
    linear_reset = headers.get("x-ratelimit-requests-reset")
    if linear_reset and headers.get("x-ratelimit-requests-remaining") == "0":
        try:
            return max(0.0, float(linear_reset) / 1000.0 - now)
        except ValueError:
            pass
    return None


def rate_limited(response: httpx.Response) -> bool:
    """429; GitHub's 403 with no requests left (its primary and secondary limits); Linear's
    GraphQL error `RATELIMITED` (answered with HTTP 400)."""
    if response.status_code == 429:
        return True
    h = response.headers
    if response.status_code == 403:
        return h.get("x-ratelimit-remaining") == "0" or "retry-after" in h
    if response.status_code == 400 and "json" in h.get("content-type", ""):
        try:
            errors = response.json().get("errors") or []
        except (ValueError, AttributeError):
            return False
        return any((e.get("extensions") or {}).get("code") == "RATELIMITED" for e in errors)
    return False


class Api:
    """One API: a base URL, its auth headers, and `request` with the retry loop."""

    def __init__(
        self,
        source: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        wall: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ):
        self.source = source
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._wall = wall
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers),
            timeout=self.policy.timeout,
            follow_redirects=True,
            transport=transport,
        )
        self.waited: list[float] = []  # every pause taken (what the tests read)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The answer (2xx), after waiting out rate limits and retrying failures; otherwise
        Unreachable with a reason that names the status, never the headers."""
        p = self.policy
        delay = p.backoff
        path = url.split("?", 1)[0] if not url.startswith("http") else httpx.URL(url).path
        last = "no answer"
        for attempt in range(1, p.attempts + 1):
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                last = f"cannot connect ({type(exc).__name__})"
                logger.warning("%s %s %s: %s", self.source, method, path, last)
            else:
                if response.is_success:
                    return response
                wait = _header_seconds(response.headers, self._wall())
                if rate_limited(response):
                    last = f"rate-limited (HTTP {response.status_code})"
                    wait = wait if wait is not None else delay
                    if wait > p.max_wait:
                        raise Unreachable(self.source, f"{last}, retry in {wait:.0f}s")
                elif response.status_code in (401, 403):
                    raise Unreachable(
                        self.source, f"the token was refused (HTTP {response.status_code})"
                    )
                elif response.status_code >= 500:
                    last = f"HTTP {response.status_code}"
                    wait = delay
                else:
                    raise Unreachable(self.source, f"HTTP {response.status_code} on {path}")
                logger.warning("%s %s %s: %s, waiting %.1fs", self.source, method, path, last, wait)
                if attempt < p.attempts:
                    self.waited.append(wait)
                    self._sleep(min(wait, p.max_wait))
                delay *= 2
                continue
            if attempt < p.attempts:
                self.waited.append(delay)
                self._sleep(delay)
                delay *= 2
        raise Unreachable(self.source, last)
