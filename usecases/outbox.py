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

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
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

from domain.nudge import NudgeSpec
from prompts import blocks as bk
from prompts.outbox_views import (
    LIST_ACTION,
    LIST_CALLBACK,
    LIST_PAGE_ACTION,
    LIST_PAGE_BLOCKS,
    default_batcher,
    default_lines,
    list_button,
    list_view,
    overfull,
    pack,
    summary_blocks,
    text_blocks,
)
from storage import outbox_store as store
from storage.db import Database
from storage.outbox_store import OutboxNudge, close, enqueue

# What callers import from here: the outbox's nouns and its views, in one place.
__all__ = [
    "LIST_ACTION",
    "LIST_CALLBACK",
    "LIST_PAGE_ACTION",
    "LIST_PAGE_BLOCKS",
    "Batcher",
    "Delivery",
    "Gate",
    "NudgeSpec",
    "OutboxNudge",
    "close",
    "default_batcher",
    "default_lines",
    "deliver_due",
    "enqueue",
    "list_button",
    "list_view",
    "message_rows",
    "overfull",
    "pack",
    "read_client",
    "summary_blocks",
    "text_blocks",
]

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
HEARTBEAT_EVERY = timedelta(seconds=30)  # at most; a quarter of the lease when shorter
EVENT_TYPE = "csobot_outbox"  # the Slack message metadata type of every outbox post
CHANNEL_BURST = 3  # messages to one channel in a pass before they are spaced out
CHANNEL_GAP_S = 1.0  # Slack's pace for one channel: about one message a second
RETRY_AFTER_CAP = 5  # seconds: a Retry-After up to this is waited out within the call
RATE_RETRIES = 2  # 429s waited out within one call, at most
WORKERS = 16  # messages in flight at once, across people
HISTORY_MARGIN = timedelta(minutes=1)  # searched before the first attempt (clock skew)
HISTORY_PAGE = 200
HISTORY_PAGES = 10
POST = "chat.postMessage"
# ok:false codes Slack documents as "some aspect of the operation may have succeeded".
UNKNOWN_ERRORS = frozenset({"fatal_error", "internal_error", "service_unavailable"})


@dataclass
class Delivery:
    target: str
    keys: list[str]
    ok: bool
    ts: str | None = None
    error: str | None = None
    # sent | found (an unknown outcome found in Slack) | unknown | failed | limited | skipped
    # | later (postponed by the gate, until `until`)
    outcome: str = ""
    until: datetime | None = None


# Decides, per target, whether to send now; returning a datetime postpones to that moment
# (quiet hours, Do Not Disturb, a daily cap). The default sends everything due. Gates and
# batchers are given `OutboxNudge` records (typed loosely while features still annotate rows).
Gate = Callable[[str, list[Any], datetime], datetime | None]
# Renders several nudges for one person into one message (text, blocks).
Batcher = Callable[[list[Any]], tuple[str, list[dict[str, Any]]]]


def message_rows(db: Database, channel: str, ts: str) -> list[OutboxNudge]:
    """The nudges a sent message carries (what its full list shows)."""
    with db.session() as tx:
        return store.message_nudges(tx, channel, ts)


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
    postponed: list[Delivery] | None = None,
) -> list[Delivery]:
    """Send every due nudge exactly once. Safe to call from several processes at once. What
    the gate postponed is not among the deliveries; it is added to `postponed` when given."""
    run = _Pass(db, client, now, gate, batcher, lease, workers)
    deliveries = run.run(cadences)
    if postponed is not None:
        postponed.extend(run.postponed)
    return deliveries


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
        self.postponed: list[Delivery] = []

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

    def _claim(self, cadences: set[str] | None) -> list[OutboxNudge]:
        with self.db.transaction() as tx:
            return store.claim_due(tx, self.now, self.token, self.lease, cadences)

    # -- unknown outcomes: look before sending again -------------------------------------------
    def _resolve(self, rows: list[OutboxNudge]) -> tuple[list[OutboxNudge], list[Delivery]]:
        unsure: dict[str, list[OutboxNudge]] = defaultdict(list)
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
        updates: dict[str, list[store.Outcome]] = defaultdict(list)
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
                updates[kind].append(_recorded(row, outcome))
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
        with self.db.transaction() as tx:
            store.record_outcomes(tx, self.token, self.now, updates)
        return [r for r in rows if r.id not in drop], deliveries

    def _known_channels(self, targets: set[str]) -> dict[str, str]:
        """The DM channel of each person, from messages already sent to them."""
        people = sorted(t for t in targets if t[:1] in ("U", "W"))
        found = {t: t for t in targets if t not in people}
        if people:
            with self.db.session() as tx:
                found.update(store.dm_channels(tx, people))
        return found

    def _check(self, key: str, rows: list[OutboxNudge], channels: dict[str, str]) -> _Outcome:
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
    def _send(self, rows: list[OutboxNudge]) -> list[Delivery]:
        groups: dict[tuple[str, int | None], list[OutboxNudge]] = defaultdict(list)
        for row in rows:
            groups[(row.target, None if row.batch else row.id)].append(row)
        batches = list(groups.values())
        # Concurrent across channels; within one channel, in order and one at a time, paced
        # past a short burst (Slack allows about one message a second per channel).
        by_channel: dict[str, list[int]] = defaultdict(list)
        for i, batch in enumerate(batches):
            by_channel[batch[0].target].append(i)
        outcomes_of: dict[int, _Outcome] = {}

        def deliver_channel(indexes: list[int]) -> None:
            for n, i in enumerate(indexes):
                if n >= CHANNEL_BURST:
                    time.sleep(CHANNEL_GAP_S)
                outcomes_of[i] = self._deliver(batches[i])

        self._map(deliver_channel, list(by_channel.values()))
        outcomes = [outcomes_of[i] for i in range(len(batches))]
        updates: dict[str, list[store.Outcome]] = defaultdict(list)
        deliveries: list[Delivery] = []
        for group, outcome in zip(batches, outcomes, strict=True):
            for row in group:
                updates[outcome.kind].append(_recorded(row, outcome))
            if outcome.kind == "later":
                keys = [r.key for r in group]
                self.postponed.append(
                    Delivery(group[0].target, keys, False, outcome="later", until=outcome.until)
                )
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
        with self.db.transaction() as tx:
            store.record_outcomes(tx, self.token, self.now, updates)
        return deliveries

    def _gated(self, target: str, rows: list[OutboxNudge]) -> datetime | None:
        assert self.gate is not None
        if not self._gate_warm:  # the first call loads what the gate reads, once
            with self._gate_lock:
                later = self.gate(target, rows, self.now)
                self._gate_warm = True
                return later
        return self.gate(target, rows, self.now)

    def _deliver(self, rows: list[OutboxNudge]) -> _Outcome:
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
            logger.warning(
                "nudge to %s refused by Slack (%s); it stays pending",
                target,
                code,
                extra={"slack_method": POST, "slack_error": code},
            )
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
                with p.db.transaction() as tx:
                    store.renew_claim(tx, p.token, p.clock())
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


def _recorded(row: OutboxNudge, outcome: _Outcome) -> store.Outcome:
    return store.Outcome(
        row, ts=outcome.ts, channel=outcome.channel, error=outcome.error, until=outcome.until
    )
