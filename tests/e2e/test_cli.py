"""The `csobot` command line, run as a user runs it (a real process)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Client, Person
from tests.conftest import NY, SAMPLE_PORTFOLIO, BotHarness, wait_until


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CSOBOT_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_serve_names_a_missing_setting_and_exits_2(tmp_path: Path) -> None:
    out = run("serve", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("csobot: SLACK_BOT_TOKEN is not set")
    assert "Traceback" not in out.stderr


def test_a_malformed_setting_is_named(tmp_path: Path) -> None:
    out = run("kpi", env={"PORT": "eighty"}, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("csobot: PORT is malformed")
    assert len(out.stderr.strip().splitlines()) == 1


def test_portfolio_import_is_idempotent_and_show_lists_it(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "portfolio.yaml"
    path.write_text(SAMPLE_PORTFOLIO)
    env = {"DATABASE_URL": db_url}
    first = run("portfolio", "import", str(path), env=env)
    assert first.returncode == 0, first.stderr
    assert "people: 6 added" in first.stdout and "clients: 3 added" in first.stdout
    again = run("portfolio", "import", str(path), env=env)
    assert "people: 0 added, 0 updated; clients: 0 added, 0 updated" in again.stdout
    path.write_text(SAMPLE_PORTFOLIO.replace("arr: 96000", "arr: 120000"))
    changed = run("portfolio", "import", str(path), env=env)
    assert "clients: 0 added, 1 updated" in changed.stdout
    shown = run("portfolio", "show", env=env)
    assert "Acme Corp" in shown.stdout and "120,000" in shown.stdout


def test_a_bad_portfolio_names_entry_and_field_and_writes_nothing(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "portfolio.yaml"
    path.write_text(SAMPLE_PORTFOLIO.replace("cso: U0CSO2", "cso: U0GHOST"))
    out = run("portfolio", "import", str(path), env={"DATABASE_URL": db_url})
    assert out.returncode == 1
    assert "clients[2] (initech).cso: U0GHOST is not in people" in out.stderr
    assert "nothing was written" in out.stderr
    db = Database(db_url)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == 0
        assert s.scalar(select(func.count()).select_from(Person)) == 0
    db.dispose()


WORDS = "Sharing this week's attribution numbers with your team now"


def test_kpi_json_has_the_documented_shape(bot: BotHarness) -> None:
    # Acme: Mon, Tue, Thu, Fri touched (Wed missed) and a win; Globex: Monday only.
    for day in (16, 17, 19, 20):
        bot.message("C0ACME", "U0CSO1", WORDS, datetime(2026, 11, day, 10, tzinfo=NY))
    bot.message("C0GLOBEX", "U0CSO1", WORDS, datetime(2026, 11, 16, 10, tzinfo=NY))
    bot.command("/win", 'acme "Demoed the new pipeline: reports 2 days faster"')
    bot.command("/touchpoint", 'initech skip "client offsite"', user="U0CSO2")
    bot.wait_response(2)

    def recorded() -> bool:
        out = run("kpi", "--week", "2026-W47", "--json", env=env)
        return json.loads(out.stdout)["overall"]["done"] == 6

    env = {
        "DATABASE_URL": bot.settings.database_url,
        "CSOBOT_NOW": "2026-11-23T09:00:00-05:00",
    }
    wait_until(recorded, timeout=10, interval=0.3)
    out = run("kpi", "--week", "2026-W47", "--json", env=env)
    kpi = json.loads(out.stdout)
    assert kpi["week"] == "2026-W47"
    dana = next(c for c in kpi["csos"] if c["slack_id"] == "U0CSO1")
    acme = next(c for c in dana["clients"] if c["slug"] == "acme")
    # the keys it always had keep their meaning; new keys are additions
    daily = acme["daily"]
    assert {k: daily[k] for k in ("expected", "done", "missed", "exempt", "pending")} == {
        "expected": 5,
        "done": 4,
        "missed": ["2026-11-18"],
        "exempt": [],
        "pending": [],
    }
    assert sorted(daily["evidence"]) == ["2026-11-16", "2026-11-17", "2026-11-19", "2026-11-20"]
    assert daily["ignored"] == []
    weekly = acme["weekly_presentation"]
    assert {k: weekly[k] for k in ("expected", "done", "win")} == {
        "expected": 1,
        "done": 1,
        "win": "Demoed the new pipeline: reports 2 days faster",
    }
    assert (weekly["tangible"], weekly["status"]) == (True, "done")
    assert (dana["expected"], dana["done"]) == (12, 6)
    assert dana["rate"] == 0.5
    sam = next(c for c in kpi["csos"] if c["slack_id"] == "U0CSO2")
    initech = sam["clients"][0]
    assert initech["daily"]["exempt"] == [{"date": "2026-11-20", "reason": "client offsite"}]
    assert kpi["overall"] == {"expected": 17, "done": 6, "rate": round(6 / 17, 4)}
    table = run("kpi", "--week", "2026-W47", env=env).stdout
    assert "Dana Reyes" in table and "2026-11-18" in table and "Overall" in table


def test_kpi_rejects_a_bad_week(tmp_path: Path) -> None:
    out = run("kpi", "--week", "47", env={"DATABASE_URL": f"sqlite:///{tmp_path}/k.db"})
    assert out.returncode == 2
    assert "--week" in out.stderr and "2026-W47" in out.stderr


def test_demo_runs_offline_and_prints_the_week(tmp_path: Path) -> None:
    out = run("demo", cwd=tmp_path, timeout=300)  # a whole week: slow on a busy machine
    assert out.returncode == 0, out.stderr[-2000:]
    wide = [line for line in out.stdout.splitlines() if len(line) > 80]
    assert wide == [], "the demo prints lines over 80 columns:\n" + "\n".join(wide)
    text = " ".join(out.stdout.split())  # long lines are wrapped: read it as one paragraph
    assert "csobot serve is up" in text
    assert 'Unknown client "acmee" — did you mean acme?' in text
    assert "reads like a list of activity" in text
    assert "Communication Consistency" in text and "Overall" in text
    assert "chat.postMessage → C0STANDUP" in text
    assert "Partnership Pulse — Dana Reyes" in text  # the person's name, not a Slack username
    # what counts: an ignored "ok", an activity-list win not tangible, the evidence of one day
    assert "'ok' — an acknowledgement" in text
    assert "by the service lead (counted roles: cso)" in text
    assert "globex: done, NOT tangible (a list of activity): 'Closed 15 tickets" in text
    assert "The evidence behind acme's " in text
    assert "message by Dana Reyes at " in text
    assert "https://slack.com/archives/C0ACME/p" in text


def test_socket_mode_needs_the_app_token(tmp_path: Path) -> None:
    out = run(
        "serve",
        "--socket",
        env={
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "DATABASE_URL": f"sqlite:///{tmp_path}/s.db",
        },
    )
    assert out.returncode == 2
    assert out.stderr.strip().startswith("csobot: SLACK_APP_TOKEN is not set")


def test_socket_mode_does_not_ask_for_the_signing_secret(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    out = run("serve", "--socket", env=env)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "csobot: SLACK_APP_TOKEN is not set: an app-level token (xapp-…) with "
        "connections:write, for Socket Mode"
    )


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_eval_flags_prints_scores_and_a_confusion_table(tmp_path: Path) -> None:
    missing_heldout = str(tmp_path / "heldout" / "flags.jsonl")
    out = run("eval-flags", "--heldout", missing_heldout, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "scope_creep" in out.stdout and "precision" in out.stdout
    assert "confusion (rows: expected, columns: predicted)" in out.stdout
    assert "== Development set: " in out.stdout and "flags_dev.jsonl" in out.stdout
    assert "not a measure of quality" in out.stdout
    squeezed = "".join(out.stdout.split())  # a long path wraps within 80 columns
    assert "".join(f"== Held-out set: {missing_heldout} ==held-out file missing".split()) in (
        squeezed
    )
    data = tmp_path / "mini.jsonl"
    data.write_text(
        json.dumps({"text": "Could you just add one more chart?", "label": "scope_creep"})
        + "\n"
        + json.dumps({"text": "Thanks!", "label": "none"})
        + "\n"
    )
    mini = run("eval-flags", "--data", str(data), "--heldout", missing_heldout, cwd=tmp_path)
    assert mini.returncode == 0 and "over 2 messages" in mini.stdout
    data.write_text('{"text": "x", "label": "bogus"}\n')
    bad = run("eval-flags", "--data", str(data), cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith(f"csobot: {data}:1:")
    missing = run("eval-flags", "--data", str(tmp_path / "none.jsonl"), cwd=tmp_path)
    assert missing.returncode == 2 and "no labelled data at" in missing.stderr
    assert "Traceback" not in bad.stderr + missing.stderr
    if not any(k.startswith("OPENAI_") for k in os.environ):
        no_llm = run("eval-flags", "--llm", cwd=tmp_path)
        assert no_llm.returncode == 2 and "--llm needs OPENAI_API_KEY" in no_llm.stderr


def test_eval_flags_reports_the_held_out_set_apart(tmp_path: Path) -> None:
    sample = FIXTURES / "heldout_sample.jsonl"  # our own small file, not the real held-out set
    out = run("eval-flags", "--heldout", str(sample), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    heading = re.search(r"== Held-out set: .*?==", out.stdout, flags=re.S)  # may wrap
    assert heading is not None and str(sample) in "".join(heading.group(0).split())
    dev, held = out.stdout[: heading.start()], out.stdout[heading.end() :]
    assert "== Development set: " in dev and held
    assert "(4 messages written independently of the rules, never tuned on)" in held
    assert "over 4 messages" in held and "precision" in held
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x"}\n')
    broken = run("eval-flags", "--heldout", str(bad), cwd=tmp_path)
    assert broken.returncode == 2 and broken.stderr.startswith(f"csobot: {bad}:1:")
