"""Done is done: a touchpoint (or a skipped day) closes that day's reminders for the client
and updates the reminder messages already sent. Called after recording, from the message
listener and from `/touchpoint` (command and form)."""

from __future__ import annotations

import logging
from datetime import date

from slack_sdk import WebClient

from domain.calendar import local_date, slack_ts_to_datetime
from domain.commands import SkipRequest, TouchpointRequest
from domain.touchpoint import Speaker
from scheduling.cadences import after_touchpoint
from storage.portfolio import client_by_slug, client_timezone, organization, people_by_id
from storage.touchpoint_store import Recorded
from usecases.deps import Deps

logger = logging.getLogger(__name__)


def after_message(deps: Deps, client: WebClient | None, recorded: Recorded | None, ts: str) -> None:
    """A team message in a client channel was recorded as a touchpoint."""
    if recorded is None or not recorded.new or recorded.speaker is not Speaker.TEAM:
        return
    with deps.db.session() as session:
        tz = client_timezone(recorded.client, people_by_id(session), organization(session))
    day = local_date(slack_ts_to_datetime(ts), tz)
    _close(
        deps,
        client,
        recorded.client.id,
        day,
        ":white_check_mark: Touchpoint logged in the channel.",
        "touchpoint",
    )


def after_logged(
    deps: Deps,
    client: WebClient | None,
    request: TouchpointRequest | SkipRequest | None,
    user_id: str,
    day: date | None = None,
) -> None:
    """`/touchpoint` logged a touchpoint or skipped a day."""
    if request is None:
        return
    with deps.db.session() as session:
        row = client_by_slug(session, request.slug)
        if row is None:
            return
        tz = client_timezone(row, people_by_id(session), organization(session))
        client_id = row.id
    day = day or local_date(deps.clock.now(), tz)
    if isinstance(request, SkipRequest):
        outcome = f":zzz: Skipped today by <@{user_id}>: {request.reason}"
    else:
        kind = request.kind.value.capitalize()
        outcome = f":white_check_mark: {kind} touchpoint logged by <@{user_id}>."
    _close(deps, client, client_id, day, outcome, user_id)


def _close(
    deps: Deps, client: WebClient | None, client_id: int, day: date, outcome: str, by: str
) -> None:
    try:
        after_touchpoint(deps, client, client_id, day, outcome=outcome, by=by)
    except Exception:  # the touchpoint is recorded; a reminder left open is not worth a failure
        logger.exception("could not close the reminders for client %s", client_id)
