"""Deliver the leadership digest exactly once: the summary through the outbox (natural key
`digest:<week>`), then the chart and the per-CSO thread replies, each claimed before its Slack
call and recorded after (`digest_part`), in a stable order.

`enqueue_digest` is the tick's enqueuer: at the organization's digest moment (Monday 08:00
local by default, `organization.settings.digest`) it writes the week's digest, and it posts
whatever thread parts are still pending. `post_digest` does the same on demand (the CLI).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.digest_render import DigestMessages, slack_messages
from domain.calendar import IsoWeek
from domain.digest import CADENCE_ID, ChartData, Digest, DigestSettingsError, due_digest
from domain.digest import parse_settings as parse_digest_settings
from storage.db import Database
from storage.digest import load_digest
from storage.models import Client as ClientRow
from storage.models import DigestPart, Nudge
from storage.portfolio import organization
from storage.upsert import insert_ignore
from usecases.deps import Deps
from usecases.outbox import NudgeSpec, deliver_due, enqueue
from usecases.privacy import ChannelGuard

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)


class DigestRefused(Exception):
    """The digest cannot go to the leadership channel (unset, a client or Slack Connect
    channel, or unreadable). The message says which and what to do."""


def digest_key(week: IsoWeek | str) -> str:
    return f"{CADENCE_ID}:{week}"


def web_client(deps: Deps) -> WebClient:
    client = deps.slack
    if not isinstance(client, WebClient):
        raise RuntimeError("no Slack client: the composition root sets deps.slack")
    return client


def leadership_channel(session: Session, guard: ChannelGuard) -> str:
    """The organization's leadership channel, if the digest may be posted there."""
    org = organization(session)
    channel = org.leadership_channel
    if not channel:
        raise DigestRefused(
            "no leadership_channel is set: add `leadership_channel: C…` under organization "
            "in the portfolio file and import it"
        )
    client_channels = {c for c in session.scalars(select(ClientRow.client_channel)) if c}
    if guard.is_shared(channel, client_channels=client_channels):
        raise DigestRefused(
            f"the leadership channel {channel} is a client channel, a Slack Connect channel or "
            "cannot be read, so the digest was not posted there: set an internal channel as "
            "leadership_channel"
        )
    return channel


def _parts(digest: Digest, messages: DigestMessages, channel: str, now: datetime) -> list[dict]:
    week = digest.week
    rows = [
        {
            "key": f"{digest_key(week)}:0",
            "week": week,
            "position": 0,
            "kind": "chart",
            "channel": channel,
            "text": f"Consistency per CSO and the health-band mix, the {len(digest.chart.weeks)} "
            f"weeks to {week}",
            "blocks": None,
            "data": {"chart": digest.chart.model_dump(mode="json"), "title": digest.organization},
        }
    ]
    for i, reply in enumerate(messages.replies, 1):
        rows.append(
            {
                "key": f"{digest_key(week)}:{i}",
                "week": week,
                "position": i,
                "kind": "reply",
                "channel": channel,
                "text": reply.text,
                "blocks": reply.blocks,
                "data": {},
            }
        )
    for row in rows:
        row.update(status="pending", created_at=now, attempts=0)
    return rows


def write_digest(
    session: Session,
    digest: Digest,
    channel: str,
    now: datetime,
    *,
    due_at: datetime,
    expires_at: datetime,
) -> bool:
    """The summary nudge and its parts, in the caller's transaction. False if already there."""
    messages = slack_messages(digest)
    spec = NudgeSpec(
        cadence_id=CADENCE_ID,
        period=digest.week,
        target=channel,
        text=messages.summary.text,
        blocks=messages.summary.blocks,
        due_at=due_at,
        expires_at=expires_at,
        batch=False,
        key=digest_key(digest.week),
        data={"week": digest.week, "replies": len(messages.replies)},
    )
    if not enqueue(session, spec, now):
        return False
    for row in _parts(digest, messages, channel, now):
        insert_ignore(session, DigestPart, row)
    return True


def post_parts(db: Database, client: WebClient, now: datetime, *, lease: timedelta = LEASE) -> int:
    """Post the pending chart and thread replies of every digest whose summary is out, in
    position order; stop a week at its first failure (retried on the next tick). Returns how
    many were posted."""
    stale = now - lease
    with db.session() as session:
        weeks = list(
            session.scalars(
                select(DigestPart.week)
                .where(
                    or_(
                        DigestPart.status == "pending",
                        (DigestPart.status == "sending") & (DigestPart.claimed_at < stale),
                    )
                )
                .distinct()
            )
        )
    posted = 0
    for week in sorted(weeks):
        posted += _post_week(db, client, now, week, stale)
    return posted


def _post_week(db: Database, client: WebClient, now: datetime, week: str, stale: datetime) -> int:
    with db.session() as session:
        summary = session.scalars(select(Nudge).where(Nudge.key == digest_key(week))).first()
        if summary is None:
            return 0
        status, ts = summary.status, summary.message_ts
    if status == "dropped":
        with db.transaction() as session:
            session.execute(
                update(DigestPart)
                .where(DigestPart.week == week, DigestPart.status == "pending")
                .values(status="dropped", last_error="the summary was never sent")
            )
        return 0
    if status not in ("sent", "closed") or not ts:
        return 0  # the summary goes first
    token = uuid.uuid4().hex
    with db.transaction() as session:
        session.execute(
            update(DigestPart)
            .where(
                DigestPart.week == week,
                or_(
                    DigestPart.status == "pending",
                    (DigestPart.status == "sending") & (DigestPart.claimed_at < stale),
                ),
            )
            .values(status="sending", claim_token=token, claimed_at=now)
        )
    with db.session() as session:
        parts = list(
            session.scalars(
                select(DigestPart)
                .where(DigestPart.claim_token == token)
                .order_by(DigestPart.position)
            )
        )
    posted = 0
    for i, part in enumerate(parts):
        try:
            message_ts, file_id = _post_one(client, part, ts)
        except (SlackApiError, OSError) as exc:
            error = _describe(exc)
            logger.warning(
                "digest %s part %d not posted (%s); retried next tick", week, part.position, error
            )
            with db.transaction() as session:
                session.execute(
                    update(DigestPart)
                    .where(DigestPart.id.in_([p.id for p in parts[i:]]))
                    .values(status="pending", claim_token=None, last_error=error)
                )
                session.execute(
                    update(DigestPart)
                    .where(DigestPart.id == part.id)
                    .values(attempts=DigestPart.attempts + 1)
                )
            break
        with db.transaction() as session:
            session.execute(
                update(DigestPart)
                .where(DigestPart.id == part.id, DigestPart.claim_token == token)
                .values(
                    status="sent",
                    posted_at=now,
                    message_ts=message_ts,
                    file_id=file_id,
                    attempts=DigestPart.attempts + 1,
                    last_error=None,
                )
            )
        posted += 1
    return posted


def _post_one(client: WebClient, part: DigestPart, thread_ts: str) -> tuple[str | None, str | None]:
    if part.kind == "chart":
        from bot.digest_chart import render_chart  # matplotlib loads only when a chart is drawn

        chart = ChartData.model_validate(part.data["chart"])
        png = render_chart(chart, title=f"{part.data.get('title', '')} — {part.week}".strip(" —"))
        resp = client.files_upload_v2(
            channel=part.channel,
            thread_ts=thread_ts,
            file=png,
            filename=f"digest-{part.week}.png",
            title=f"Leadership digest {part.week}",
            alt_txt=part.text,
            initial_comment=part.text,
        )
        file = resp.get("file") or {}
        return None, str(file.get("id") or "") or None
    resp = client.chat_postMessage(
        channel=part.channel, thread_ts=thread_ts, text=part.text, blocks=part.blocks
    )
    return resp.get("ts"), None


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return f"slack error {exc.response.status_code}: {exc.response.get('error')}"
    return type(exc).__name__[:300]


# -- the scheduled post ---------------------------------------------------------------------------
def enqueue_digest(deps: Deps, now: datetime) -> int:
    """The tick's enqueuer: the week's digest at its moment, once; then its thread parts."""
    new = 0
    with deps.db.session() as session:
        org = organization(session)
        try:
            settings = parse_digest_settings((org.settings or {}).get("digest"))
        except DigestSettingsError as err:
            _warn_once(deps, "settings", f"digest not scheduled: {err}")
            return 0
        due = due_digest(now, ZoneInfo(org.timezone or "UTC"), settings)
        exists = (
            due is not None
            and session.scalars(select(Nudge.id).where(Nudge.key == digest_key(due.week))).first()
            is not None
        )
    client = web_client(deps)
    if due is not None and not exists:
        try:
            with deps.db.session() as session:
                channel = leadership_channel(session, _guard(deps, client))
                digest = load_digest(session, due.week, now, settings)
        except DigestRefused as err:
            _warn_once(deps, f"{due.week}:refused", f"digest {due.week} not posted: {err}")
            return 0
        with deps.db.transaction() as session:
            new = int(
                write_digest(
                    session, digest, channel, now, due_at=due.due_at, expires_at=due.expires_at
                )
            )
        if new:
            logger.info("digest %s written for %s", due.week, channel)
            deliver_due(deps.db, client, now, cadences={CADENCE_ID})
    post_parts(deps.db, client, now)
    return new


def _guard(deps: Deps, client: WebClient) -> ChannelGuard:
    guard = deps.channel_guard(client)
    assert isinstance(guard, ChannelGuard)
    return guard


def _warn_once(deps: Deps, key: str, message: str) -> None:
    """One clear log line per week and reason, not one every minute."""
    warned: set[str] = deps.warned
    if key not in warned:
        warned.add(key)
        logger.error(message)


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
    (by the schedule or an earlier run) is not posted again."""
    with deps.db.session() as session:
        channel = leadership_channel(session, _guard(deps, client))
    with deps.db.transaction() as session:
        new = write_digest(
            session, digest, channel, now, due_at=now, expires_at=now + timedelta(hours=1)
        )
    deliveries = deliver_due(deps.db, client, now, cadences={CADENCE_ID})
    parts = post_parts(deps.db, client, now)
    with deps.db.session() as session:
        row = session.scalars(select(Nudge).where(Nudge.key == digest_key(digest.week))).one()
        status = row.status
    sent = any(d.ok and digest_key(digest.week) in d.keys for d in deliveries)
    return PostResult(digest.week, channel, new, sent, parts, status)
