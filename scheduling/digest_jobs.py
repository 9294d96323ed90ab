"""Deliver the leadership digest exactly once: the summary through the outbox (natural key
`digest:<week>`), then the chart and the per-CSO thread replies, each claimed before its Slack
call and recorded after (`digest_part`), in a stable order.

`enqueue_digest` is the tick's enqueuer: at the organization's digest moment (Monday 08:00
local by default, `organization.settings.digest`) it writes the week's digest in one
transaction, and it posts whatever thread parts are still pending. `post_digest` does the same
on demand (`csobot digest`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.digest import CADENCE_ID, Digest
from storage import digest_store
from storage.db import Database
from usecases.deps import Deps
from usecases.digest_actions import (
    digest_key,
    leadership_channel,
    post_part,
    schedule_digest,
    write_digest,
)
from usecases.outbox import deliver_due

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)


def _web_client(deps: Deps) -> WebClient:
    if deps.slack is None:
        raise RuntimeError("no Slack client: the composition root sets deps.slack")
    return deps.slack


def _warn_once(deps: Deps, key: str, message: str) -> None:
    """One clear log line per week and reason, not one every minute."""
    key = f"digest:{key}"
    if key not in deps.warned:
        deps.warned.add(key)
        logger.error(message)


# -- the scheduled post ---------------------------------------------------------------------------
def enqueue_digest(deps: Deps, now: datetime) -> int:
    """The tick's enqueuer: the week's digest at its moment, once; then its thread parts."""
    client = _web_client(deps)
    with deps.db.transaction() as tx:
        scheduled = schedule_digest(tx, deps.channel_guard(client), now, deps.metric_sources)
    if scheduled.problem:
        _warn_once(deps, scheduled.problem_key or scheduled.problem, scheduled.problem)
        return 0
    if scheduled.new:
        logger.info("digest %s written for %s", scheduled.week, scheduled.channel)
        deliver_due(deps.db, client, now, cadences={CADENCE_ID})
    post_parts(deps.db, client, now)
    return int(scheduled.new)


ENQUEUERS = (("digest", enqueue_digest),)


# -- the parts ------------------------------------------------------------------------------------
def post_parts(db: Database, client: WebClient, now: datetime, *, lease: timedelta = LEASE) -> int:
    """Post the pending chart and thread replies of every digest whose summary is out, in
    position order; stop a week at its first failure (retried on the next tick). Returns how
    many were posted."""
    stale = now - lease
    with db.transaction() as tx:
        weeks = digest_store.weeks_with_parts_due(tx, stale)
    return sum(_post_week(db, client, now, week, stale) for week in weeks)


def _post_week(db: Database, client: WebClient, now: datetime, week: str, stale: datetime) -> int:
    # Claimed in one transaction, each part recorded in its own after its Slack call: a part
    # posted is never posted again, a part not recorded is retried after the lease.
    token = uuid.uuid4().hex
    with db.transaction() as tx:
        summary = digest_store.summary_of(tx, week)
        if summary is None:
            return 0
        if summary.status == "dropped":
            digest_store.drop_parts(tx, week, "the summary was never sent")
            return 0
        if summary.status not in ("sent", "closed") or not summary.message_ts:
            return 0  # the summary goes first
        thread_ts = summary.message_ts
        parts = digest_store.claim_parts(tx, week, stale, token, now)
    posted = 0
    for i, part in enumerate(parts):
        try:
            message_ts, file_id = post_part(client, part, thread_ts)
        except (SlackApiError, OSError) as exc:
            error = _describe(exc)
            logger.warning(
                "digest %s part %d not posted (%s); retried next tick", week, part.position, error
            )
            with db.transaction() as tx:
                digest_store.release_parts(tx, [p.id for p in parts[i:]], part.id, error)
            break
        with db.transaction() as tx:
            digest_store.part_sent(tx, part.id, token, now, message_ts, file_id)
        posted += 1
    return posted


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return f"slack error {exc.response.status_code}: {exc.response.get('error')}"
    return type(exc).__name__[:300]


# -- on demand (the CLI) ------------------------------------------------------------------------
@dataclass
class PostResult:
    week: str
    channel: str
    new: bool
    sent: bool
    parts: int
    status: str


def post_digest(deps: Deps, client: WebClient, digest: Digest, now: datetime) -> PostResult:
    """Post `digest` to the leadership channel through the outbox, now. A week already posted
    (by the schedule or an earlier run) is not posted again. Raises DigestRefused."""
    with deps.db.transaction() as tx:
        channel = leadership_channel(tx, deps.channel_guard(client))
        new = write_digest(
            tx, digest, channel, now, due_at=now, expires_at=now + timedelta(hours=1)
        )
    deliveries = deliver_due(deps.db, client, now, cadences={CADENCE_ID})
    parts = post_parts(deps.db, client, now)
    with deps.db.transaction() as tx:
        summary = digest_store.summary_of(tx, digest.week)
    status = summary.status if summary else "missing"
    sent = any(d.ok and digest_key(digest.week) in d.keys for d in deliveries)
    return PostResult(digest.week, channel, new, sent, parts, status)
