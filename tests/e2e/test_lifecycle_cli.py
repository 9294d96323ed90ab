"""The lifecycle from the command line: a signed client imported from the portfolio file,
`csobot tick --now` at day 10, 45 and 120, the plans and the impact report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from devkit.emulator import SlackEmulator
from storage import lifecycle_store
from storage.db import Database
from storage.models import Client, LifecycleStageRecord
from tests.conftest import NY, SAMPLE_PORTFOLIO, TOKEN
from tests.e2e.test_cli import run

HOOLI = """
  - slug: hooli
    name: Hooli
    cso: U0CSO1
    service_lead: U0SL1
    client_channel: C0HOOLI
    segment: mid_market
    arr: 48000
    timezone: America/Chicago
    signed_on: 2026-11-20
    ae: U0AE1
"""


def test_stages_over_time_with_tick_now(
    db_url: str, emulator: SlackEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "portfolio.yaml"
    path.write_text(SAMPLE_PORTFOLIO + HOOLI)
    env = {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": emulator.api_url}
    imported = run(
        "portfolio", "import", str(path), env={**env, "CSOBOT_NOW": "2026-11-20T11:00:00-05:00"}
    )
    assert imported.returncode == 0, imported.stderr
    assert run("tick", "--now", "2026-11-30T11:00:00-05:00", env=env).returncode == 0  # day 10
    db = Database(db_url)
    with db.transaction() as tx:  # the handoff at day 30: every item ticked (buttons: elsewhere)
        cid = tx.scalars(select(Client.id).where(Client.slug == "hooli")).one()
        done = datetime(2026, 12, 20, 11, tzinfo=NY)
        for item in lifecycle_store.items_of(tx, [cid])[cid]:
            lifecycle_store.mark_done(tx, item.id, by="U0CSO1", now=done)
        lifecycle_store.mark_handed_off(tx, cid, done)
    for day in ("2027-01-04", "2027-03-20"):  # day 45, day 120
        out = run("tick", "--now", f"{day}T11:00:00-05:00", env=env)
        assert out.returncode == 0, out.stderr
    with db.session() as s:
        rows = s.scalars(
            select(LifecycleStageRecord)
            .where(LifecycleStageRecord.client_id == cid)
            .order_by(LifecycleStageRecord.since)
        ).all()
        stages = [(r.stage, r.since.isoformat()) for r in rows]
    db.dispose()
    assert stages == [
        ("onboarding", "2026-11-30"),
        ("adoption", "2027-01-04"),
        ("value_realization", "2027-03-20"),
    ]
    plans = run("onboarding", "plans", env=env)
    assert plans.returncode == 0 and "smb: SMB" in plans.stdout and "14-30 days" in plans.stdout
    report = run("closeout", "report", "hooli", "--format", "html", env=env)
    assert report.returncode == 0 and "<h1>Final impact report: Hooli</h1>" in report.stdout
