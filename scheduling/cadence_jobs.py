"""The cadences' enqueuer, run by the tick: every rhythm of the catalogue, nudged at each
person's local time, once (the rules are `domain.cadence_plan`, the work
`usecases.cadence_actions`)."""

from __future__ import annotations

from datetime import datetime

from usecases import cadence_actions as cadence
from usecases.deps import Deps


def enqueue_cadences(deps: Deps, now: datetime) -> int:
    """Write the nudges due at `now` in one transaction: returns how many were new."""
    with deps.db.transaction() as tx:
        return cadence.enqueue_due(tx, now)


ENQUEUERS = (("cadences", enqueue_cadences),)
