"""Acked means kept: every request is written down before Slack gets its answer, and its work
runs from what was written.

A request is dispatched through Bolt twice. In the *ack* phase the listener parses, validates,
answers (a usage message, a modal's field errors, a modal opened with the trigger id) and, when
there is work to do, says so with `after_ack(context, work)`; that request is then committed to
the inbox table — or, when the database can't take it within a second, appended to the fsynced
local spool — and only then is the answer returned to Slack. If neither can keep it, Slack gets
a 503 and retries. In the *work* phase a lane worker replays the stored request through the
same listener, which now runs its `after_ack` work. Success marks the item done; a failure is
retried with back-off (a refused connection, a lock, Slack 5xx), so a crash, a restart, a lost
connection or a locked database delays work but never loses it. A process that dies leaves its
items behind a short lease, which the next process takes over.

Follow-up tasks (classifying a client message with the model) are inbox items too, written in
the same transaction as the record they follow from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from handlers.lanes import EVENTS, INTERACTIVE, Lanes
from prompts.render import render
from storage import inbox_store as store
from storage import status as service_status
from storage.db import QUICK_TIMEOUT_S, Transaction
from storage.db_errors import is_transient_database_error
from storage.spool import Spool
from usecases import log_fields
from usecases.deps import Deps

logger = logging.getLogger(__name__)

CONTEXT_KEY = "csobot_job"
LEASE = timedelta(seconds=15)
RENEW_EVERY = 5.0
SWEEP_EVERY = 1.0
# Sweeps start at least this far apart. Kicks come in bursts (each client message writes a
# classification for the model lane and kicks): one sweep takes everything that arrived
# meanwhile, instead of one sweep, and its claim's write, per message.
SWEEP_GAP = 0.05
KEEP_DONE = timedelta(days=3)
MAX_ATTEMPTS_TRANSIENT = 12  # back-off 2, 4, … 300 s: about half an hour of outage
MAX_ATTEMPTS_OTHER = 3
MAX_BACKOFF = 300.0
CLAIM_AHEAD = 64  # items a lane may hold claimed (running or queued) at once


# -- phases ---------------------------------------------------------------------------------------
@dataclass
class JobState:
    """Carried in the Bolt context: which phase this dispatch is, and what the listener asked."""

    phase: str  # "ack" | "work"
    wants_work: bool = False
    error: BaseException | None = None


def job_of(context: BoltContext) -> JobState | None:
    state = context.get(CONTEXT_KEY)
    return state if isinstance(state, JobState) else None


def in_ack_phase(context: BoltContext) -> bool:
    state = job_of(context)
    return state is None or state.phase == "ack"


def in_work_phase(context: BoltContext) -> bool:
    state = job_of(context)
    return state is None or state.phase == "work"


# -- tasks ----------------------------------------------------------------------------------------
TaskFn = Callable[[Deps, dict[str, Any]], None]


@dataclass(frozen=True)
class Task:
    name: str
    lane: str
    fn: TaskFn


TASKS: dict[str, Task] = {}


def task(name: str, lane: str) -> Callable[[TaskFn], TaskFn]:
    """Register a follow-up task run from the inbox on `lane`."""

    def register(fn: TaskFn) -> TaskFn:
        TASKS[name] = Task(name, lane, fn)
        return fn

    return register


def add_task(session: Transaction, name: str, key: str, payload: dict[str, Any]) -> bool:
    """Write a follow-up task in the caller's transaction; after the commit, `deps.kick()` has
    it picked up at once. True when it is new (the key was not there yet)."""
    now = _now()
    item = store.NewItem(
        key=f"task:{name}:{key}"[:200],
        lane=TASKS[name].lane,
        kind=name,
        body=json.dumps(payload),
        received_at=now,
    )
    return store.add(session, item, now=now) is not None


# -- the request itself ---------------------------------------------------------------------------
def request_key(payload: dict[str, Any], raw: str) -> str:
    """A natural key: Slack's event id for events (a retry carries the same one); a digest of
    the body for commands and interactions, which Slack never retries."""
    kind = str(payload.get("type") or ("command" if "command" in payload else "request"))
    ident = payload.get("event_id") if kind == "event_callback" else None
    if not ident:
        ident = hashlib.sha256(raw.encode()).hexdigest()[:40]
    return f"{kind}:{ident}"[:200]


def lane_for(payload: dict[str, Any]) -> str:
    return EVENTS if payload.get("type") == "event_callback" else INTERACTIVE


def response_url_of(payload: dict[str, Any]) -> str | None:
    url = payload.get("response_url")
    if not url:
        urls = payload.get("response_urls") or []
        url = urls[0].get("response_url") if urls and isinstance(urls[0], dict) else None
    return str(url) if url else None


def _now() -> datetime:
    # The inbox runs on the wall clock, whatever clock the bot's rules are given.
    return datetime.now(UTC)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the database or Slack was unreachable, busy or slow."""
    if isinstance(exc, TimeoutError | ConnectionError | OSError):
        return True
    if is_transient_database_error(exc):
        return True
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return False


def describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return f"SlackApiError({exc.response.get('error')})"
    return type(exc).__name__


def backoff(attempts: int) -> float:
    base = min(MAX_BACKOFF, 2.0 ** max(1, attempts))
    return base * (0.8 + 0.4 * random.random())


# A request within this long means acks are arriving: background lanes let them pass first.
ACK_BURST_S = 0.005


# How long a request waits for its group's commit before it keeps its item in the spool instead.
# The writer itself gives up sooner: after QUICK_TIMEOUT_S at the process's write gate and as
# long again at SQLite's lock (a writer in another process), so its own error, not this wait,
# sends the group to the spool; all well inside Slack's 3 seconds.
WRITE_WAIT_S = 2 * QUICK_TIMEOUT_S + 0.4
MAX_GROUP = 64


@dataclass
class _Pending:
    item: store.NewItem
    now: datetime
    done: threading.Event = field(default_factory=threading.Event)
    new_id: int | None = None
    error: BaseException | None = None


class GroupWriter:
    """The write before each ack, group-committed: requests that arrive together share one
    transaction (one write lock, one fsync) instead of queueing for the lock one by one. Each
    request still waits for its own row's commit before it is acked."""

    def __init__(self, inbox: Inbox):
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._writer = store.GroupInsert(inbox.db.quick_engine, owner=inbox.owner, lease=LEASE)
        self._thread = threading.Thread(target=self._loop, name="inbox-writer", daemon=True)
        self._thread.start()

    def write(self, item: store.NewItem, now: datetime) -> int | None:
        """The new row's id (None: its key was already kept); raises when it was not written."""
        pending = _Pending(item, now)
        self._queue.put(pending)
        if not pending.done.wait(WRITE_WAIT_S):
            # Not known to be written: the spool keeps it too (its key makes a second copy a
            # no-op when both land).
            raise TimeoutError("the inbox write did not finish in time")
        if pending.error is not None:
            raise pending.error
        return pending.new_id

    def close(self) -> None:
        """After the last request: the writer thread ends (a write after this one waits, then
        is spooled)."""
        self._queue.put(None)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._writer.close()
                return
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)  # end after this group
                    break
                group.append(nxt)
            try:
                ids = self._writer.add([(p.item, p.now) for p in group])
            except Exception as exc:  # every request of the group falls back to the spool
                for p in group:
                    p.error = exc
                    p.done.set()
                continue
            for p, new_id in zip(group, ids, strict=True):
                p.new_id = new_id
                p.done.set()


# -- the inbox ------------------------------------------------------------------------------------
@dataclass
class Counters:
    accepted: int = 0
    spooled: int = 0
    refused: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0
    last_db_error: str | None = None
    last_db_error_at: float | None = None
    extra: dict[str, int] = field(default_factory=dict)
    # The write before each ack, in ms (the last 2,048): the price of durability, on /healthz.
    write_ms: deque[float] = field(default_factory=lambda: deque(maxlen=2048))

    def write_summary(self) -> dict[str, float | int]:
        ordered = sorted(self.write_ms)
        if not ordered:
            return {"samples": 0}
        return {
            "samples": len(ordered),
            "p50": round(ordered[len(ordered) // 2], 2),
            "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        }


class Inbox:
    def __init__(
        self,
        app: App,
        deps: Deps,
        *,
        spool: Spool,
        lanes: Lanes | None = None,
        owner: str | None = None,
        sweep_every: float = SWEEP_EVERY,
    ):
        self.app = app
        self.deps = deps
        self.db = deps.db
        self.spool = spool
        self.lanes = lanes or Lanes()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.sweep_every = sweep_every
        self.counters = Counters()
        self._inflight: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_renew = 0.0
        self._last_purge = 0.0
        self._db_down_logged = False
        deps.kick = self.kick
        self._last_ack = 0.0  # when the latest request arrived (monotonic)
        self.writer = GroupWriter(self)
        self.lanes.defer_background_to(self._acks_arriving)

    # -- the edge: before the ack ------------------------------------------------------------
    def _acks_arriving(self) -> bool:
        return time.monotonic() - self._last_ack < ACK_BURST_S

    def accept(
        self, body: str | dict[str, Any], headers: dict[str, Any], mode: str = "http"
    ) -> BoltResponse:
        self._last_ack = time.monotonic()
        state = JobState(phase="ack")
        try:
            req = BoltRequest(body=body, headers=headers, context={CONTEXT_KEY: state}, mode=mode)
            if not isinstance(req.body, dict):
                raise ValueError("not a JSON object")
        except Exception as exc:  # a payload Slack would never send: say so, no traceback
            logger.warning("malformed request refused: %s", describe(exc))
            return BoltResponse(status=400, body="")
        if req.body.get("type") == "app_rate_limited":
            return self._rate_limited(req.body)
        resp = self.app.dispatch(req)
        if not state.wants_work or resp.status >= 400:
            return resp
        raw = body if isinstance(body, str) else json.dumps(body)
        now = _now()
        item = store.NewItem(
            key=request_key(req.body, raw),
            lane=lane_for(req.body),
            kind="slack",
            body=raw,
            received_at=now,
            mode=mode,
            content_type=req.content_type,
        )
        began = time.perf_counter()
        try:
            new_id = self.writer.write(item, now)
        except Exception as exc:  # the database can't take it now: the spool can
            self._db_error(exc)
            return self._spool(item, resp)
        self.counters.write_ms.append((time.perf_counter() - began) * 1000)
        self._db_ok()
        self.counters.accepted += 1
        if new_id is not None:
            self._submit(
                store.Work(
                    id=new_id,
                    key=item.key,
                    lane=item.lane,
                    kind=item.kind,
                    mode=item.mode,
                    content_type=item.content_type,
                    body=raw,
                    attempts=0,
                    received_at=now,
                )
            )
        return resp

    def _spool(self, item: store.NewItem, resp: BoltResponse) -> BoltResponse:
        record = {
            "key": item.key,
            "lane": item.lane,
            "kind": item.kind,
            "mode": item.mode,
            "content_type": item.content_type,
            "body": item.body,
            "received_at": item.received_at.isoformat(),
        }
        try:
            self.spool.append(record)
        except OSError as exc:
            self.counters.refused += 1
            logger.error(
                "request %s could not be kept (database down and spool failed: %s): "
                "answering 503 so Slack retries",
                item.key,
                type(exc).__name__,
            )
            return BoltResponse(status=503, body="")
        self.counters.spooled += 1
        if item.lane == INTERACTIVE and not resp.body:
            # Nothing was said yet: say honestly that it is kept, not that it is saved.
            resp = BoltResponse(
                status=200,
                body=json.dumps(
                    {"response_type": "ephemeral", "text": render("messages/queued.j2")}
                ),
                headers={"content-type": "application/json;charset=utf-8"},
            )
        return resp

    def _rate_limited(self, payload: dict[str, Any]) -> BoltResponse:
        minute = int(payload.get("minute_rate_limited") or time.time())
        when = datetime.fromtimestamp(minute, UTC)
        logger.error(
            "Slack is dropping our events (app_rate_limited) for the minute starting %s UTC: "
            "touchpoints from that minute may be missing",
            when.strftime("%Y-%m-%d %H:%M"),
        )
        try:
            with self.db.quick_transaction() as session:
                service_status.add_rate_limited_minute(session, minute, _now())
        except Exception as exc:
            logger.error("could not record the rate-limited minute: %s", type(exc).__name__)
        return BoltResponse(status=200, body="")

    # -- the work ----------------------------------------------------------------------------
    def _submit(self, work: store.Work) -> None:
        with self._lock:
            if work.id in self._inflight:
                return
            self._inflight.add(work.id)
        if not self.lanes[work.lane].submit(lambda: self._run(work)):
            with self._lock:
                self._inflight.discard(work.id)

    def _run(self, work: store.Work) -> None:
        event_id = work.key.split(":", 1)[1] if work.key.startswith("event_callback:") else None
        with log_fields.bound(request_id=f"inbox-{work.id}", event_id=event_id):
            self._run_bound(work)

    def _run_bound(self, work: store.Work) -> None:
        started = time.monotonic()
        error: BaseException | None = None
        try:
            if work.kind == "slack":
                error = self._replay(work)
            else:
                found = TASKS.get(work.kind)
                if found is None:
                    raise LookupError(f"no task named {work.kind}")
                found.fn(self.deps, json.loads(work.body))
        except Exception as exc:
            error = exc
        try:
            if error is None:
                with self.db.transaction() as session:
                    store.complete(session, work.id, _now())
                self.counters.done += 1
                if logger.isEnabledFor(logging.DEBUG):
                    ms = round((time.monotonic() - started) * 1000, 1)
                    logger.debug("%s done in %g ms", work.key, ms, extra={"latency_ms": ms})
            else:
                self._failed(work, error, started)
        except Exception as exc:  # the record of it failed: the lease brings it back
            self._db_error(exc)
        finally:
            with self._lock:
                self._inflight.discard(work.id)

    def _replay(self, work: store.Work) -> BaseException | None:
        state = JobState(phase="work")
        body: str | dict[str, Any] = work.body
        if work.mode != "http":
            body = json.loads(work.body)
        headers: dict[str, str | Sequence[str]] = (
            {"content-type": work.content_type} if work.content_type else {}
        )
        req = BoltRequest(body=body, headers=headers, context={CONTEXT_KEY: state}, mode=work.mode)
        resp = self.app.dispatch(req)
        if state.error is not None:
            return state.error
        if resp.status >= 500:
            return RuntimeError(f"the listener answered {resp.status}")
        return None

    def _failed(self, work: store.Work, error: BaseException, started: float) -> None:
        attempts = work.attempts + 1
        fields = {
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
            **log_fields.slack_fields(error),
        }
        transient = is_transient(error)
        give_up = attempts >= (MAX_ATTEMPTS_TRANSIENT if transient else MAX_ATTEMPTS_OTHER)
        now = _now()
        with self.db.transaction() as session:
            store.retry_later(
                session,
                work.id,
                next_at=now + timedelta(seconds=backoff(attempts)),
                error=describe(error),
                give_up=give_up,
                now=now,
            )
        if not give_up:
            self.counters.retried += 1
            log = logger.warning if transient else logger.error
            log(
                "%s failed (%s, attempt %d): retrying later",
                work.key,
                describe(error),
                attempts,
                exc_info=None if transient else error,
                extra=fields,
            )
            return
        self.counters.failed += 1
        logger.error(
            "%s failed %d times (%s): given up",
            work.key,
            attempts,
            describe(error),
            exc_info=error,
            extra=fields,
        )
        self._tell_failed(work)

    def _tell_failed(self, work: store.Work) -> None:
        """The person who asked learns it didn't go through, in plain words."""
        if work.kind != "slack" or work.lane != INTERACTIVE:
            return
        try:
            payload = BoltRequest(
                body=work.body if work.mode == "http" else json.loads(work.body),
                headers={"content-type": work.content_type} if work.content_type else {},
                mode=work.mode,
            ).body
            url = response_url_of(payload)
            if url:
                WebhookClient(url).send(
                    text=render("messages/work_failed.j2"),
                    response_type="ephemeral",
                    replace_original=False,
                )
        except Exception as exc:
            logger.warning("could not tell the user about %s: %s", work.key, describe(exc))

    # -- the sweeper -------------------------------------------------------------------------
    def kick(self) -> None:
        self._wake.set()

    def start(self) -> Inbox:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="inbox-sweeper", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # a kick from now on brings the next sweep
            began = time.monotonic()
            claimed = 0
            try:
                claimed = self.sweep()
            except Exception as exc:
                self._db_error(exc)
            if not claimed:  # else a backlog (a restart, an outage's end): keep the lanes fed
                self._wake.wait(self.sweep_every)
            rest = SWEEP_GAP - (time.monotonic() - began)
            if rest > 0:
                self._stopping.wait(rest)

    def sweep(self) -> int:
        """One pass: drain the spool, renew this process's leases, take what is due."""
        self.drain_spool()
        now = _now()
        mono = time.monotonic()
        if mono - self._last_renew >= RENEW_EVERY:
            with self._lock:
                mine = set(self._inflight)
            if mine:
                with self.db.transaction() as session:
                    store.renew(session, self.owner, mine, now + LEASE)
            self._last_renew = mono
        free = {name: max(0, CLAIM_AHEAD - n) for name, n in self.lanes.busy_by_lane().items()}
        with self._lock:
            skip = set(self._inflight)
        with self.db.transaction() as session:
            claimed = store.claim_due(
                session,
                owner=self.owner,
                claim=uuid.uuid4().hex,
                now=now,
                lease_until=now + LEASE,
                lanes=free,
                skip=skip,
            )
        self._db_ok()
        for work in claimed:
            self._submit(work)
        if mono - self._last_purge > 3600:
            with self.db.transaction() as session:
                store.purge(session, now - KEEP_DONE)
            self._last_purge = mono
        return len(claimed)

    def drain_spool(self) -> int:
        """Move what the spool kept into the inbox (idempotent by key)."""
        moved = 0
        for path in self.spool.take():
            records = self.spool.read(path)
            now = _now()
            with self.db.transaction() as session:
                for r in records:
                    item = store.NewItem(
                        key=r["key"],
                        lane=r["lane"],
                        kind=r["kind"],
                        body=r["body"],
                        received_at=datetime.fromisoformat(r["received_at"]),
                        mode=r.get("mode", "http"),
                        content_type=r.get("content_type"),
                    )
                    if store.add(session, item, now=now):
                        moved += 1
            self.spool.finish(path)
        if moved:
            logger.info("moved %d request(s) from the spool into the inbox", moved)
        return moved

    def _db_error(self, exc: BaseException) -> None:
        self.counters.last_db_error = describe(exc)
        self.counters.last_db_error_at = time.time()
        if not self._db_down_logged:
            self._db_down_logged = True
            logger.error(
                "the database is not answering (%s): requests go to the spool and work waits",
                describe(exc),
            )

    def _db_ok(self) -> None:
        if self._db_down_logged:
            self._db_down_logged = False
            logger.info("the database answers again: resuming work")

    # -- stopping, settling, health ----------------------------------------------------------
    def stop(self, timeout: float) -> bool:
        """Stop taking work, give running work until `timeout`, hand the rest back to the inbox
        for the next start. True when everything running finished."""
        self._stopping.set()
        self._wake.set()
        self.writer.close()
        finished = self.lanes.stop(timeout)
        try:
            with self.db.quick_transaction() as session:
                released = store.release(session, self.owner)
            if released:
                logger.info("%d item(s) left in the inbox for the next start", released)
        except Exception as exc:
            logger.warning("could not hand items back (%s): their lease will", describe(exc))
        return finished

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing due is waiting or running (tests and the demo)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.kick()
            if not self.lanes.wait_idle(max(0.0, deadline - time.monotonic())):
                return False
            # The spool before the database: a drain commits its rows before it removes its
            # file, so a spool seen empty here means those rows are visible to the count below
            # (the other order can miss a drain that commits between the two looks).
            spooled = self.spool.waiting()
            with self.db.session() as session:
                left = store.due_count(session, _now())
            with self._lock:
                running = bool(self._inflight)
            if not spooled and not left and not running:
                return True
            time.sleep(0.02)
        return False

    def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "spooled": self.spool.waiting(),
            "running": len(self._inflight),
            "accepted": self.counters.accepted,
            "failed_here": self.counters.failed,
            "write_ms": self.counters.write_summary(),
        }
        with self.db.quick_transaction() as session:
            b = store.backlog(session)
        out.update(pending=b.pending, failed=b.failed)
        if b.oldest_pending is not None:
            out["oldest_pending_s"] = round((_now() - b.oldest_pending).total_seconds(), 1)
        return out
