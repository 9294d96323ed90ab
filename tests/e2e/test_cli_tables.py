"""Every `csobot` command that prints a table, on a seeded portfolio: aligned within 80 columns
(long cells wrapped, never cut), and its `--json` parses. Run through `bot.cli.main`, the entry
point the `csobot` script calls, with the settings in the environment as a user sets them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main
from domain.touchpoint import ChannelMessage
from storage.db import Database
from storage.touchpoint_store import record_channel_message
from tests.conftest import NY, SAMPLE_PORTFOLIO
from tests.e2e.test_health_cli import NOW, SIGNALS

# command -> words; each also runs with --json
TABLE_COMMANDS: dict[str, list[str]] = {
    "portfolio show": ["portfolio", "show"],
    "kpi": ["kpi", "--week", "2026-W47"],
    "cadence show": ["cadence", "show"],
    "onboarding plans": ["onboarding", "plans"],
    "expansion": ["expansion"],
    "renewals": ["renewals", "--quarter", "2027Q1"],
    "metrics": ["metrics", "--quarter", "2026Q4"],
    "eval-flags": ["eval-flags"],
    "eval-support": ["eval-support"],
}


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


@pytest.fixture
def seeded(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample portfolio (a long client name, to be wrapped) and a month of health
    readings, imported the way a team does it."""
    for name in ("SLACK_BOT_TOKEN", "OPENAI_API_KEY", "OPENAI_BASE_URL", "CSOBOT_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("CSOBOT_NOW", NOW)
    portfolio = tmp_path / "portfolio.yaml"
    portfolio.write_text(
        SAMPLE_PORTFOLIO.replace(
            "name: Acme Corp", "name: Acme Corporation International Holdings (EMEA and APAC)"
        )
    )
    _cli(["portfolio", "import", str(portfolio)], capsys)
    usage = tmp_path / "usage.csv"
    rows = [f"acme,2026-11-10,{s},9" for s in SIGNALS] + [
        f"globex,2026-11-10,{s},5" for s in SIGNALS
    ]
    usage.write_text("client,date,signal,value\n" + "\n".join(rows) + "\n")
    _cli(["health", "import", str(usage)], capsys)
    db = Database(db_url)
    with db.transaction() as tx:  # the CSO's client messages, as the listeners record them
        for day in (16, 17, 19):
            at = datetime(2026, 11, day, 10, tzinfo=NY)
            message = ChannelMessage(
                "C0ACME",
                "U0CSO1",
                "Sharing today's dashboard refresh.",
                f"{at.timestamp()}",
                None,
                None,
            )
            record_channel_message(tx, message, at)
    db.dispose()


@pytest.mark.parametrize("command", sorted(TABLE_COMMANDS))
def test_every_table_fits_80_columns_and_has_json(
    command: str, seeded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    words = TABLE_COMMANDS[command]
    text = _cli(words, capsys)
    assert text.strip(), f"`csobot {command}` printed nothing"
    wide = [line for line in text.splitlines() if len(line) > 80]
    assert wide == [], f"`csobot {command}` prints lines over 80 columns:\n" + "\n".join(wide)
    data = json.loads(_cli([*words, "--json"], capsys))
    assert data


def test_a_long_name_is_wrapped_not_cut(seeded: None, capsys: pytest.CaptureFixture[str]) -> None:
    text = _cli(["portfolio", "show"], capsys)
    assert max(len(line) for line in text.splitlines()) <= 80
    words = " ".join(text.split())
    for word in ("Acme", "Corporation", "International", "Holdings", "(EMEA", "APAC)"):
        assert word in words
    renewals = _cli(["renewals", "--quarter", "2027Q1"], capsys)
    assert "Holdings" in renewals and "240,000" in renewals


def test_kpi_overall_adds_up_the_columns_it_sits_under(
    seeded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _cli(["kpi", "--week", "2026-W47"], capsys)
    data = json.loads(_cli(["kpi", "--week", "2026-W47", "--json"], capsys))
    clients = [c for cso in data["csos"] for c in cso["clients"]]
    daily = sum(c["daily"]["done"] for c in clients), sum(c["daily"]["expected"] for c in clients)
    weekly = (
        sum(c["weekly_presentation"]["done"] for c in clients),
        sum(c["weekly_presentation"]["expected"] for c in clients),
    )
    overall = next(line for line in text.splitlines() if line.startswith("Overall"))
    assert overall.split()[1:3] == [f"{daily[0]}/{daily[1]}", f"{weekly[0]}/{weekly[1]}"]
    o = data["overall"]
    assert f"{o['done']} of {o['expected']}" in text  # the rate's own count, said in words


def test_bare_csobot_prints_help_and_version_prints_the_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from importlib.metadata import version

    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: csobot") and "portfolio" in out and "kpi" in out
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"csobot {version('csobot')}"


def test_a_cli_error_suggests_a_cli_command_not_a_slack_one(
    seeded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["closeout", "report", "zzz"]) == 2
    err = capsys.readouterr().err
    assert "`csobot portfolio show`" in err and "`/pulse`" not in err


def test_a_command_settles_the_heap_of_its_own_process_not_of_a_caller(
    seeded: None, capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    """`csobot kpi` over a whole portfolio spends less on the garbage collector (bot/heap.py);
    `main(argv)` called from other code leaves that code's collector as it was."""
    import gc
    import os
    import subprocess
    import sys

    from bot.heap import THRESHOLDS

    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's defaults, whatever ran before in this process
    try:
        frozen = gc.get_freeze_count()
        _cli(["kpi", "--week", "2026-W47"], capsys)
        assert gc.get_threshold() == (700, 10, 10)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.set_threshold(*before)
    probe = (
        "import gc, sys\n"
        "from bot.cli import main\n"
        "sys.argv = ['csobot', 'kpi', '--week', '2026-W47']\n"
        "code = main()\n"
        "print(list(gc.get_threshold()), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "DATABASE_URL": db_url, "CSOBOT_NOW": NOW},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == str(list(THRESHOLDS))
