"""The local spool keeps every record, even while it is being drained, and survives a torn line."""

from __future__ import annotations

import threading
from pathlib import Path

from storage.spool import Spool


def test_records_come_back_in_order_and_the_drained_file_goes(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    assert spool.take() == [] and spool.waiting() == 0
    for i in range(3):
        spool.append({"key": f"k{i}", "body": "x"})
    assert spool.waiting() == 3
    [path] = spool.take()
    assert [r["key"] for r in Spool.read(path)] == ["k0", "k1", "k2"]
    Spool.finish(path)
    assert spool.take() == [] and spool.waiting() == 0


def test_a_line_cut_short_by_a_crash_is_skipped_not_fatal(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append({"key": "whole"})
    with spool.path.open("ab") as f:
        f.write(b'{"key": "torn", "bo')
    [path] = spool.take()
    assert [r["key"] for r in Spool.read(path)] == ["whole"]


def test_a_drain_left_behind_by_a_crash_is_picked_up_again(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append({"key": "a"})
    [first] = spool.take()  # taken, then the process died before finishing it
    spool.append({"key": "b"})
    files = spool.take()
    assert first in files and len(files) == 2
    keys = sorted(r["key"] for f in files for r in Spool.read(f))
    assert keys == ["a", "b"]


def test_appends_racing_with_drains_lose_nothing(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    seen: list[str] = []
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            for path in spool.take():
                seen.extend(r["key"] for r in Spool.read(path))
                Spool.finish(path)

    def write(n: int) -> None:
        for i in range(150):
            Spool(tmp_path).append({"key": f"{n}-{i}"})  # another writer, as another process

    drainer = threading.Thread(target=drain)
    drainer.start()
    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    drainer.join()
    for path in spool.take():
        seen.extend(r["key"] for r in Spool.read(path))
    assert len(seen) == 600 and len(set(seen)) == 600
