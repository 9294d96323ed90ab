"""While acks are arriving, work yields to them: background lanes start later, and commands'
and events' work runs one job at a time between them; it still never starves."""

from __future__ import annotations

import threading
import time

from handlers.lanes import EVENTS, INTERACTIVE, MODEL, REST_PER_WORK, Lanes, LaneSizes


class Overlap:
    """A job that notes how many of its kind ran at once (`most`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self.most = 0

    def job(self) -> None:
        with self._lock:
            self._running += 1
            self.most = max(self.most, self._running)
        time.sleep(0.02)  # long enough for a second worker to start, if it could
        with self._lock:
            self._running -= 1


def test_during_a_burst_of_acks_commands_and_events_work_one_job_at_a_time() -> None:
    lanes = Lanes(LaneSizes(interactive=4, events=4, model=1))
    lanes.defer_background_to(lambda: True)  # acks keep arriving
    overlap = Overlap()
    for _ in range(4):
        assert lanes[INTERACTIVE].submit(overlap.job)
        assert lanes[EVENTS].submit(overlap.job)
    assert lanes.wait_idle(60)
    assert overlap.most == 1
    assert lanes.stop(5)


def test_without_acks_arriving_the_lanes_run_side_by_side() -> None:
    lanes = Lanes(LaneSizes(interactive=2, events=2, model=1))
    lanes.defer_background_to(lambda: False)
    both = threading.Barrier(2, timeout=30)  # passes only if two jobs run at once
    passed: list[str] = []
    for name in (INTERACTIVE, EVENTS):
        assert lanes[name].submit(lambda n=name: (both.wait(), passed.append(n)))
    assert lanes.wait_idle(60)
    assert sorted(passed) == [EVENTS, INTERACTIVE]
    assert lanes.stop(5)


def test_background_and_model_jobs_run_even_while_acks_never_stop() -> None:
    lanes = Lanes(LaneSizes(interactive=1, events=1, model=1))
    lanes.defer_background_to(lambda: True)  # a burst that never ends
    done = [threading.Event() for _ in range(3)]
    assert lanes[EVENTS].submit(done[0].set)
    assert lanes[MODEL].submit(done[1].set)
    assert lanes[INTERACTIVE].submit(done[2].set)
    assert all(d.wait(30) for d in done)  # deferred a little, never starved
    assert lanes.stop(5)


def test_during_a_burst_each_job_is_followed_by_a_rest_of_three_times_its_length() -> None:
    """Work takes at most a quarter of the interpreter while acks arrive (REST_PER_WORK)."""
    lanes = Lanes(LaneSizes(interactive=1, events=1, model=1))
    lanes.defer_background_to(lambda: True)  # acks keep arriving
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def job() -> None:
        began = time.monotonic()
        time.sleep(0.05)
        with lock:
            spans.append((began, time.monotonic()))

    assert lanes[INTERACTIVE].submit(job)
    assert lanes[EVENTS].submit(job)
    assert lanes.wait_idle(60)
    (first_start, first_end), (second_start, _) = sorted(spans)
    ran = first_end - first_start
    assert second_start - first_end >= REST_PER_WORK * ran * 0.9  # sleeps last at least that
    assert lanes.stop(5)


def test_during_a_burst_the_model_lane_works_one_job_at_a_time_on_its_own_slot() -> None:
    """A burst of client messages is a burst of classifications: the model lane takes its turn
    too, one job at a time, but on its own slot, so a call that waits on the model never holds
    up a command's or an event's work."""
    lanes = Lanes(LaneSizes(interactive=1, events=1, model=3))
    lanes.defer_background_to(lambda: True)  # acks keep arriving
    classifications = Overlap()
    for _ in range(3):
        assert lanes[MODEL].submit(classifications.job)
    both = threading.Barrier(2, timeout=30)  # passes only if a model job and an event's run at once
    passed: list[str] = []
    assert lanes[MODEL].submit(lambda: (both.wait(), passed.append(MODEL)))
    assert lanes[EVENTS].submit(lambda: (both.wait(), passed.append(EVENTS)))
    assert lanes.wait_idle(60)
    assert classifications.most == 1
    assert sorted(passed) == [EVENTS, MODEL]
    assert lanes.stop(5)


def test_during_a_burst_a_model_job_rests_for_its_cpu_time_not_its_wait() -> None:
    """A call that waits on the model for a long time used the interpreter for next to nothing:
    the next one is not held back three times that wait (a command's job is, on the wall
    clock: its database writes count)."""
    lanes = Lanes(LaneSizes(interactive=1, events=1, model=1))
    lanes.defer_background_to(lambda: True)  # acks keep arriving
    spans: list[tuple[float, float]] = []

    def call_the_model() -> None:
        began = time.monotonic()
        time.sleep(0.3)  # waiting on the network
        spans.append((began, time.monotonic()))

    assert lanes[MODEL].submit(call_the_model)
    assert lanes[MODEL].submit(call_the_model)
    assert lanes.wait_idle(60)
    (_, first_end), (second_start, _) = sorted(spans)
    assert second_start - first_end < REST_PER_WORK * 0.3 * 0.6  # the wall-clock rest: 0.9 s
    assert lanes.stop(5)


def test_a_job_waiting_out_a_burst_counts_as_busy() -> None:
    """Taken from the queue but not started yet (deferred while acks arrive): the lane is not
    idle, so nobody reads "nothing left to do" in that gap."""
    lanes = Lanes(LaneSizes(interactive=1, events=1, model=1))
    lanes.defer_background_to(lambda: True)  # acks keep arriving: each event job waits first
    done = threading.Event()
    assert lanes[EVENTS].submit(done.set)
    time.sleep(0.01)  # the worker has taken it and is waiting out the burst
    assert lanes.wait_idle(60)
    assert done.is_set()
    assert lanes.stop(5)
