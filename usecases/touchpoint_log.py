"""What /touchpoint does: log an off-Slack touchpoint (email, call, meeting) or mark a day as
not expected, from the command or its form (docs/process.md, "Touchpoints")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from domain.calendar import local_date
from domain.commands import SkipRequest, TouchpointRequest
from domain.records import Client
from prompts.touchpoint_views import skip_recorded, touchpoint_modal, touchpoint_recorded
from storage.activity_store import record_exemption, record_touchpoint
from storage.db import Transaction
from storage.portfolio_store import active_clients, clients_of, person_timezone, timezone_of


@dataclass(frozen=True)
class Logged:
    text: str  # what to tell the person
    day: date  # the client's local day it counts for


def log_touchpoint(
    tx: Transaction,
    *,
    client: Client,
    request: TouchpointRequest | SkipRequest,
    user_id: str,
    now: datetime,
    day: date | None = None,
    source: str = "command",
    dedupe_key: str | None = None,
) -> Logged:
    """Record a logged touchpoint or a skipped day (today in the client's timezone unless `day`
    says otherwise). A repeated dedupe key is recorded once."""
    tz = timezone_of(tx, client)
    today = local_date(now, tz)
    day = day or today
    if isinstance(request, SkipRequest):
        new = record_exemption(
            tx, client_id=client.id, day=day, reason=request.reason, by=user_id, now=now
        )
        return Logged(skip_recorded(client, day=day, new=new, reason=request.reason), day)
    # A backdated touchpoint is placed at noon local time on that day.
    occurred = now if day == today else datetime.combine(day, time(12), tzinfo=tz)
    record_touchpoint(
        tx,
        client_id=client.id,
        author_id=user_id,
        kind=request.kind.value,
        source=source,
        occurred_at=occurred,
        tz=tz,
        dedupe_key=dedupe_key or f"{source}:{uuid.uuid4()}",
        now=now,
        text=request.note,
        link=request.link,
    )
    return Logged(touchpoint_recorded(client, request, day=day, today=today), day)


def person_today(tx: Transaction, user_id: str, now: datetime) -> date:
    """Today in the person's timezone (else the organization's)."""
    return local_date(now, person_timezone(tx, user_id))


def touchpoint_form(
    tx: Transaction,
    user_id: str,
    now: datetime,
    *,
    slug: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The form listing the person's clients (everyone's when they own none)."""
    options = clients_of(tx, user_id) or active_clients(tx)
    choices = [(c.slug, c.name) for c in options][:100]
    return touchpoint_modal(
        choices, today=person_today(tx, user_id, now), slug=slug, metadata=metadata
    )
