"""What every listener and job is handed: one configured instance of each service."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.settings import Settings
from storage.db import Database


class InFlight:
    """Counts requests being answered, so after-ack work can give way to acks."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()

    def __enter__(self) -> InFlight:
        with self._lock:
            self._n += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._n -= 1

    def give_way(self, max_wait: float = 0.05) -> None:
        """Wait (at most `max_wait` s, so work is never starved) while requests are in flight."""
        deadline = time.monotonic() + max_wait
        while self._n > 0 and time.monotonic() < deadline:
            time.sleep(0.002)


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    # After-ack work runs here, not in Bolt's listener pool, so that a backlog of slow work
    # never delays the next request's ack (Slack's 3-second contract).
    background: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="after-ack")
    )
    inflight: InFlight = field(default_factory=InFlight)
    # Optional services that later features plug in (LLM classifier, scheduler...).
    extras: dict[str, Any] = field(default_factory=dict)
