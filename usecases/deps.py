"""What every listener and job is handed: one configured instance of each service."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from connectors import Connectors
from domain.classify import MessageClassifier
from llm.model_client import Model
from storage.db import Database
from usecases.clock import Clock
from usecases.metric_sources import MetricSource
from usecases.privacy import ChannelGuard


def _nothing() -> None:
    return None


@dataclass
class Deps:
    db: Database
    clock: Clock
    # The bot's Web API client (with retry handlers); None where no Slack is configured.
    slack: WebClient | None = None
    # The model client behind its circuit breaker; None when no LLM is configured.
    llm: Model | None = None
    # Classifies channel messages for flags (the rules, or the LLM falling back to them).
    classifier: MessageClassifier | None = None
    # Wakes the inbox after a follow-up task was committed (set by the inbox; a no-op without).
    kick: Callable[[], None] = field(default=_nothing)
    # Every feature's leadership figures (bot/features.py), read by metrics and the digest.
    metric_sources: tuple[MetricSource, ...] = ()
    # Linear and GitHub (docs/process.md, "Linear and GitHub"); None when no token is set.
    connectors: Connectors | None = None
    # Log lines said once per process ("digest channel unset for 2026-W47").
    warned: set[str] = field(default_factory=set)
    _guard: ChannelGuard | None = field(default=None, repr=False)
    _guard_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def channel_guard(self, web: WebClient) -> ChannelGuard:
        """The process's one channel guard (its cache of which channels are shared)."""
        with self._guard_lock:
            if self._guard is None:
                self._guard = ChannelGuard(web)
            return self._guard

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        return self  # one per process: Bolt copies contexts for lazy listeners
