"""What every listener and job is handed: one configured instance of each service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.settings import Settings
from storage.db import Database
from usecases.clock import Clock


def _nothing() -> None:
    return None


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    # Wakes the inbox after a follow-up task was committed (set by the inbox; a no-op without).
    kick: Callable[[], None] = field(default=_nothing)
    # Optional services that later features plug in (LLM classifier, scheduler...).
    extras: dict[str, Any] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        return self  # one per process: Bolt copies contexts for lazy listeners
