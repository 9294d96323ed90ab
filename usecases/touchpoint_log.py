"""What /touchpoint does: log an off-Slack touchpoint (email, call, meeting) or mark a day as
not expected, from the command or its form (docs/process.md, "Touchpoints")."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from slack_sdk import WebClient

from domain.calendar import local_date, slack_ts_to_datetime
from domain.commands import SkipRequest, TouchpointKind, TouchpointRequest
from domain.records import Client
from prompts.cadence_views import logged_outcome
from prompts.touchpoint_views import skip_recorded, touchpoint_modal, touchpoint_recorded
from storage.activity_store import record_exemption, record_touchpoint
from storage.db import Transaction
from storage.portfolio_store import active_clients, clients_of, person_timezone, timezone_of
from storage.touchpoint_store import edit_channel_message, forget_channel_message, record_huddle
from usecases.deps import Deps
from usecases.reminders import after_touchpoint

logger = logging.getLogger(__name__)


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


# -- what Slack says happened to a client-channel message after it was posted ------------------
def forget_message(deps: Deps, channel: str, ts: str) -> bool:
    """A message was deleted: it stops counting (its day is judged again from what is left)."""
    with deps.db.transaction() as tx:
        client = forget_channel_message(tx, channel, ts)
    if client is not None:
        logger.info(
            "a deleted message no longer counts for %s", client.slug, extra={"client": client.slug}
        )
    return client is not None


def edit_message(deps: Deps, channel: str, ts: str, text: str) -> bool:
    """A message was edited: its record reads as it now does, and is judged again."""
    with deps.db.transaction() as tx:
        return edit_channel_message(tx, channel, ts, text)


def huddle(
    deps: Deps,
    slack: WebClient | None,
    *,
    channel: str,
    ts: str,
    room: str,
    people: list[str],
    started_at: datetime | None,
) -> list[str]:
    """A huddle in a client channel with the client in it: a call touchpoint for each team
    member who took part. Returns who was newly credited."""
    now = deps.clock.now()
    with deps.db.transaction() as tx:
        found = record_huddle(
            tx,
            channel=channel,
            ts=ts,
            room=room,
            people=people,
            started_at=started_at or slack_ts_to_datetime(ts),
            now=now,
        )
        if found is None or not found.new:
            return []
        tz = timezone_of(tx, found.client)
    day = local_date(started_at or slack_ts_to_datetime(ts), tz)
    for person in found.new:
        try:
            outcome = logged_outcome(TouchpointKind.CALL, person)
            after_touchpoint(deps, slack, found.client.id, day, outcome=outcome, by=person)
        except Exception:  # the touchpoint is recorded; a reminder left open is not worth a failure
            logger.exception(
                "could not close the reminders for %s",
                found.client.slug,
                extra={"client": found.client.slug},
            )
    return found.new
