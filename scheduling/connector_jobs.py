"""The board's schedule (docs/process.md, "Linear and GitHub"): each tick refreshes the cached
Linear and GitHub boards that are older than the refresh interval; then the story check
writes a nudge for each new mismatch (usecases/story_actions.py)."""

from __future__ import annotations

from datetime import datetime

from scheduling.engine import Enqueuer
from usecases.connector_actions import refresh_due
from usecases.deps import Deps
from usecases.story_actions import enqueue_story_nudges


def refresh_boards(deps: Deps, now: datetime) -> int:
    refresh_due(deps, now)
    return 0  # it fetches; it writes no nudge


ENQUEUERS: tuple[tuple[str, Enqueuer], ...] = (
    ("board_refresh", refresh_boards),
    ("story_scan", enqueue_story_nudges),
)
