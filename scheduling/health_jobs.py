"""The health job run by the tick: health checks, alerts, escalations, renewal milestones and
playbook steps due at `now`, written to the outbox in one transaction."""

from __future__ import annotations

from datetime import datetime

from scheduling.engine import Enqueuer
from usecases import health_nudges
from usecases.deps import Deps


def enqueue_health(deps: Deps, now: datetime) -> int:
    with deps.db.transaction() as tx:
        return health_nudges.write_due(tx, now)


ENQUEUERS: tuple[tuple[str, Enqueuer], ...] = (("health", enqueue_health),)
