"""`csobot serve` as a real process: it answers Slack, and a restart loses no acked work."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from devkit.emulator import SlackEmulator
from devkit.signing import event_body, post_signed
from storage.db import Database
from storage.models import Touchpoint
from tests.conftest import NY, SAMPLE_PORTFOLIO, SECRET


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sigterm_drains_acked_work_before_exiting(
    db_url: str, emulator: SlackEmulator, tmp_path: Path
) -> None:
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CSOBOT_"))}
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-e2e",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": emulator.api_url,
            "DATABASE_URL": db_url,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "CSOBOT_SCHEDULER": "false",
        }
    )
    portfolio = tmp_path / "p.yaml"
    portfolio.write_text(SAMPLE_PORTFOLIO)
    for argv in (["db", "upgrade"], ["portfolio", "import", str(portfolio)]):
        subprocess.run(
            [sys.executable, "-m", "bot", *argv], env=env, check=True, capture_output=True
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        start = datetime(2026, 11, 16, 9, tzinfo=NY)
        for i in range(60):
            ts = f"{(start + timedelta(minutes=i)).timestamp():.6f}"
            event = {
                "type": "message",
                "channel": "C0ACME",
                "user": "U0CSO1",
                "text": f"update {i}",
                "ts": ts,
                "event_ts": ts,
            }
            status, _ = post_signed(base + "/slack/events", SECRET, event_body(event))
            assert status == 200
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output.decode()[-2000:]
    assert b"xoxb-e2e" not in output  # the token never reaches the log
    assert b"will be unused" not in output  # no spurious warning from Bolt at start
    db = Database(db_url)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Touchpoint)) == 60
    db.dispose()
