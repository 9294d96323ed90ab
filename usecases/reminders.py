"""Done is done: recording a touchpoint (or skipping a day), a win or a pulse closes the
client's open reminders it answers, and the reminder messages already sent are updated.

`close_for_touchpoint` and `close_for_record` take the caller's transaction. `after_message`,
`after_logged`, `after_touchpoint` and `after_recorded` are the follow-ups a listener runs once
its record has committed: their own transaction, so a reminder left open never undoes (or fails)
the record."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date, datetime

from slack_sdk import WebClient

from domain.cadence_plan import catalogue_of, recorded_closers, touchpoint_closers
from domain.calendar import local_date, slack_ts_to_datetime
from domain.commands import SkipRequest, TouchpointRequest
from domain.touch_rules import UPDATE_CADENCES, UpdateSlot
from domain.touchpoint import Speaker
from prompts import cadence_views as views
from storage import cadence_store as store
from storage.cadence_store import Message
from storage.db import Transaction
from storage.org_settings_store import org_settings
from storage.portfolio_store import client_by_slug, timezone_of
from storage.touchpoint_store import Recorded
from usecases.cadence_actions import refresh_messages
from usecases.deps import Deps

logger = logging.getLogger(__name__)


def close_for_touchpoint(
    tx: Transaction,
    client_id: int,
    day: date,
    *,
    outcome: str,
    by: str,
    now: datetime,
    slots: Collection[UpdateSlot] = (),
) -> tuple[int, set[Message]]:
    """Close that day's reminders a touchpoint answers (and the escalations) for the client.
    The morning-update reminder closes only on a morning update, the end-of-day one only on a
    recap (`slots`: what the touch answers, decided in domain/touch_rules.update_slot; a
    skipped day answers both)."""
    closers = {
        c
        for c in touchpoint_closers(catalogue_of(org_settings(tx)))
        if c not in UPDATE_CADENCES or UPDATE_CADENCES[c] in slots
    }
    return store.close_for_client(
        tx, client_id, closers, period=day.isoformat(), by=by, outcome=outcome, now=now
    )


def close_for_record(
    tx: Transaction, client_id: int, closes: str, *, by: str, now: datetime
) -> tuple[int, set[Message]]:
    """Close the client's open reminders a win or a pulse answers (the weekly presentation,
    the stand-up pulse)."""
    ids = recorded_closers(catalogue_of(org_settings(tx)), closes)
    return store.close_for_client(
        tx, client_id, ids, by=by, outcome=views.recorded_outcome(closes, by), now=now
    )


def after_touchpoint(
    deps: Deps,
    slack: WebClient | None,
    client_id: int,
    day: date,
    *,
    outcome: str,
    by: str,
    slots: Collection[UpdateSlot] = (),
) -> int:
    """A touchpoint (or a skipped day) was recorded: close that day's reminders for the client
    and update the messages already sent. Returns how many were closed."""
    with deps.db.transaction() as tx:
        n, messages = close_for_touchpoint(
            tx, client_id, day, outcome=outcome, by=by, now=deps.clock.now(), slots=slots
        )
    refresh_messages(deps.db, slack, messages)
    return n


def after_recorded(
    deps: Deps, slack: WebClient | None, client_id: int, closes: str, by: str
) -> int:
    """A win (`/win`) or a pulse (`/pulse`) was recorded: close the client's open reminders
    that it closes and update sent messages. Never fails the record."""
    try:
        with deps.db.transaction() as tx:
            n, messages = close_for_record(tx, client_id, closes, by=by, now=deps.clock.now())
        refresh_messages(deps.db, slack, messages)
    except Exception:  # the win or pulse is recorded; an open reminder is not worth a failure
        logger.exception("could not close the %s reminders for client %s", closes, client_id)
        return 0
    return n


def after_message(deps: Deps, slack: WebClient | None, recorded: Recorded | None, ts: str) -> None:
    """A team message in a client channel was recorded as a touchpoint."""
    if recorded is None or not recorded.new or recorded.speaker is not Speaker.TEAM:
        return
    if not recorded.counts:  # an "ok", a thumbs-up: kept, but it answers no reminder
        return
    with deps.db.session() as tx:
        tz = timezone_of(tx, recorded.client)
    day = local_date(slack_ts_to_datetime(ts), tz)
    _close(
        deps, slack, recorded.client.id, day, views.CHANNEL_TOUCHPOINT, "touchpoint",
        slots=[recorded.slot] if recorded.slot else [],
    )  # fmt: skip


def after_logged(
    deps: Deps,
    slack: WebClient | None,
    request: TouchpointRequest | SkipRequest | None,
    user_id: str,
    day: date | None = None,
) -> None:
    """`/touchpoint` logged a touchpoint or skipped a day."""
    if request is None:
        return
    with deps.db.session() as tx:
        client = client_by_slug(tx, request.slug)
        if client is None:
            return
        tz = timezone_of(tx, client)
    day = day or local_date(deps.clock.now(), tz)
    if isinstance(request, SkipRequest):  # nothing is expected that day: no update either
        outcome = views.skipped_today_outcome(user_id, request.reason)
        _close(deps, slack, client.id, day, outcome, user_id, slots=("morning", "eod"))
        return
    outcome = views.logged_outcome(request.kind, user_id)
    _close(deps, slack, client.id, day, outcome, user_id)


def _close(
    deps: Deps,
    slack: WebClient | None,
    client_id: int,
    day: date,
    outcome: str,
    by: str,
    slots: Collection[UpdateSlot] = (),
) -> None:
    try:
        after_touchpoint(deps, slack, client_id, day, outcome=outcome, by=by, slots=slots)
    except Exception:  # the touchpoint is recorded; a reminder left open is not worth a failure
        logger.exception("could not close the reminders for client %s", client_id)
