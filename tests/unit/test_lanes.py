"""Background lanes let acks pass first, and still never starve."""

from __future__ import annotations

import threading

from handlers.lanes import EVENTS, INTERACTIVE, MODEL, Lanes, LaneSizes


def test_background_lanes_ask_whether_acks_are_arriving_and_commands_never_wait() -> None:
    asked: dict[str, int] = {}
    lock = threading.Lock()
    lanes = Lanes(LaneSizes(interactive=1, events=1, model=1))

    def busy() -> bool:
        name = threading.current_thread().name.split("-")[0]
        with lock:
            asked[name] = asked.get(name, 0) + 1
        return False

    lanes.defer_background_to(busy)
    ran: list[str] = []
    for name in (INTERACTIVE, EVENTS, MODEL):
        assert lanes[name].submit(lambda n=name: ran.append(n))
    assert lanes.wait_idle(30)
    assert sorted(ran) == sorted([INTERACTIVE, EVENTS, MODEL])
    assert asked.get(EVENTS, 0) >= 1 and asked.get(MODEL, 0) >= 1
    assert INTERACTIVE not in asked
    assert lanes.stop(5)


def test_a_background_job_runs_even_while_acks_never_stop() -> None:
    lanes = Lanes(LaneSizes(interactive=1, events=1, model=1))
    lanes.defer_background_to(lambda: True)  # a burst that never ends
    done = threading.Event()
    assert lanes[EVENTS].submit(done.set)
    assert done.wait(30)  # deferred a little, never starved
    assert lanes.stop(5)
