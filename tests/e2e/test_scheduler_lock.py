"""Two `csobot scheduler` processes on one database: one ticks, the other stands by; when the
ticking one is killed (-9), the other takes the lock over and ticks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from devkit.emulator import SlackEmulator
from storage.db import Database
from tests.conftest import NY, SAMPLE_PORTFOLIO, wait_until
from usecases.outbox import NudgeSpec, enqueue

PINNED = datetime(2026, 11, 20, 15, 0, 30, tzinfo=NY)  # just past the touchpoint cutoff


def _env(db_url: str, emulator: SlackEmulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CSOBOT_"))}
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-e2e",
            "SLACK_API_URL": emulator.api_url,
            "DATABASE_URL": db_url,
            "CSOBOT_NOW": PINNED.isoformat(),
            "CSOBOT_LOG_LEVEL": "INFO",
        }
    )
    return env


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "scheduler"], env=env, stdout=out, stderr=out
        )


def test_two_schedulers_one_ticks_and_the_other_takes_over_after_kill_9(
    db_url: str, emulator: SlackEmulator, tmp_path: Path
) -> None:
    env = _env(db_url, emulator)
    portfolio = tmp_path / "p.yaml"
    portfolio.write_text(SAMPLE_PORTFOLIO)
    for argv in (["db", "upgrade"], ["portfolio", "import", str(portfolio)]):
        subprocess.run(
            [sys.executable, "-m", "bot", *argv], env=env, check=True, capture_output=True
        )
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _start(env, first_log)
    procs = [first]
    try:
        wait_until(lambda: "holds the scheduler lock" in first_log.read_text(), timeout=30)
        second = _start(env, second_log)
        procs.append(second)
        wait_until(lambda: "stands by" in second_log.read_text(), timeout=30)
        assert f"pid {first.pid}" in second_log.read_text()  # it says who ticks
        emulator.wait_for("chat.postMessage", where=lambda c: c["channel"] == "U0CSO1", timeout=30)
        assert "holds the scheduler lock" not in second_log.read_text()

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        db = Database(db_url)
        with db.transaction() as session:  # something new to send, due now
            enqueue(
                session,
                NudgeSpec(
                    cadence_id="takeover-check",
                    period="p",
                    target="U0LATE",
                    text="sent by whoever ticks now",
                    due_at=PINNED,
                    expires_at=PINNED + timedelta(hours=2),
                ),
                PINNED,
            )
        db.dispose()
        [late] = emulator.wait_for(
            "chat.postMessage", where=lambda c: c["channel"] == "U0LATE", timeout=40
        )
        assert late["text"] == "sent by whoever ticks now"
        assert f"pid {second.pid}) holds the scheduler lock" in second_log.read_text()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
