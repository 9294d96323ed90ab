"""The model, kept in its place: a circuit breaker in front of every call.

After `failures_to_open` failures in a row the breaker opens: for `cool_down` seconds every
call fails at once with `LLMError` (the callers fall back to the rules or the template), logged
once when it opens and once when the model answers again. Each call is itself bounded by the
client's timeout, with no retries, so a hung model holds a model-lane thread for at most that
long, and only until the breaker opens.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from llm.client import LLMClient, LLMError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class CircuitBreaker:
    def __init__(
        self,
        failures_to_open: int = 3,
        cool_down: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.failures_to_open = failures_to_open
        self.cool_down = cool_down
        self.clock = clock
        self._failures = 0
        self._open_until: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_until is not None

    def allow(self) -> bool:
        """May a call go to the model now? After the cool-down, one trial call goes through."""
        with self._lock:
            if self._open_until is None:
                return True
            if self.clock() >= self._open_until and not self._trial:
                self._trial = True
                return True
            return False

    def success(self) -> None:
        with self._lock:
            was_open = self._open_until is not None
            self._failures, self._open_until, self._trial = 0, None, False
        if was_open:
            log.info("the model answers again: using it")

    def failure(self, reason: str) -> None:
        with self._lock:
            self._failures += 1
            opening = self._open_until is None and self._failures >= self.failures_to_open
            if self._open_until is not None or opening:
                self._open_until = self.clock() + self.cool_down
                self._trial = False
        if opening:
            log.error(
                "the model failed %d times in a row (%s): rules and templates only for %gs",
                self.failures_to_open,
                reason,
                self.cool_down,
            )


class GuardedLLM:
    """`complete_json` through the breaker; the same interface as `LLMClient`."""

    def __init__(self, client: LLMClient, breaker: CircuitBreaker):
        self.client = client
        self.breaker = breaker
        self.model = client.model

    def complete_json(self, system: str, user: str, schema_model: type[M]) -> M:
        if not self.breaker.allow():
            raise LLMError("the model is resting after repeated failures")
        try:
            answer = self.client.complete_json(system, user, schema_model)
        except LLMError as exc:
            self.breaker.failure(str(exc))
            raise
        self.breaker.success()
        return answer

    def close(self) -> None:
        self.client.close()
