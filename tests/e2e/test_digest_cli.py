"""`csobot digest` as a user runs it: formats, files, dry-run, posting once, and trust — every
consistency number in the digest is the one `csobot kpi --json` prints."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from devkit.emulator import SlackEmulator
from tests.conftest import BotHarness
from tests.e2e.test_cli import run
from tests.integration.test_digest import _seed_week

NOW = "2026-11-23T10:00:00-05:00"


def _env(bot: BotHarness, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": bot.settings.database_url, "CSOBOT_NOW": NOW, **extra}


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def test_every_consistency_number_in_the_digest_is_the_kpi_jsons(bot: BotHarness) -> None:
    _seed_week(bot.db)
    env = _env(bot)
    kpi = json.loads(run("kpi", "--week", "2026-W47", "--json", env=env).stdout)
    md = run("digest", "--week", "2026-W47", "--dry-run", "--format", "md", env=env)
    assert md.returncode == 0, md.stderr
    slack = json.loads(
        run("digest", "--week", "2026-W47", "--dry-run", "--format", "slack", env=env).stdout
    )
    mrkdwn = json.dumps(slack, ensure_ascii=False)
    o = kpi["overall"]
    daily = [c["daily"] for cso in kpi["csos"] for c in cso["clients"]]
    weekly = [c["weekly_presentation"] for cso in kpi["csos"] for c in cso["clients"]]
    line = (
        f"{_pct(o['rate'])} ({o['done']} of {o['expected']}) · daily touchpoints "
        f"{sum(d['done'] for d in daily)}/{sum(d['expected'] for d in daily)} · weekly "
        f"presentations {sum(w['done'] for w in weekly)}/{sum(w['expected'] for w in weekly)}"
    )
    assert line in md.stdout and line in mrkdwn
    for cso in kpi["csos"]:
        d = [c["daily"] for c in cso["clients"]]
        w = [c["weekly_presentation"] for c in cso["clients"]]
        numbers = (
            f"{_pct(cso['rate'])} ({cso['done']} of {cso['expected']}) · daily "
            f"{sum(x['done'] for x in d)}/{sum(x['expected'] for x in d)} · weekly presentation "
            f"{sum(x['done'] for x in w)}/{sum(x['expected'] for x in w)}"
        )
        assert f"**{cso['name']}** — {numbers}" in md.stdout
        assert f"*{cso['name']}* — {numbers}" in mrkdwn
        for client in cso["clients"]:
            for day in client["daily"]["missed"]:
                assert re.search(rf"{client['name']} [^·\n]*{int(day[-2:]):02d} Nov", md.stdout)
            for ex in client["daily"]["exempt"]:
                assert f"({ex['reason']})" in md.stdout
            if client["weekly_presentation"]["win"]:
                assert client["weekly_presentation"]["win"] in md.stdout
    # the numbers the digest shows are all accounted for by the KPI's
    shown = set(re.findall(r"(\d+\.\d)% \((\d+) of (\d+)\)", md.stdout))
    expected = {(_pct(c["rate"])[:-1], str(c["done"]), str(c["expected"])) for c in kpi["csos"]}
    expected.add((_pct(o["rate"])[:-1], str(o["done"]), str(o["expected"])))
    assert shown == expected


def test_html_embeds_the_chart_and_files_are_written(bot: BotHarness, tmp_path: Path) -> None:
    _seed_week(bot.db)
    out = tmp_path / "digest.html"
    res = run(
        "digest",
        "--week",
        "2026-W47",
        "--dry-run",
        "--format",
        "html",
        "--output",
        str(out),
        env=_env(bot),
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and f"to {out}" in res.stderr
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "Leadership digest — Brainforge Delivery" in page
    b64 = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert b64 and base64.b64decode(b64.group(1))[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<td>Dana Reyes</td>" in page and "50.0% (6 of 12)" in page
    md_file = tmp_path / "digest.md"
    run(
        "digest",
        "--week",
        "2026-W47",
        "--dry-run",
        "--format",
        "md",
        "--output",
        str(md_file),
        env=_env(bot),
    )
    assert md_file.read_text().startswith("# Leadership digest — Brainforge Delivery, 2026-W47")


def test_a_week_with_no_data_says_so(bot: BotHarness) -> None:
    res = run("digest", "--week", "2026-W30", "--dry-run", "--format", "md", env=_env(bot))
    assert "no touchpoints, wins or exemptions were recorded for 2026-W30" in res.stdout
    assert "0.0%" not in res.stdout and "100.0%" not in res.stdout


def test_bad_week_and_unwritable_file_are_one_clear_line(bot: BotHarness, tmp_path: Path) -> None:
    bad = run("digest", "--week", "47", "--dry-run", env=_env(bot))
    assert bad.returncode == 2 and bad.stderr.startswith("csobot: --week:")
    assert "2026-W47" in bad.stderr and "Traceback" not in bad.stderr
    nowhere = run(
        "digest", "--dry-run", "--output", str(tmp_path / "no" / "such" / "x.md"), env=_env(bot)
    )
    assert nowhere.returncode == 2 and nowhere.stderr.startswith("csobot: cannot write")


def test_without_dry_run_it_posts_through_the_outbox_once(
    bot: BotHarness, emulator: SlackEmulator
) -> None:
    _seed_week(bot.db)
    env = _env(bot, SLACK_BOT_TOKEN="xoxb-test-token", SLACK_API_URL=emulator.api_url)
    first = run("digest", "--week", "2026-W47", "--format", "md", env=env)
    assert first.returncode == 0, first.stderr
    assert "Posted the 2026-W47 digest to C0LEAD" in first.stderr
    assert first.stdout.startswith("# Leadership digest")
    [post] = emulator.calls("chat.postMessage")
    assert post["channel"] == "C0LEAD"
    assert len(emulator.calls("files.completeUploadExternal")) == 1
    again = run("digest", "--week", "2026-W47", "--format", "md", env=env)
    assert again.returncode == 0
    assert "already posted to C0LEAD (sent); nothing was sent again" in again.stderr
    assert len(emulator.calls("chat.postMessage")) == 1


def test_posting_needs_a_token_but_a_dry_run_does_not(bot: BotHarness) -> None:
    res = run("digest", "--week", "2026-W47", env=_env(bot))
    assert res.returncode == 2 and res.stderr.startswith("csobot: SLACK_BOT_TOKEN is not set")
