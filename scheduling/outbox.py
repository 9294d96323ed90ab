"""The exactly-once outbox: every nudge, reminder, alert and digest goes through here.

1. `enqueue` writes the nudge under its natural key (person, cadence, client, period) with a
   unique constraint *before* any Slack call; a second enqueue of the same key is a no-op.
2. `deliver_due` claims due rows atomically (UPDATE … WHERE status='pending'), so two
   processes ticking at once never both send; posts them (one message per person and slot:
   batched); then records the send. A failure puts the rows back to pending for the next tick.
3. A claim whose process died (killed between claim and send) is released after a lease and
   sent on a later tick; a nudge whose grace has passed is dropped, never sent late.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import blocks as bk
from storage.db import Database
from storage.models import Nudge
from storage.upsert import insert_ignore

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)


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


def enqueue(session: Session, spec: NudgeSpec, now: datetime) -> bool:
    """Write the nudge under its natural key. True if it is new."""
    return insert_ignore(
        session,
        Nudge,
        {
            "key": spec.natural_key(),
            "cadence_id": spec.cadence_id,
            "person_id": spec.person_id,
            "client_id": spec.client_id,
            "period": spec.period,
            "target": spec.target,
            "text": spec.text,
            "blocks": spec.blocks,
            "batch": spec.batch,
            "status": "pending",
            "due_at": spec.due_at,
            "expires_at": spec.expires_at,
            "created_at": now,
            "attempts": 0,
            "data": spec.data,
        },
    )


@dataclass
class Delivery:
    target: str
    keys: list[str]
    ok: bool
    ts: str | None = None
    error: str | None = None


# Decides, per target, whether to send now; returning a datetime postpones to that moment
# (quiet hours, Do Not Disturb, a daily cap). The default sends everything due.
Gate = Callable[[str, list[Nudge], datetime], datetime | None]
# Renders several nudges for one person into one message (text, blocks).
Batcher = Callable[[list[Nudge]], tuple[str, list[dict[str, Any]]]]


def default_batcher(rows: list[Nudge]) -> tuple[str, list[dict[str, Any]]]:
    if len(rows) == 1:
        return rows[0].text, list(rows[0].blocks or [bk.section(rows[0].text)])
    out: list[dict[str, Any]] = [
        bk.section(f"*{len(rows)} things are due* — one message, so your DMs stay quiet.")
    ]
    texts = []
    for row in rows:
        out.append(bk.divider())
        out.extend(row.blocks or [bk.section(row.text)])
        texts.append(row.text)
    return "\n\n".join(texts), bk.fit(out)


def deliver_due(
    db: Database,
    client: WebClient,
    now: datetime,
    *,
    gate: Gate | None = None,
    batcher: Batcher = default_batcher,
    lease: timedelta = LEASE,
    cadences: set[str] | None = None,
) -> list[Delivery]:
    """Send every due nudge exactly once. Safe to call from several processes at once."""
    with db.transaction() as session:
        session.execute(
            update(Nudge)
            .where(Nudge.status == "pending", Nudge.expires_at <= now)
            .values(status="dropped", last_error="past its grace period")
        )
        session.execute(
            update(Nudge)
            .where(Nudge.status == "sending", Nudge.claimed_at < now - lease)
            .values(status="pending", claim_token=None)
        )
        query = select(Nudge.id, Nudge.target, Nudge.batch).where(
            Nudge.status == "pending", Nudge.due_at <= now, Nudge.expires_at > now
        )
        if cadences is not None:
            query = query.where(Nudge.cadence_id.in_(cadences))
        due = session.execute(query.order_by(Nudge.target, Nudge.due_at, Nudge.id)).all()
    groups: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    for nudge_id, target, batch in due:
        groups[(target, None if batch else nudge_id)].append(nudge_id)
    deliveries = []
    for (target, _), ids in groups.items():
        delivery = _deliver_group(db, client, now, target, ids, gate, batcher)
        if delivery is not None:
            deliveries.append(delivery)
    return deliveries


def _deliver_group(
    db: Database,
    client: WebClient,
    now: datetime,
    target: str,
    ids: list[int],
    gate: Gate | None,
    batcher: Batcher,
) -> Delivery | None:
    token = uuid.uuid4().hex
    with db.transaction() as session:
        session.execute(
            update(Nudge)
            .where(Nudge.id.in_(ids), Nudge.status == "pending")
            .values(status="sending", claim_token=token, claimed_at=now)
        )
    with db.session() as session:
        rows = list(
            session.scalars(select(Nudge).where(Nudge.claim_token == token).order_by(Nudge.id))
        )
    if not rows:
        return None  # another process won the claim
    keys = [r.key for r in rows]
    if gate is not None:
        later = gate(target, rows, now)
        if later is not None:
            with db.transaction() as session:
                session.execute(
                    update(Nudge)
                    .where(Nudge.claim_token == token)
                    .values(status="pending", claim_token=None, due_at=later)
                )
            return None
    text, blocks = batcher(rows)
    try:
        resp = client.chat_postMessage(channel=target, text=bk.fallback(text), blocks=blocks)
    except (SlackApiError, OSError) as exc:
        error = _describe(exc)
        logger.warning("nudge to %s not sent (%s); it stays pending", target, error)
        with db.transaction() as session:
            session.execute(
                update(Nudge)
                .where(Nudge.claim_token == token)
                .values(
                    status="pending",
                    claim_token=None,
                    attempts=Nudge.attempts + 1,
                    last_error=error,
                )
            )
        return Delivery(target, keys, ok=False, error=error)
    ts, channel = resp.get("ts"), resp.get("channel")
    with db.transaction() as session:
        session.execute(
            update(Nudge)
            .where(Nudge.claim_token == token)
            .values(
                status="sent",
                sent_at=now,
                attempts=Nudge.attempts + 1,
                message_ts=ts,
                message_channel=channel,
                last_error=None,
            )
        )
    return Delivery(target, keys, ok=True, ts=ts)


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return f"slack error {exc.response.status_code}: {exc.response.get('error')}"
    return f"{type(exc).__name__}"[:300]


def close(session: Session, key: str, *, by: str, now: datetime) -> Nudge | None:
    """Mark a nudge done (a touchpoint arrived, a button was clicked). Returns it if sent."""
    nudge = session.scalars(select(Nudge).where(Nudge.key == key)).first()
    if nudge is None or nudge.status == "closed":
        return None
    was_sent = nudge.status == "sent"
    nudge.status = "closed" if was_sent else "dropped"
    nudge.closed_at, nudge.closed_by = now, by
    return nudge if was_sent else None
