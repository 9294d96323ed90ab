"""`csobot tick`, `csobot cadence show` and `csobot kpi --json`, run as a user runs them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bot.cli_errors import UsageError
from bot.commands.cadence_cli import add_commands
from bot.settings import Settings
from devkit.emulator import SlackEmulator
from tests.conftest import SAMPLE_PORTFOLIO, TOKEN
from tests.e2e.test_cli import run

OVERRIDES = """  settings:
    cadences:
      triangle-sync: {at: "10:00"}
      evidence-of-value: false
"""


def _portfolio(tmp_path: Path, extra: str = OVERRIDES) -> Path:
    text = SAMPLE_PORTFOLIO.replace(
        "  leadership_channel: C0LEAD\n", "  leadership_channel: C0LEAD\n" + extra
    )
    path = tmp_path / "portfolio.yaml"
    path.write_text(text)
    return path


def test_tick_now_sends_what_is_due_once(
    db_url: str, emulator: SlackEmulator, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": emulator.api_url}
    assert run("portfolio", "import", str(_portfolio(tmp_path)), env=env).returncode == 0
    first = run("tick", "--now", "2026-11-20T15:05:00-05:00", env=env)
    assert first.returncode == 0, first.stderr
    assert "tick at 2026-11-20T20:05:00+00:00:" in first.stdout
    # 5 cadence nudges (one Client Health Report reminder lists both her clients), plus the
    # health checks and the Globex renewal milestone
    assert "Dana Reyes: 8 nudges sent" in first.stdout
    # Sam Okafor is in London, where it is 20:05 on a Friday: his nudges wait, and it says why
    said = " ".join(first.stdout.split())
    assert "10 new nudges; 8 sent in 1 message, 2 wait for quiet hours to end in London" in said
    assert "Sam Okafor: 2 nudges wait for quiet hours to end in London (Mon 09:00)" in said
    assert all(len(line) <= 80 for line in first.stdout.splitlines())
    [dm] = emulator.calls("chat.postMessage")
    assert dm["channel"] == "U0CSO1" and dm["text"].startswith(
        "Overdue touchpoints: Acme Corp, Globex"
    )
    again = run("tick", "--now", "2026-11-20T15:06:00-05:00", env=env)
    assert "0 new nudges; 0 sent in 0 messages" in again.stdout
    assert len(emulator.calls("chat.postMessage")) == 1
    kpi = json.loads(run("kpi", "--week", "2026-W47", "--json", env=env).stdout)
    dana = next(c for c in kpi["csos"] if c["slack_id"] == "U0CSO1")
    rows = {(r["cadence"], r["client"]): r["done"] for r in dana["cadences"]}
    assert rows == {
        ("client-health-report", "acme"): False,
        ("client-health-report", "globex"): False,
    }


def test_tick_with_a_bad_now_is_one_clear_line(db_url: str, tmp_path: Path) -> None:
    out = run("tick", "--now", "tomorrow", env={"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": TOKEN})
    assert out.returncode == 2 and "is not an ISO datetime" in out.stderr
    assert "Traceback" not in out.stderr


def test_cadence_show_prints_the_effective_catalogue(db_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": db_url}
    assert run("portfolio", "import", str(_portfolio(tmp_path)), env=env).returncode == 0
    out = run("cadence", "show", env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("triangle-sync"))
    tri = " ".join(lines[at : at + 2])  # a wrapped cell goes on on the next line
    assert "10:00" in tri and "CSO+SL+EP" in tri
    evidence = next(
        line for line in out.stdout.splitlines() if line.startswith("evidence-of-value")
    )
    assert evidence.rstrip().endswith("off")
    assert "Overrides from the imported portfolio: evidence-of-value, triangle-sync" in out.stdout


def test_cadence_show_names_a_bad_override(tmp_path: Path) -> None:
    bad = '  settings:\n    cadences:\n      triangle-sync: {at: "25:00"}\n'
    out = run("cadence", "show", "--portfolio", str(_portfolio(tmp_path, bad)), cwd=tmp_path)
    assert out.returncode == 2  # the portfolio file itself is refused (its settings are checked)
    assert "cadence triangle-sync.at" in out.stderr and "Traceback" not in out.stderr


def test_the_scheduler_worker_ticks_without_http(
    db_url: str, emulator: SlackEmulator, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CSOBOT_"))}
    env.update(
        DATABASE_URL=db_url,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_API_URL=emulator.api_url,
        CSOBOT_NOW="2026-11-20T15:01:00-05:00",
    )
    assert run("portfolio", "import", str(_portfolio(tmp_path)), env=env).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "scheduler"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        [dm] = emulator.wait_for("chat.postMessage", timeout=30)
        assert dm["channel"] == "U0CSO1" and "Overdue touchpoints" in dm["text"]
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert "Traceback" not in output


def _cadence_cli(argv: list[str], settings: Settings) -> int:
    """`bot.commands.cadence_cli` on a parser of its own (as the CLI registers it)."""
    parser = argparse.ArgumentParser(prog="csobot")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args, settings))


def test_the_cadence_cli_module_shows_the_catalogue(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cadence_cli(["cadence", "show"], settings) == 0
    shown = capsys.readouterr().out
    assert "triangle-sync" in shown  # no portfolio imported yet: the default catalogue
    assert (
        _cadence_cli(["cadence", "show", "--portfolio", str(_portfolio(tmp_path))], settings) == 0
    )
    out = capsys.readouterr().out
    tri = next(line for line in out.splitlines() if line.startswith("triangle-sync"))
    assert "10:00" in tri and "CSO+SL+EP" in tri
    assert f"Overrides from {tmp_path / 'portfolio.yaml'}: evidence-of-value, triangle-sync" in out
    bad = '  settings:\n    cadences:\n      triangle-sync: {at: "25:00"}\n'
    path = _portfolio(tmp_path, bad)
    # A bad file is a usage error (exit 2 from `csobot`), naming the entry and field.
    with pytest.raises(UsageError, match=r"cadence triangle-sync\.at"):
        _cadence_cli(["cadence", "show", "--portfolio", str(path)], settings)
