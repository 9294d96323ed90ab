"""What every listener and job is handed: one configured instance of each service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.settings import Settings
from storage.db import Database


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    # Optional services that later features plug in (LLM classifier, scheduler...).
    extras: dict[str, Any] = field(default_factory=dict)
