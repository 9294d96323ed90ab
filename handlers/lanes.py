"""Lanes: small, separate worker pools, so one slow dependency can't starve the rest.

Commands, buttons and forms run in the *interactive* lane, client-channel events in the
*events* lane, and anything that waits on the model in the *model* lane. Each lane has its own
daemon threads and queue: a hung model holds the model lane's threads and nothing else, and a
process that is told to stop never waits on a stuck thread past its drain deadline.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

INTERACTIVE, EVENTS, MODEL = "interactive", "events", "model"

Job = Callable[[], None]

# Background work waits this long at most for a burst of acks to pass (docs/process.md keeps
# Slack's 3-second answer first; the work is kept in the inbox meanwhile, never dropped).
MAX_DEFER_S = 0.05
DEFER_POLL_S = 0.002
# While acks are arriving, slotted work rests this many times as long as each job took before
# the next job starts: work takes at most a quarter of the interpreter from the answers Slack
# awaits, and still moves at a quarter of its speed under a long burst. A command's or an
# event's job is measured on the wall clock (its database writes count: on SQLite they hold
# the lock the write before an ack needs); the model lane's in CPU time (a call that waits on
# the model for seconds used the interpreter for microseconds).
REST_PER_WORK = 3.0


class Lane:
    def __init__(self, name: str, workers: int, *, max_queue: int = 500):
        self.name = name
        self.workers = workers
        self.max_queue = max_queue
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._running = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closed = False  # no new jobs
        # For a background lane: True while acks are arriving, so its jobs start a little later
        # instead of taking the CPU and the database's write lock from the answers Slack awaits.
        self.defer_to: Callable[[], bool] | None = None
        self.burst_slot: threading.Semaphore | None = None
        self.burst_busy: Callable[[], bool] | None = None
        self.rest_by_cpu = False  # rest after a job for its CPU time, not its wall time
        self._stopping = False  # queued jobs are skipped: they stay in the inbox
        self._threads = [
            threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def submit(self, job: Job) -> bool:
        """Queue a job; False when the lane is stopping or its queue is full (the work is in
        the inbox all the same, and the sweeper brings it back)."""
        with self._lock:
            if self._closed or self._queue.qsize() >= self.max_queue:
                return False
            self._queue.put(job)
            return True

    def busy(self) -> int:
        with self._lock:
            return self._running + self._queue.qsize()

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:  # taken: busy from now on, while it waits out a burst too
                self._running += 1
            try:
                self._defer()
                with self._lock:
                    stopping = self._stopping
                if stopping:  # not started: it stays in the inbox for the next start
                    continue
                self._run(job)
            except Exception:  # a job reports its own failures; this is a last resort
                logger.exception("%s lane: a job failed", self.name)
            finally:
                with self._lock:
                    self._running -= 1
                    self._idle.notify_all()

    def _defer(self) -> None:
        busy = self.defer_to
        if busy is None:
            return
        deadline = time.monotonic() + MAX_DEFER_S
        while busy() and not self._stopping and time.monotonic() < deadline:
            time.sleep(DEFER_POLL_S)

    def _run(self, job: Job) -> None:
        """While acks are arriving, the lanes that share a burst slot run one job at a time
        between them, resting after each (the answers Slack awaits get the interpreter; the
        work still moves)."""
        slot, busy = self.burst_slot, self.burst_busy
        if slot is None or busy is None or not busy():
            job()
            return
        clock = time.thread_time if self.rest_by_cpu else time.monotonic
        with slot:
            began = clock()
            job()
            spent = clock() - began
            rest_until = time.monotonic() + spent * REST_PER_WORK
            while busy() and not self._stopping and time.monotonic() < rest_until:
                time.sleep(DEFER_POLL_S)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing runs or waits in this lane. False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._running or self._queue.qsize():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True

    def close(self) -> None:
        """Take no new jobs; the queued and running ones go on."""
        with self._lock:
            self._closed = True

    def stop(self, timeout: float) -> bool:
        """Take no new jobs, finish the queued and running ones until `timeout`, then skip what
        is still queued (it stays in the inbox). True when everything finished."""
        self.close()
        finished = self.wait_idle(timeout)
        with self._lock:
            self._stopping = True
        for _ in self._threads:
            self._queue.put(None)
        return finished


@dataclass
class LaneSizes:
    interactive: int = 4
    events: int = 4
    model: int = 2


class Lanes:
    def __init__(self, sizes: LaneSizes | None = None):
        sizes = sizes or LaneSizes()
        self.by_name = {
            INTERACTIVE: Lane(INTERACTIVE, sizes.interactive),
            EVENTS: Lane(EVENTS, sizes.events),
            MODEL: Lane(MODEL, sizes.model),
        }

    def __getitem__(self, name: str) -> Lane:
        return self.by_name[name]

    def defer_background_to(self, busy: Callable[[], bool]) -> None:
        """While `busy` (acks arriving): the events and model lanes (nobody waits on them)
        start each job up to MAX_DEFER_S later; the work of commands and of events runs one
        job at a time between them (a shared slot), and the model lane's one at a time on its
        own slot (a call that waits seconds on the model never holds up the others), each job
        followed by its rest: acks are not starved of the interpreter by a backlog of work
        (a burst of client messages is a burst of classifications, on the rules when no model
        is configured)."""
        shared, model = threading.Semaphore(1), threading.Semaphore(1)
        for name in (INTERACTIVE, EVENTS, MODEL):
            lane = self.by_name[name]
            if name != INTERACTIVE:
                lane.defer_to = busy
            lane.burst_slot, lane.burst_busy = (model if name == MODEL else shared), busy
        self.by_name[MODEL].rest_by_cpu = True

    def busy(self) -> int:
        return sum(lane.busy() for lane in self.by_name.values())

    def busy_by_lane(self) -> dict[str, int]:
        return {name: lane.busy() for name, lane in self.by_name.items()}

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        return all(
            lane.wait_idle(max(0.0, deadline - time.monotonic())) for lane in self.by_name.values()
        )

    def stop(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        lanes = list(self.by_name.values())
        for lane in lanes:  # every lane stops taking work first, then each drains
            lane.close()
        return all([lane.stop(max(0.0, deadline - time.monotonic())) for lane in lanes])
