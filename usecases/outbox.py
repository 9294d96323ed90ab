"""The exactly-once outbox: every nudge, reminder, alert and digest goes through here.

1. `enqueue` writes the nudge under its natural key (person, cadence, client, period) with a
   unique constraint *before* any Slack call; a second enqueue of the same key is a no-op.
2. `deliver_due` claims every due row in one statement (UPDATE … RETURNING; on PostgreSQL the
   rows are picked FOR UPDATE SKIP LOCKED), so two processes ticking at once never both send;
   renders one message per person and slot (batched); posts the messages concurrently (a
   bounded pool, paced per Slack method); and records every result in a few bulk statements.
3. Every post carries Slack message metadata with its key. A post whose outcome is unknown —
   a client timeout, a reset connection, a 5xx, the process killed mid-call (its claim's
   lease runs out) — is never re-sent blindly: before anything goes out again the channel's
   history is searched for the key. Found: recorded as sent with that message. Not found:
   sent. A definite refusal (ok:false, a connection that never opened) is retried next tick.
4. A claim is renewed while its pass runs (a heartbeat) and its lease outlives the worst-case
   call, so a slow Slack never hands the same rows to a second process. A long Retry-After
   is not slept through: the rows wait (`not_before`) and a later tick sends them; a short
   one is waited out. A 429 pauses its method for the whole process.
5. A nudge whose grace has passed is dropped, never sent late. A batched message that would
   pass Slack's limits is reorganised (`summary_blocks`, a list one click away), never cut.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.error import URLError
from weakref import WeakKeyDictionary

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import String, bindparam, case, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session

from prompts import blocks as bk
from storage.db import Database
from storage.models import Nudge
from storage.upsert import insert_ignore

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
HEARTBEAT_EVERY = timedelta(seconds=30)  # at most; a quarter of the lease when shorter
EVENT_TYPE = "csobot_outbox"  # the Slack message metadata type of every outbox post
RETRY_AFTER_CAP = 5  # seconds: a Retry-After up to this is waited out within the call
RATE_RETRIES = 2  # 429s waited out within one call, at most
WORKERS = 16  # messages in flight at once, across people
HISTORY_MARGIN = timedelta(minutes=1)  # searched before the first attempt (clock skew)
HISTORY_PAGE = 200
HISTORY_PAGES = 10
POST = "chat.postMessage"
# ok:false codes Slack documents as "some aspect of the operation may have succeeded".
UNKNOWN_ERRORS = frozenset({"fatal_error", "internal_error", "service_unavailable"})
LIST_ACTION = "outbox_list_open"  # the button of a reorganised message: the full list
LIST_PAGE_ACTION = "outbox_list_page"
LIST_CALLBACK = "outbox_list"
LIST_PAGE_BLOCKS = 40  # blocks per page of the full list's modal (Slack: 100 a view)


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
    # sent | found (an unknown outcome found in Slack) | unknown | failed | limited | skipped
    outcome: str = ""


# Decides, per target, whether to send now; returning a datetime postpones to that moment
# (quiet hours, Do Not Disturb, a daily cap). The default sends everything due.
Gate = Callable[[str, list[Nudge], datetime], datetime | None]
# Renders several nudges for one person into one message (text, blocks).
Batcher = Callable[[list[Nudge]], tuple[str, list[dict[str, Any]]]]


# -- Slack's limits in one message: reorganise, never cut ----------------------------------------
def overfull(blocks: Sequence[bk.Block]) -> bool:
    """Would Slack refuse these blocks, or did a section reach its limit (and get clipped)?"""
    if len(blocks) > bk.MAX_BLOCKS:
        return True
    for block in blocks:
        if block.get("type") != "section":
            continue
        if len(str((block.get("text") or {}).get("text", ""))) >= bk.MAX_SECTION_TEXT:
            return True
        if any(len(str(f.get("text", ""))) >= 2000 for f in block.get("fields") or []):
            return True
    return False


def pack(lines: Iterable[str], limit: int = bk.MAX_SECTION_TEXT - 1) -> list[tuple[str, int]]:
    """Lines joined into texts of at most `limit` characters, each with how many lines it
    holds. A line longer than the limit is split, never clipped."""
    out: list[tuple[str, int]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        pieces = [line[i : i + limit] for i in range(0, len(line), limit)] or [""]
        for piece in pieces:
            extra = len(piece) + (1 if current else 0)
            if current and size + extra > limit:
                out.append(("\n".join(current), len(current)))
                current, size = [], 0
                extra = len(piece)
            current.append(piece)
            size += extra
    if current:
        out.append(("\n".join(current), len(current)))
    return out


def list_button() -> bk.Block:
    return bk.actions(
        bk.button("See the full list", LIST_ACTION, "list", style="primary"),
        block_id="outbox-list",
    )


def summary_blocks(
    header: str,
    lines: Sequence[str],
    *,
    line_blocks: Sequence[bk.Block] | None = None,
    footer: Sequence[str] = (),
) -> list[bk.Block]:
    """A batched message too big for one Slack message, reorganised: a header, one line per
    client (`line_blocks` when they fit one block each, else `lines` packed into sections of
    under 3,000 characters) and a button that opens the full list. Nothing is cut: past a few
    hundred clients the last line says how many more are in the full list."""
    fixed = 2 + (1 if footer else 0)  # header, the button, the footer
    room = bk.MAX_BLOCKS - fixed
    if line_blocks is not None and len(line_blocks) <= room:
        body = list(line_blocks)
    else:
        packed = pack(lines)
        if len(packed) > room:
            kept = packed[: room - 1]
            rest = sum(n for _, n in packed[room - 1 :])
            packed = [*kept, (f"…and {rest} more — every one is in the full list.", rest)]
        body = [bk.section(text) for text, _ in packed]
    out = [bk.section(header), *body, list_button()]
    if footer:
        out.append(bk.context(*footer))
    return out


def default_lines(rows: Sequence[Nudge]) -> list[str]:
    """The full list of nudges without a renderer of their own: each one's text, in full."""
    return [f"• {row.text}" for row in rows]


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
    text = "\n\n".join(texts)
    if not overfull(out):
        return text, out
    header = (
        f"*{len(rows)} things are due* — too many to show one by one, so here is one line "
        "each; *See the full list* has every one."
    )
    return text, summary_blocks(header, [f"• {bk.clip(r.text, 300)}" for r in rows])


def text_blocks(lines: Sequence[str]) -> list[bk.Block]:
    """Lines as sections of under 3,000 characters each (nothing clipped)."""
    return [bk.section(text) for text, _ in pack(lines)]


def list_view(
    blocks: Sequence[bk.Block], *, page: int, meta: dict[str, Any], title: str = "Everything due"
) -> dict[str, Any]:
    """The modal behind *See the full list*: every block, in pages (Slack allows 100 blocks a
    view), with Previous / Next."""
    items = list(blocks) or [bk.section("Nothing is due any more.")]
    pages = [items[i : i + LIST_PAGE_BLOCKS] for i in range(0, len(items), LIST_PAGE_BLOCKS)]
    page = max(0, min(page, len(pages) - 1))
    shown: list[bk.Block] = list(pages[page])
    if len(pages) > 1:
        nav = []
        if page > 0:
            nav.append(bk.button("‹ Previous", LIST_PAGE_ACTION, str(page - 1)))
        if page < len(pages) - 1:
            nav.append(bk.button("Next ›", LIST_PAGE_ACTION, str(page + 1)))
        shown.append(bk.context(f"Page {page + 1} of {len(pages)}"))
        shown.append(bk.actions(*nav, block_id="outbox-list-pages"))
    return {
        "type": "modal",
        "callback_id": LIST_CALLBACK,
        "title": {"type": "plain_text", "text": bk.clip(title, 24)},
        "close": {"type": "plain_text", "text": "Close"},
        "private_metadata": json.dumps({**meta, "page": page}),
        "blocks": shown,
    }


def message_rows(db: Database, channel: str, ts: str) -> list[Nudge]:
    """The nudges a sent message carries (what its full list shows)."""
    with db.session() as session:
        return list(
            session.scalars(
                select(Nudge)
                .where(Nudge.message_channel == channel, Nudge.message_ts == ts)
                .order_by(Nudge.id)
            )
        )


# -- Slack's per-method limits -------------------------------------------------------------------
class RateLimited(Exception):
    def __init__(self, method: str, until: datetime):
        super().__init__(f"{method} rate limited until {until.isoformat(timespec='seconds')}")
        self.method, self.until = method, until


class Pacer:
    """When each Slack method may be called again (Slack's Retry-After), in the outbox's time.
    One per Web API client, shared by every pass of the process."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def pause(self, method: str, until: datetime) -> None:
        with self._lock:
            if method not in self._until or until > self._until[method]:
                self._until[method] = until

    def until(self, method: str, at: datetime) -> datetime | None:
        with self._lock:
            until = self._until.get(method)
        return until if until is not None and until > at else None


_PACERS: WeakKeyDictionary[WebClient, Pacer] = WeakKeyDictionary()
_PACERS_LOCK = threading.Lock()


def pacer_for(client: WebClient) -> Pacer:
    with _PACERS_LOCK:
        pacer = _PACERS.get(client)
        if pacer is None:
            pacer = _PACERS[client] = Pacer()
        return pacer


def _retry_after(headers: dict[str, Any] | None) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return 1.0
    return 1.0


class _ShortRateLimitRetry(RetryHandler):
    """429: report it (the method pauses for the whole process) and wait out a Retry-After up
    to `cap` seconds inside the call; a longer one comes back to the outbox, which schedules
    the rows rather than hold a thread and its claim for a minute."""

    def __init__(self, on_limited: Callable[[str, float], None], cap: float, retries: int):
        super().__init__(max_retry_count=retries)
        self._on_limited, self._cap = on_limited, cap

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        seconds = _retry_after(response.headers)
        self._on_limited(request.url.rsplit("/", 1)[-1], seconds)
        return seconds <= self._cap

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        time.sleep(_retry_after(response.headers if response else None))
        state.increment_current_attempt()


def _sibling(client: WebClient, handlers: list[RetryHandler]) -> WebClient:
    """The same workspace, token and timeout as `client`, with the outbox's own retries."""
    sibling = WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        logger=client.logger,
        retry_handlers=handlers,
    )
    sibling.default_params = dict(client.default_params)
    return sibling


def read_client(client: WebClient) -> WebClient:
    """For reads (idempotent): connection errors and 5xx retried once, a short Retry-After
    waited out, a long one raised — never a minute asleep inside a tick."""
    return _sibling(
        client,
        [
            ConnectionErrorRetryHandler(max_retry_count=1),
            ServerErrorRetryHandler(max_retry_count=1),
            _ShortRateLimitRetry(lambda _method, _seconds: None, RETRY_AFTER_CAP, RATE_RETRIES),
        ],
    )


def worst_call(client: WebClient) -> timedelta:
    """The longest one post can take: every try waits the timeout, with short Retry-Afters
    waited out between them (longer ones are not waited for)."""
    timeout = float(client.timeout or 30)
    return timedelta(seconds=timeout * (1 + RATE_RETRIES) + RETRY_AFTER_CAP * RATE_RETRIES)


def effective_lease(client: WebClient, lease: timedelta = LEASE) -> timedelta:
    """A claim's lease outlives the worst-case call with a margin, even if its heartbeat
    (which renews it every quarter lease while the pass runs) were held up."""
    return max(lease, worst_call(client) + timedelta(seconds=30))


# -- delivering ----------------------------------------------------------------------------------
def deliver_due(
    db: Database,
    client: WebClient,
    now: datetime,
    *,
    gate: Gate | None = None,
    batcher: Batcher = default_batcher,
    lease: timedelta = LEASE,
    cadences: set[str] | None = None,
    workers: int = WORKERS,
) -> list[Delivery]:
    """Send every due nudge exactly once. Safe to call from several processes at once."""
    return _Pass(db, client, now, gate, batcher, lease, workers).run(cadences)


@dataclass
class _Outcome:
    kind: str  # sent found absent unknown failed limited later skipped undetermined
    ts: str | None = None
    channel: str | None = None
    error: str | None = None
    until: datetime | None = None


T = TypeVar("T")
R = TypeVar("R")


class _Pass:
    """One delivery pass: claim, check what is unsure, send, record."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        now: datetime,
        gate: Gate | None,
        batcher: Batcher,
        lease: timedelta,
        workers: int,
    ):
        self.db, self.now, self.gate, self.batcher = db, now, gate, batcher
        self.workers = max(1, workers)
        self.token = uuid.uuid4().hex
        self.t0 = time.monotonic()
        self.pacer = pacer_for(client)
        limiter = _ShortRateLimitRetry(self._limited, RETRY_AFTER_CAP, RATE_RETRIES)
        # A post is never retried on a connection error or a 5xx: its outcome is unknown.
        self.poster = _sibling(client, [limiter])
        self.reader = _sibling(
            client,
            [
                ConnectionErrorRetryHandler(max_retry_count=1),
                ServerErrorRetryHandler(max_retry_count=1),
                _ShortRateLimitRetry(self._limited, RETRY_AFTER_CAP, RATE_RETRIES),
            ],
        )
        self.lease = effective_lease(client, lease)
        self.lost = threading.Event()  # the claim could not be renewed: post nothing more
        self._gate_lock = threading.Lock()
        self._gate_warm = False

    # time: the pass's `now`, moving on with the wall clock while the pass runs
    def clock(self) -> datetime:
        return self.now + timedelta(seconds=time.monotonic() - self.t0)

    def _limited(self, method: str, seconds: float) -> None:
        self.pacer.pause(method, self.clock() + timedelta(seconds=seconds))

    def _wait_for(self, method: str) -> None:
        """Wait out a short pause of `method`; a long one raises RateLimited."""
        until = self.pacer.until(method, self.clock())
        if until is None:
            return
        wait = (until - self.clock()).total_seconds()
        if wait > RETRY_AFTER_CAP:
            raise RateLimited(method, until)
        time.sleep(max(0.0, wait))

    def _map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if len(items) <= 1 or self.workers == 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(
            max_workers=min(self.workers, len(items)), thread_name_prefix="outbox"
        ) as pool:
            return list(pool.map(fn, items))

    # -- the pass ------------------------------------------------------------------------------
    def run(self, cadences: set[str] | None) -> list[Delivery]:
        rows = self._claim(cadences)
        if not rows:
            return []
        with _Heartbeat(self):
            rows, deliveries = self._resolve(rows)
            deliveries += self._send(rows)
        return deliveries

    def _claim(self, cadences: set[str] | None) -> list[Nudge]:
        now, token = self.now, self.token
        with self.db.transaction() as session:
            session.execute(
                update(Nudge)
                .where(
                    Nudge.status == "pending",
                    Nudge.expires_at <= now,
                    Nudge.unsure_key.is_(None),
                )
                .values(status="dropped", last_error="past its grace period", claim_token=None)
            )
            # A claim whose process stopped renewing it (killed, hung): whatever it may have
            # posted is unknown, and is looked for in Slack before anything is sent again.
            session.execute(
                update(Nudge)
                .where(Nudge.status == "sending", Nudge.claimed_at < now - self.lease)
                .values(
                    status="pending",
                    claim_token=None,
                    unsure_key=func.coalesce(Nudge.unsure_key, Nudge.attempt_key),
                    unsure_since=func.coalesce(
                        Nudge.unsure_since, Nudge.attempted_at, Nudge.claimed_at
                    ),
                    last_error="outcome unknown: the sending process stopped mid-send",
                )
                .execution_options(synchronize_session=False)
            )
            due = select(Nudge.id).where(
                Nudge.status == "pending",
                Nudge.due_at <= now,
                or_(Nudge.expires_at > now, Nudge.unsure_key.is_not(None)),
                or_(Nudge.not_before.is_(None), Nudge.not_before <= now),
            )
            if cadences is not None:
                due = due.where(Nudge.cadence_id.in_(sorted(cadences)))
            due = due.with_for_update(skip_locked=True)
            # The key of the message each row goes out in: one per person for batched rows.
            key = case(
                (Nudge.batch, literal(f"{token}:t:") + Nudge.target),
                else_=literal(f"{token}:n:") + cast(Nudge.id, String),
            )
            claimed = session.scalars(
                update(Nudge)
                .where(Nudge.id.in_(due))
                .values(
                    status="sending",
                    claim_token=token,
                    claimed_at=now,
                    attempt_key=key,
                    attempted_at=datetime.now(UTC),  # Slack's clock, for `oldest`
                    not_before=None,
                )
                .returning(Nudge)
                .execution_options(synchronize_session=False)
            ).all()
        return sorted(claimed, key=lambda r: (r.target, r.id))

    # -- unknown outcomes: look before sending again -------------------------------------------
    def _resolve(self, rows: list[Nudge]) -> tuple[list[Nudge], list[Delivery]]:
        unsure: dict[str, list[Nudge]] = defaultdict(list)
        for row in rows:
            if row.unsure_key:
                unsure[row.unsure_key].append(row)
        if not unsure:
            return rows, []
        channels = self._known_channels({r.target for g in unsure.values() for r in g})
        keys = list(unsure)
        outcomes = self._map(lambda k: self._check(k, unsure[k], channels), keys)
        drop: set[int] = set()
        deliveries: list[Delivery] = []
        updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key, outcome in zip(keys, outcomes, strict=True):
            group = unsure[key]
            expired = all(r.expires_at <= self.now for r in group)
            kind = outcome.kind
            if kind == "absent" and expired:
                kind = "expired"
            elif kind in ("undetermined", "limited") and expired:
                kind = "gave_up"
            if kind != "absent":
                drop.update(r.id for r in group)
            for row in group:
                updates[kind].append(_params(row, outcome))
            target, names = group[0].target, [r.key for r in group]
            if kind == "found":
                logger.info(
                    "a message to %s whose outcome was unknown was delivered after all (%s): "
                    "recorded, not sent again",
                    target,
                    outcome.ts,
                )
                deliveries.append(Delivery(target, names, True, outcome.ts, outcome="found"))
            elif kind in ("undetermined", "limited"):
                logger.warning(
                    "could not check whether a message to %s went out (%s); nothing is re-sent "
                    "until it can be checked",
                    target,
                    outcome.error,
                )
                deliveries.append(
                    Delivery(target, names, False, error=outcome.error, outcome="unknown")
                )
            elif kind == "gave_up":
                logger.error(
                    "a message to %s may or may not have gone out and its grace has passed: "
                    "not sent again",
                    target,
                )
        with self.db.transaction() as session:
            conn = session.connection()
            self._bulk(conn, updates.get("found"), _SENT_VALUES)
            self._bulk(conn, updates.get("absent"), {"unsure_key": None, "unsure_since": None})
            self._bulk(
                conn,
                updates.get("expired"),
                {
                    **_RELEASE,
                    "status": "dropped",
                    "unsure_key": None,
                    "last_error": "past its grace period (an earlier try had not gone out)",
                },
            )
            self._bulk(
                conn,
                updates.get("gave_up"),
                {**_RELEASE, "status": "dropped", "last_error": bindparam("b_error")},
            )
            self._bulk(
                conn,
                updates.get("undetermined"),
                {**_RELEASE, "last_error": bindparam("b_error")},
            )
            self._bulk(
                conn,
                updates.get("limited"),
                _LIMITED,
            )
        return [r for r in rows if r.id not in drop], deliveries

    def _known_channels(self, targets: set[str]) -> dict[str, str]:
        """The DM channel of each person, from messages already sent to them."""
        people = sorted(t for t in targets if t[:1] in ("U", "W"))
        found = {t: t for t in targets if t not in people}
        if people:
            with self.db.session() as session:
                for target, channel in session.execute(
                    select(Nudge.target, Nudge.message_channel)
                    .where(Nudge.target.in_(people), Nudge.message_channel.is_not(None))
                    .distinct()
                ):
                    if channel:
                        found[target] = channel
        return found

    def _check(self, key: str, rows: list[Nudge], channels: dict[str, str]) -> _Outcome:
        target = rows[0].target
        since = min(
            (r.unsure_since or r.attempted_at or r.claimed_at or self.now for r in rows),
        )
        try:
            channel = channels.get(target) or self._open(target)
            ts = self._find(channel, key, since)
        except RateLimited as exc:
            return _Outcome("limited", error=str(exc), until=exc.until)
        except SlackApiError as exc:
            return _Outcome("undetermined", error=_describe(exc))
        except Exception as exc:  # a read that failed: check again next tick
            return _Outcome("undetermined", error=_describe(exc))
        if ts is None:
            return _Outcome("absent", channel=channel)
        return _Outcome("found", ts=ts, channel=channel)

    def _open(self, user: str) -> str:
        self._wait_for("conversations.open")
        resp = self.reader.conversations_open(users=user)
        return str((resp.get("channel") or {})["id"])

    def _find(self, channel: str, key: str, since: datetime) -> str | None:
        """The ts of the message carrying `key` in the channel's history since `since`."""
        oldest = f"{(since - HISTORY_MARGIN).timestamp():.6f}"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            self._wait_for("conversations.history")
            resp = self.reader.conversations_history(
                channel=channel,
                oldest=oldest,
                include_all_metadata=True,
                limit=HISTORY_PAGE,
                cursor=cursor,
            )
            for message in resp.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == EVENT_TYPE and payload.get("key") == key:
                    return str(message["ts"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not resp.get("has_more") or not cursor:
                return None
        raise RuntimeError(f"more than {HISTORY_PAGES * HISTORY_PAGE} messages to search")

    # -- sending ------------------------------------------------------------------------------
    def _send(self, rows: list[Nudge]) -> list[Delivery]:
        groups: dict[tuple[str, int | None], list[Nudge]] = defaultdict(list)
        for row in rows:
            groups[(row.target, None if row.batch else row.id)].append(row)
        batches = list(groups.values())
        outcomes = self._map(self._deliver, batches)
        updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
        deliveries: list[Delivery] = []
        for group, outcome in zip(batches, outcomes, strict=True):
            for row in group:
                updates[outcome.kind].append(_params(row, outcome))
            if outcome.kind == "later":
                continue
            ok = outcome.kind == "sent"
            deliveries.append(
                Delivery(
                    group[0].target,
                    [r.key for r in group],
                    ok,
                    ts=outcome.ts,
                    error=outcome.error,
                    outcome=outcome.kind,
                )
            )
        with self.db.transaction() as session:
            conn = session.connection()
            self._bulk(conn, updates.get("sent"), {**_SENT_VALUES, "attempts": _ATTEMPTS})
            self._bulk(
                conn,
                updates.get("unknown"),
                {
                    **_RELEASE,
                    "attempts": _ATTEMPTS,
                    "unsure_key": bindparam("b_key"),
                    "unsure_since": bindparam("b_since"),
                    "last_error": bindparam("b_error"),
                },
            )
            self._bulk(
                conn,
                updates.get("failed"),
                {**_RELEASE, "attempts": _ATTEMPTS, "last_error": bindparam("b_error")},
            )
            self._bulk(
                conn,
                updates.get("limited"),
                _LIMITED,
            )
            self._bulk(conn, updates.get("later"), {**_RELEASE, "due_at": bindparam("b_until")})
            self._bulk(conn, updates.get("skipped"), dict(_RELEASE))
        return deliveries

    def _gated(self, target: str, rows: list[Nudge]) -> datetime | None:
        assert self.gate is not None
        if not self._gate_warm:  # the first call loads what the gate reads, once
            with self._gate_lock:
                later = self.gate(target, rows, self.now)
                self._gate_warm = True
                return later
        return self.gate(target, rows, self.now)

    def _deliver(self, rows: list[Nudge]) -> _Outcome:
        target = rows[0].target
        if self.lost.is_set():
            return _Outcome("skipped", error="the claim could not be renewed")
        if self.gate is not None:
            try:
                later = self._gated(target, rows)
            except Exception:
                logger.exception("the noise gate failed for %s; sending anyway", target)
                later = None
            if later is not None:
                return _Outcome("later", until=later)
        try:
            text, blocks = self.batcher(rows)
        except Exception as exc:
            logger.exception("could not render the message to %s", target)
            return _Outcome("failed", error=f"could not render: {type(exc).__name__}")
        try:
            self._wait_for(POST)
        except RateLimited as exc:
            return _Outcome("limited", error=str(exc), until=exc.until)
        if self.lost.is_set():
            return _Outcome("skipped", error="the claim could not be renewed")
        key = str(rows[0].attempt_key)
        try:
            resp = self.poster.chat_postMessage(
                channel=target,
                text=bk.fallback(text),
                blocks=blocks,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}},
            )
        except SlackApiError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            code = str(exc.response.get("error")) if exc.response is not None else ""
            if status == 429:
                until = self.clock() + timedelta(seconds=_retry_after(exc.response.headers))
                self.pacer.pause(POST, until)
                logger.info("Slack asked to wait before %s until %s", POST, until.isoformat())
                return _Outcome("limited", error=f"rate limited: {code}", until=until)
            if status >= 500 or code in UNKNOWN_ERRORS:
                return self._unknown(target, _describe(exc))
            logger.warning("nudge to %s refused by Slack (%s); it stays pending", target, code)
            return _Outcome("failed", error=_describe(exc))
        except URLError as exc:  # connecting or sending failed: Slack never had the request
            logger.warning("nudge to %s not sent (%s); it stays pending", target, exc.reason)
            return _Outcome("failed", error=_describe(exc))
        except Exception as exc:  # the request went out and no answer came back
            return self._unknown(target, _describe(exc))
        return _Outcome("sent", ts=resp.get("ts"), channel=resp.get("channel"))

    def _unknown(self, target: str, error: str) -> _Outcome:
        logger.warning(
            "message to %s: outcome unknown (%s); its DM history is checked before any re-send",
            target,
            error,
        )
        return _Outcome("unknown", error=f"outcome unknown: {error}")

    # -- recording ----------------------------------------------------------------------------
    def _bulk(self, conn: Any, params: list[dict[str, Any]] | None, values: dict[str, Any]) -> None:
        """One UPDATE for many rows (executemany), only where this pass still holds the claim
        (a touchpoint may have closed a nudge meanwhile)."""
        if not params:
            return
        table: Any = Nudge.__table__
        for p in params:
            p["b_token"] = self.token
            p["b_now"] = self.now
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.claim_token == bindparam("b_token"))
            .values(**values)
        )
        conn.execute(stmt, params)


_ATTEMPTS = Nudge.__table__.c.attempts + 1
_RELEASE: dict[str, Any] = {"status": "pending", "claim_token": None}
_LIMITED: dict[str, Any] = {
    **_RELEASE,
    "last_error": bindparam("b_error"),
    "not_before": bindparam("b_until"),
}
_SENT_VALUES: dict[str, Any] = {
    "status": "sent",
    "sent_at": bindparam("b_now"),
    "message_ts": bindparam("b_ts"),
    "message_channel": bindparam("b_channel"),
    "last_error": None,
    "unsure_key": None,
    "unsure_since": None,
}


def _params(row: Nudge, outcome: _Outcome) -> dict[str, Any]:
    return {
        "b_id": row.id,
        "b_ts": outcome.ts,
        "b_channel": outcome.channel,
        "b_error": (outcome.error or "")[:300] or None,
        "b_until": outcome.until,
        "b_key": row.attempt_key,
        "b_since": row.attempted_at,
    }


class _Heartbeat:
    """Renews the pass's claim while it runs; a claim it cannot renew for half the lease is
    given up (nothing more is posted under it), so no second process can race it."""

    def __init__(self, pass_: _Pass):
        self.p = pass_
        self.stop = threading.Event()
        self.interval = min(pass_.lease.total_seconds() / 4, HEARTBEAT_EVERY.total_seconds())
        self.thread = threading.Thread(target=self._run, name="outbox-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        p = self.p
        last_ok = time.monotonic()
        while not self.stop.wait(self.interval):
            try:
                with p.db.transaction() as session:
                    session.execute(
                        update(Nudge)
                        .where(Nudge.claim_token == p.token, Nudge.status == "sending")
                        .values(claimed_at=p.clock())
                        .execution_options(synchronize_session=False)
                    )
                last_ok = time.monotonic()
            except Exception as exc:
                logger.warning("could not renew the outbox claim (%s)", type(exc).__name__)
                if time.monotonic() - last_ok > p.lease.total_seconds() / 2:
                    p.lost.set()


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return f"slack error {exc.response.status_code}: {exc.response.get('error')}"
    if isinstance(exc, URLError):
        return f"URLError: {type(exc.reason).__name__}"[:300]
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
