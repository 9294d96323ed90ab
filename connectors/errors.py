"""What the connectors' callers handle, without loading the HTTP client: the web process
imports this package whether or not a board is configured (httpx loads only when one is)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Sleep = Callable[[float], None]


class Unreachable(Exception):
    """The API could not be read now (down, refused, rate-limited for too long, bad token).
    `reason` is short and safe to show: it never contains the token."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # tries per request, the first included
    backoff: float = 0.5  # seconds before the 2nd try; doubled after each
    max_wait: float = 30.0  # the longest pause we sleep through; longer fails soft
    timeout: float = 10.0  # per request
