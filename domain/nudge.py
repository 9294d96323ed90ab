"""A nudge to write to the outbox: what every feature's enqueuer plans, and the outbox keeps
under its natural key (written before the Slack call, so a nudge is sent once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class NudgeSpec:
    cadence_id: str
    period: str
    target: str
    text: str
    due_at: datetime
    expires_at: datetime
    person_id: str | None = None
    client_id: int | None = None
    blocks: list[dict[str, Any]] | None = None
    batch: bool = True
    data: dict[str, Any] = field(default_factory=dict)
    key: str | None = None

    def natural_key(self) -> str:
        return self.key or ":".join(
            [
                self.cadence_id,
                self.person_id or self.target,
                str(self.client_id or "-"),
                self.period,
            ]
        )
