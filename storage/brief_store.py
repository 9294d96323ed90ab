"""What a meeting brief reads that no other store answers (docs/process.md, "Meeting briefs"):
the week's touchpoints with their links, and the latest Hook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.db import Transaction
from storage.models import Pulse, Touchpoint


@dataclass(frozen=True)
class TouchpointLine:
    id: int
    kind: str
    source: str
    author_id: str
    excerpt: str
    link: str | None
    occurred_at: datetime


def touchpoints_between(
    tx: Transaction, client_id: int, start: datetime, end: datetime
) -> list[TouchpointLine]:
    rows = tx.scalars(
        select(Touchpoint)
        .where(
            Touchpoint.client_id == client_id,
            Touchpoint.occurred_at >= start,
            Touchpoint.occurred_at < end,
        )
        .order_by(Touchpoint.occurred_at)
    )
    return [
        TouchpointLine(
            t.id,
            t.kind,
            t.source,
            t.author_id,
            t.excerpt,
            t.link or message_link(t.channel, t.message_ts),
            t.occurred_at,
        )
        for t in rows
    ]


def message_link(channel: str | None, ts: str | None) -> str | None:
    """A Slack message's archive link (Slack redirects it to the workspace), for a touchpoint
    recorded from a message without a stored permalink."""
    if not channel or not ts:
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def latest_hook(tx: Transaction, client_id: int) -> tuple[int, str, datetime] | None:
    row = tx.scalars(
        select(Pulse)
        .where(Pulse.client_id == client_id, Pulse.hook.is_not(None), Pulse.hook != "")
        .order_by(Pulse.created_at.desc())
        .limit(1)
    ).first()
    return (row.id, row.hook or "", row.created_at) if row is not None else None
