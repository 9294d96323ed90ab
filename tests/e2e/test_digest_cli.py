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
from tests.integration.test_digest import _record_week

NOW = "2026-11-23T10:00:00-05:00"


def _env(bot: BotHarness, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": bot.settings.database_url, "CSOBOT_NOW": NOW, **extra}


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def test_every_consistency_number_in_the_digest_is_the_kpi_jsons(bot: BotHarness) -> None:
    _record_week(bot.db)
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
    _record_week(bot.db)
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
    _record_week(bot.db)
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


def _record_history(bot: BotHarness) -> None:
    """Two earlier weeks with touchpoints, the CSO out of office (a day of each of W46 and
    W47), and click-closed cadences — one done, one not."""
    from datetime import date, datetime, timedelta

    from sqlalchemy import select

    from storage.activity_store import record_touchpoint
    from storage.cadence_store import add_ooo, nudge_by_key
    from storage.models import Nudge
    from storage.portfolio_store import client_by_slug
    from tests.conftest import NY
    from usecases.cadence_actions import mark_done
    from usecases.outbox import NudgeSpec, enqueue

    with bot.db.transaction() as s:
        acme, globex = client_by_slug(s, "acme"), client_by_slug(s, "globex")
        assert acme and globex
        for client, days in ((acme, (2, 3, 4, 9, 10, 13)), (globex, (3, 9, 10))):
            for d in days:
                at = datetime(2026, 11, d, 11, tzinfo=NY)
                record_touchpoint(
                    s,
                    client_id=client.id,
                    author_id="U0CSO1",
                    kind="slack",
                    source="event",
                    occurred_at=at,
                    tz=NY,
                    dedupe_key=f"h:{client.slug}:{d}",
                    now=at,
                    text="Walked your team through the new attribution numbers",
                )
        at = datetime(2026, 11, 9, 9, tzinfo=NY)
        add_ooo(s, "U0CSO1", date(2026, 11, 11), date(2026, 11, 12), by="U0CSO1", now=at)
        add_ooo(s, "U0CSO1", date(2026, 11, 18), date(2026, 11, 18), by="U0CSO1", now=at)
        for day in (date(2026, 11, 11), date(2026, 11, 18)):
            due = datetime.combine(day, datetime.min.time(), tzinfo=NY) + timedelta(hours=10)
            enqueue(
                s,
                NudgeSpec(
                    cadence_id="triangle-sync",
                    period=day.isoformat(),
                    target="U0CSO1",
                    person_id="U0CSO1",
                    client_id=acme.id,
                    text="Triangle Sync held?",
                    due_at=due,
                    expires_at=due + timedelta(hours=8),
                    data={"closes": "click", "day": day.isoformat(), "title": "Triangle Sync"},
                ),
                due,
            )
        [first] = s.scalars(select(Nudge).where(Nudge.period == "2026-11-11")).all()
        record = nudge_by_key(s, first.key)
        assert record is not None
        mark_done(s, record, by="U0CSO1", now=datetime(2026, 11, 11, 15, tzinfo=NY))


def test_the_charts_weeks_are_csobot_kpi_json_week_by_week(bot: BotHarness) -> None:
    """Out-of-office days and click-closed cadences included: the chart's history is the
    same loader as `csobot kpi`, so each of its weeks is that week's `kpi --json`."""
    from datetime import datetime

    from domain.calendar import IsoWeek
    from domain.kpi import kpi_json
    from storage.kpi_store import load_kpi
    from usecases.digest_actions import load_digest

    _record_week(bot.db)
    _record_history(bot)
    now = datetime.fromisoformat(NOW)
    week = IsoWeek(2026, 47)
    with bot.db.transaction() as tx:
        digest = load_digest(tx, week, now)
        weeks = [IsoWeek.parse(w) for w in digest.chart.weeks]
        history = load_kpi(tx, weeks, now)
    assert digest.chart.weeks[-1] == "2026-W47" and len(weeks) == 8
    env = _env(bot)
    by_week = {
        str(w): json.loads(run("kpi", "--week", str(w), "--json", env=env).stdout) for w in weeks
    }
    for i, w in enumerate(weeks):
        kpi = by_week[str(w)]
        assert kpi_json(history[i]) == kpi, w
        assert digest.chart.overall[i] == (kpi["overall"]["rate"] if kpi["has_data"] else None)
        for cso in kpi["csos"]:
            assert digest.chart.csos[cso["name"]][i] == (cso["rate"] if kpi["has_data"] else None)
    # what the week-by-week equality covers: out of office, and both click-closed cadences
    w46 = by_week["2026-W46"]
    dana = next(c for c in w46["csos"] if c["slack_id"] == "U0CSO1")
    acme = next(c for c in dana["clients"] if c["slug"] == "acme")
    # (Wednesday 11 November is Veterans Day: not a business day, so not exempt either)
    assert acme["daily"]["exempt"] == [{"date": "2026-11-12", "reason": "out of office"}]
    assert [(r["day"], r["done"]) for r in dana["cadences"]] == [("2026-11-11", True)]
    dana47 = next(c for c in by_week["2026-W47"]["csos"] if c["slack_id"] == "U0CSO1")
    assert [(r["day"], r["done"]) for r in dana47["cadences"]] == [("2026-11-18", False)]
    assert digest.chart.overall[-2] is not None
