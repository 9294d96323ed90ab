"""The lifecycle job run by the tick: onboarding items due, stalls, the kickoff timer, the
renewal forecast to Sales Ops and the lifecycle stages, in one transaction."""

from __future__ import annotations

from datetime import datetime

from scheduling.engine import Enqueuer
from usecases import lifecycle_nudges
from usecases.deps import Deps


def enqueue_lifecycle(deps: Deps, now: datetime) -> int:
    guard = deps.channel_guard(deps.slack) if deps.slack is not None else None
    with deps.db.transaction() as tx:
        return lifecycle_nudges.write_due(tx, now, guard)


ENQUEUERS: tuple[tuple[str, Enqueuer], ...] = (("lifecycle", enqueue_lifecycle),)
