"""Recovery after `kill -9`: 1,000 client-channel events acked, the process killed at once,
restarted on the same database. Reports the time from the restart until all 1,000 are recorded
and how many were lost (goal: 0), on SQLite and, when BENCH_DATABASE_URL is set, on a private
PostgreSQL database. Run: python -m bench.recovery
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from storage.models import Touchpoint
from tests.faults.harness import (
    ACME_TEAM,
    Rows,
    ServeFactory,
    TrackingEmulator,
    channel_messages,
    create_private_database,
    drop_private_database,
)

EVENTS = 1000
CONCURRENCY = 16
RECOVERY_BOUND = 120.0  # seconds after the restart before giving up on the missing ones
SECRET = "bench-signing-secret"
BENCH_PREFIX = "csobot_fault_"


@dataclass
class Outcome:
    backend: str
    acked: int
    at_kill: int  # recorded when the process was killed
    healthy_after: float | None  # restart -> /healthz 200, seconds
    all_after: float | None  # restart -> all recorded, seconds (None: not within the bound)
    recorded: int
    distinct: int

    @property
    def lost(self) -> int:
        return self.acked - self.distinct

    @property
    def doubled(self) -> int:
        return self.recorded - self.distinct


def _run_one(backend: str, db_url: str, workdir: Path) -> Outcome:
    emulator = TrackingEmulator()
    emulator.start()
    factory = ServeFactory(emulator=emulator, secret=SECRET, workdir=workdir)
    rows = Rows(db_url)
    where = Touchpoint.channel == "C0ACME"
    try:
        server = factory.start(db_url, env={"CSOBOT_LOG_LEVEL": "WARNING"})
        batch = channel_messages(EVENTS, authors=ACME_TEAM, per_day=200)
        replies = server.post_all(batch.bodies, concurrency=CONCURRENCY)
        server.kill()
        acked = Counter(r.status for r in replies)[200]
        at_kill = rows.count(Touchpoint, where)

        restarted = time.monotonic()
        server = factory.restart(server, wait=False)
        server.wait_up(timeout=60)
        healthy = time.monotonic() - restarted
        all_after: float | None = None
        n = rows.count(Touchpoint, where)
        while time.monotonic() - restarted < RECOVERY_BOUND:
            if n >= acked:
                all_after = time.monotonic() - restarted
                break
            time.sleep(0.05)
            n = rows.count(Touchpoint, where)
        time.sleep(1.0)  # a doubling would show up now
        recorded = rows.count(Touchpoint, where)
        distinct = rows.scalars(
            select(func.count(func.distinct(Touchpoint.message_ts))).where(where)
        )[0]
        server.terminate()
        if server.wait(30) is None:
            server.kill()
        return Outcome(backend, acked, at_kill, healthy, all_after, recorded, int(distinct))
    finally:
        rows.dispose()
        factory.close()
        emulator.stop()


def run() -> str:
    outcomes: list[Outcome] = []
    tmp = Path(tempfile.mkdtemp(prefix="csobot-recovery-"))
    try:
        outcomes.append(_run_one("SQLite", f"sqlite:///{tmp / 'recovery.db'}", tmp / "sqlite"))
        admin = os.environ.get("BENCH_DATABASE_URL")
        if admin:
            url = create_private_database(admin, BENCH_PREFIX)
            try:
                outcomes.append(_run_one("PostgreSQL", url, tmp / "postgresql"))
            finally:
                drop_private_database(admin, url, BENCH_PREFIX)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _report(outcomes)


def _secs(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else f"not within {RECOVERY_BOUND:.0f}"


def _report(outcomes: list[Outcome]) -> str:
    lines = [
        f"## Recovery after kill -9: {EVENTS:,} acked events",
        "",
        f"{EVENTS:,} signed team messages in a client channel, {CONCURRENCY} at a time, every "
        "one acked; `kill -9` the moment the last ack arrives; `csobot serve` restarted on the "
        "same database (and spool directory). Seconds are from the restart.",
        "",
        "| database | acked | recorded at the kill | /healthz 200 after s | all recorded after s "
        "| recorded | lost | doubled |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.backend} | {o.acked} | {o.at_kill} | {_secs(o.healthy_after)} | "
            f"{_secs(o.all_after)} | {o.recorded} | {o.lost} | {o.doubled} |"
        )
    lost = sum(o.lost for o in outcomes)
    lines += ["", f"- lost: **{lost}** (goal 0); doubled: {sum(o.doubled for o in outcomes)}"]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
