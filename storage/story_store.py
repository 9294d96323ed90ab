"""What the team told the client over a window (docs/process.md, "Story vs board"): the
excerpts of its messages and updates in the client channel, the wins, and the pulse "update"
lines, as `domain.story.StoryLine`s, in three queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from domain.story import StoryLine, StorySource
from storage.db import Transaction
from storage.models import Pulse, Touchpoint, Win


def story_between(
    tx: Transaction, client_id: int, start: datetime, end: datetime
) -> list[StoryLine]:
    out: list[StoryLine] = []
    for t in tx.scalars(
        select(Touchpoint).where(
            Touchpoint.client_id == client_id,
            Touchpoint.occurred_at >= start,
            Touchpoint.occurred_at < end,
            Touchpoint.excerpt != "",
        )
    ):
        source: StorySource = "update" if t.source == "update" else "message"
        out.append(StoryLine(source, f"touchpoint:{t.id}", t.excerpt, t.occurred_at, t.link))
    for w in tx.scalars(
        select(Win).where(Win.client_id == client_id, Win.created_at >= start, Win.created_at < end)
    ):
        out.append(StoryLine("win", f"win:{w.id}", w.text, w.created_at, w.link))
    for p in tx.scalars(
        select(Pulse).where(
            Pulse.client_id == client_id,
            Pulse.created_at >= start,
            Pulse.created_at < end,
            Pulse.update.is_not(None),
        )
    ):
        out.append(StoryLine("pulse", f"pulse:{p.id}", p.update or "", p.created_at))
    out.sort(key=lambda s: s.at)
    return out
