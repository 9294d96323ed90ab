"""Every number in the digest is one the JSON outputs print: the consistency figures (see
test_digest_cli), update discipline, what did not count, the tangible wins, founder
interventions and the expansion pipeline (`csobot kpi --json`, `csobot metrics --json`), and
each figure of the monthly review (`csobot metrics --month … --json`)."""

from __future__ import annotations

import json
import re
from datetime import datetime

from tests.conftest import NY, BotHarness
from tests.e2e.test_cli import run
from tests.metrics_helpers import record_quarter

PLAN = "Today we're working on the attribution model and the tag QA for your team"
RESULTS = "Completed the tag QA and shipped the attribution model to production"


def _env(bot: BotHarness, now: str) -> dict[str, str]:
    return {"DATABASE_URL": bot.settings.database_url, "CSOBOT_NOW": now}


def _md(bot: BotHarness, week: str, now: str) -> str:
    out = run("digest", "--week", week, "--dry-run", "--format", "md", env=_env(bot, now))
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_weeks_new_numbers_are_the_json_outputs(bot: BotHarness) -> None:
    for day in (16, 17):
        bot.message("C0GLOBEX", "U0CSO1", PLAN, datetime(2026, 11, day, 9, 30, tzinfo=NY))
    bot.message("C0GLOBEX", "U0CSO1", RESULTS, datetime(2026, 11, 17, 17, tzinfo=NY))
    bot.message("C0ACME", "U0CSO1", "ok", datetime(2026, 11, 18, 10, tzinfo=NY))
    bot.message("C0ACME", "U0SL1", RESULTS, datetime(2026, 11, 18, 17, tzinfo=NY))
    bot.command("/win", 'globex "Closed 15 tickets and had 3 meetings"')
    bot.command("/intervention", 'acme "Their CEO called Jo about the deadline"')
    bot.command("/expansion", 'acme add 30000 "EMEA analytics seats"')
    bot.wait_response(3)
    bot.settle()
    now = "2026-11-23T10:00:00-05:00"
    env = _env(bot, now)
    kpi = json.loads(run("kpi", "--week", "2026-W47", "--json", env=env).stdout)
    metrics = json.loads(run("metrics", "--month", "2026-11", "--json", env=env).stdout)
    md = _md(bot, "2026-W47", now)
    clients = [c for cso in kpi["csos"] for c in cso["clients"]]
    ups = [c["updates"] for c in clients]
    expected = sum(u["expected"] for u in ups)
    morning = sum(u["morning"]["done"] for u in ups)
    eod = sum(u["eod"]["done"] for u in ups)
    assert (
        f"Update discipline (not in the rate): morning updates {morning}/{expected} · "
        f"end-of-day recaps {eod}/{expected}"
    ) in md
    assert (morning, eod) == (2, 1)
    for cso in kpi["csos"]:
        u = [c["updates"] for c in cso["clients"]]
        e = sum(x["expected"] for x in u)
        m = sum(x["morning"]["done"] for x in u)
        r = sum(x["eod"]["done"] for x in u)
        assert f"Update discipline: morning {m}/{e} · end of day {r}/{e}" in md
        ignored = sum(len(c["daily"]["ignored"]) for c in cso["clients"])
        if ignored:
            assert f"Not counted: {ignored} team message{'s' * (ignored != 1)}" in md
    assert re.search(r"Not counted: (\d+)", md) and "Not counted: 2 team messages" in md
    not_tangible = [c for c in clients if c["weekly_presentation"]["tangible"] is False]
    assert [c["slug"] for c in not_tangible] == ["globex"]
    assert "Presented without a tangible win: Globex — “Closed 15 tickets" in md
    founders = metrics["metrics"]["leadership.founder_interventions"]
    assert founders["value"] == 1
    assert "**Founder interventions** — 1 in November 2026 (target < 1 a month" in md
    pipeline = metrics["metrics"]["expansion.pipeline_share"]
    assert f"= {pipeline['value'] * 100:.1f}% of managed ARR" in md


def test_the_monthly_reviews_figures_are_metrics_json(bot: BotHarness) -> None:
    record_quarter(bot.db)
    now = "2026-12-07T10:00:00-05:00"
    metrics = json.loads(run("metrics", "--month", "2026-11", "--json", env=_env(bot, now)).stdout)[
        "metrics"
    ]
    md = _md(bot, "2026-W49", now)
    review = md[md.index("November 2026 — ") :]
    shown = 0
    for item in metrics.values():
        line = f"{item['label']}: {item['shown']}"
        assert line in review, line
        shown += 1
    # and nothing in the review that metrics --json does not have
    lines = [x for x in review.splitlines() if x.startswith("- ")]
    assert len(lines) == shown
