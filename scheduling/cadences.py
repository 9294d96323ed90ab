"""Where the tick found the cadences before the layout: kept only until the engine takes
`scheduling.cadence_jobs.ENQUEUERS`, `usecases.noise_gate.make_gate` and
`usecases.cadence.render_batch` from the feature registry; then delete this module."""

from __future__ import annotations

from domain.cadence_plan import CUTOFF
from scheduling.cadence_jobs import enqueue_cadences as cadence_enqueuer
from usecases.cadence import render_batch
from usecases.noise_gate import make_gate

__all__ = ["CUTOFF", "cadence_enqueuer", "make_gate", "render_batch"]
