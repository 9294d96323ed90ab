"""`csobot health import`, `expansion`, `renewals`, `qbr`, `metrics` as real processes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from domain.health import Band
from domain.renewals import Outcome
from storage.db import Database
from storage.models import Client, HealthSnapshot, QbrRecord
from storage.nps_store import record_nps
from storage.renewal_store import record_renewal
from tests.conftest import SAMPLE_PORTFOLIO, load_portfolio
from tests.e2e.test_cli import run

NOW = "2026-11-20T10:00:00-05:00"
SIGNALS = [
    "login_frequency",
    "feature_adoption",
    "active_vs_licensed",
    "support_tickets_inverse",
    "executive_engagement",
    "meeting_attendance",
    "nps",
    "response_time",
    "goals_achieved",
    "roi_demonstrated",
    "business_impact",
]


def _setup(db_url: str) -> dict[str, str]:
    db = Database(db_url)
    db.migrate()
    load_portfolio(
        db,
        SAMPLE_PORTFOLIO.replace(
            "contacts: [U0EXT1]", "contacts: [U0EXT1]\n    licensed_seats: 40"
        ),
    )
    db.dispose()
    return {"DATABASE_URL": db_url, "CSOBOT_NOW": NOW}


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "usage.csv"
    path.write_text("client,date,signal,value\n" + "\n".join(rows) + "\n")
    return path


def _all_nines(slug: str, day: str, value: int = 9) -> list[str]:
    return [f"{slug},{day},{s},{value}" for s in SIGNALS]


def test_health_import_keeps_good_rows_and_reports_bad_ones(db_url: str, tmp_path: Path) -> None:
    env = _setup(db_url)
    path = _csv(
        tmp_path,
        [
            "acme,2026-11-02,login_frequency,8",
            "acme,2026-11-02,feature_adoption,6",
            "acme,2026-11-02,active_users,34",
            "acme,2026-11-31,nps,8",
            "globex,2026-11-02,nps,eleven",
        ],
    )
    out = run("health", "import", str(path), env=env)
    assert out.returncode == 1
    assert 'usage.csv: line 5: "2026-11-31" is not a date' in out.stderr
    assert 'usage.csv: line 6: value "eleven" is not a number' in out.stderr
    assert "3 row(s) kept for 1 client(s), 1 health snapshot(s) written" in out.stdout
    assert "Traceback" not in out.stderr
    db = Database(db_url)
    with db.session() as s:
        [snap] = s.scalars(select(HealthSnapshot)).all()
    db.dispose()
    assert snap.values == {"login_frequency": 8.0, "feature_adoption": 6.0}
    assert (snap.day, snap.source, snap.score) == (date(2026, 11, 2), "import", 70.0)
    again = run("health", "import", str(path), env=env)
    assert "0 health snapshot(s) written" in again.stdout
    help_text = run("health", "import", "--help", env=env).stdout
    assert "client,date,signal,value" in help_text and "line number" in help_text


def test_renewal_forecast_for_a_quarter(db_url: str, tmp_path: Path) -> None:
    env = _setup(db_url)
    rows = _all_nines("acme", "2026-11-10") + _all_nines("globex", "2026-11-10", 5)
    assert run("health", "import", str(_csv(tmp_path, rows)), env=env).returncode == 0
    out = run("renewals", "--quarter", "2027Q1", env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    acme = next(line for line in lines if line.startswith("Acme Corp"))
    globex = next(line for line in lines if line.startswith("Globex"))
    assert "2027-03-31" in acme and "240,000" in acme and "green" in acme and "likely" in acme
    assert "not started" in acme  # 131 days out
    assert "red" in globex and "Proposal" in globex.title() and "at risk" in globex
    assert "Total 336,000: likely 240,000 · at risk 96,000 · churn 0" in out.stdout
    data = json.loads(run("renewals", "--quarter", "2027Q1", "--json", env=env).stdout)
    assert [r["slug"] for r in data["renewals"]] == ["acme", "globex"]
    bad = run("renewals", "--quarter", "2027Q5", env=env)
    assert bad.returncode == 2 and "--quarter" in bad.stderr


def test_expansion_pipeline_and_the_green_60_days_guardrail(db_url: str, tmp_path: Path) -> None:
    env = _setup(db_url)
    rows = (
        _all_nines("acme", "2026-09-01")
        + _all_nines("acme", "2026-11-15")
        + ["acme,2026-11-15,active_users,38", "acme,2026-11-15,new_department_interest,1"]
        + _all_nines("globex", "2026-11-15")  # Green, but only for 5 days
    )
    assert run("health", "import", str(_csv(tmp_path, rows)), env=env).returncode == 0
    data = json.loads(run("expansion", "--json", env=env).stdout)
    by = {c["slug"]: c for c in data["clients"]}
    assert by["acme"]["signals"] == ["seat_adoption", "new_department"]
    assert by["acme"]["points"] == 6 and by["acme"]["estimated_value"] == 36000
    assert by["acme"]["in_pipeline"] is True
    assert by["globex"]["points"] == 2 and by["globex"]["allowed"] is False  # renewal < 90 d
    assert data["pipeline"] == 36000 and data["portfolio_arr"] == 372000
    assert data["share"]["share"] == round(36000 / 372000, 4)
    assert data["share"]["status"] == "below"
    table = run("expansion", env=env).stdout
    assert "held: not Green for 60 days" in table and "target 15%–20%: below" in table


def test_qbr_renders_markdown_and_html(db_url: str, tmp_path: Path) -> None:
    env = _setup(db_url)
    rows = _all_nines("acme", "2026-10-05", 7) + _all_nines("acme", "2026-11-10")
    rows.append("acme,2026-11-10,active_users,34")
    assert run("health", "import", str(_csv(tmp_path, rows)), env=env).returncode == 0
    md = run("qbr", "acme", "--quarter", "2026Q4", env=env)
    assert md.returncode == 0, md.stderr
    assert "# Quarterly Business Review: Acme Corp" in md.stdout
    assert "Customer since: 2025-04-01" in md.stdout
    assert "Users: 34 active / 40 licensed" in md.stdout
    assert "| Health score | 80+ (Green) | 90 | up |" in md.stdout
    html = run("qbr", "acme", "--quarter", "2026Q4", "--format", "html", env=env)
    assert "<h1>Quarterly Business Review: Acme Corp</h1>" in html.stdout
    unknown = run("qbr", "acmee", "--quarter", "2026Q4", env=env)
    assert unknown.returncode == 2 and "did you mean acme" in unknown.stderr


def test_metrics_from_recorded_renewals_nps_and_qbrs(db_url: str) -> None:
    env = _setup(db_url)
    db = Database(db_url)
    now = datetime(2026, 11, 20, 15, tzinfo=UTC)
    with db.transaction() as s:
        clients = {c.slug: c for c in s.scalars(select(Client))}
        # Q4 2026: initech (36,000) churned while Yellow; a made-up acme contract ending in
        # Q4 renewed Green at 264,000 (+24,000 expansion).
        record_renewal(
            s, clients["initech"], contract_end=date(2026, 12, 31), outcome=Outcome.CHURNED,
            new_end=None, arr_after=None, band=Band.YELLOW, by="U0CSO2", now=now,
        )  # fmt: skip
        record_renewal(
            s, clients["acme"], contract_end=date(2026, 11, 30), outcome=Outcome.SIGNED,
            new_end=date(2027, 11, 30), arr_after=264000, band=Band.GREEN, by="U0CSO1", now=now,
        )  # fmt: skip
        for i, answer in enumerate([10, 9, 7, 3]):
            record_nps(
                s, client_id=clients["acme"].id, score=answer, comment="", by="U0CSO1",
                now=now, dedupe_key=f"k{i}",
            )  # fmt: skip
        s.add(QbrRecord(client_id=clients["acme"].id, quarter="2026Q4", delivered_at=now))
    db.dispose()
    out = run("metrics", "--quarter", "2026Q4", "--json", env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    values = {k: v["value"] for k, v in report["metrics"].items()}
    assert values == {
        "grr": round(240000 / 276000, 4),  # renewed excl. expansion / expiring
        "nrr": round(264000 / 276000, 4),  # (240,000 + 24,000 − 0) / 276,000
        "logo_retention": 0.5,
        "health_score_accuracy": 1.0,  # the one Green account renewed
        "qbr_completion": round(1 / 3, 4),  # acme of three active clients
        "nps": 25.0,  # (2 promoters − 1 detractor) / 4
        "expansion_share": round(24000 / 372000, 4),
    }
    assert report["metrics"]["grr"]["formula"].startswith("GRR = renewed ARR")
    table = run("metrics", "--quarter", "2026Q4", env=env).stdout
    assert "grr" in table and "87.0%" in table
    help_text = run("metrics", "--help", env=env).stdout
    for name in ("GRR =", "NRR =", "Logo retention =", "Health-score accuracy =", "NPS ="):
        assert name in help_text
