"""The tick: work out everything due at `now`, write it to the outbox, deliver it once.

Each time-driven feature contributes *enqueuers* (its `ENQUEUERS`, listed in bot/features.py):
functions that look at the database at `now` and write the nudges that are due through
`usecases.outbox.enqueue` (idempotent by natural key). `tick` runs the enqueuers it is given,
then delivers. Running it twice, or in two processes at once, sends each nudge once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient

from usecases.cadence_actions import render_batch
from usecases.deps import Deps
from usecases.noise_gate import Wait, make_gate
from usecases.outbox import Delivery, Gate, deliver_due, read_client

logger = logging.getLogger(__name__)

# An enqueuer writes the nudges due at `now` and returns how many were new.
Enqueuer = Callable[[Deps, datetime], int]
# The enqueuers a tick runs, by name, in order (bot/features.py gives every feature's).
Jobs = Sequence[tuple[str, Enqueuer]]


@dataclass
class TickReport:
    now: datetime
    enqueued: dict[str, int] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    # Nudges the noise gate held back this tick, and why (by person).
    waiting: list[Delivery] = field(default_factory=list)
    waits: dict[str, Wait] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return sum(len(d.keys) for d in self.deliveries if d.ok)


def tick(
    deps: Deps, client: WebClient, now: datetime, jobs: Jobs, *, gate: Gate | None = None
) -> TickReport:
    report = TickReport(now=now)
    for name, enqueue in jobs:
        try:
            report.enqueued[name] = enqueue(deps, now)
        except Exception as exc:  # one feature's bug must not stop the others' nudges
            logger.exception("enqueuer %s failed", name)
            report.errors[name] = type(exc).__name__
    # The gate's reads (Do Not Disturb) wait out a short Retry-After, never a long one.
    if gate is None:
        gate = make_gate(deps, read_client(client), waits=report.waits)
    report.deliveries = deliver_due(
        deps.db, client, now, gate=gate, batcher=render_batch, postponed=report.waiting
    )
    return report
