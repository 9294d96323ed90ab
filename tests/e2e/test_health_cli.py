"""`csobot health import`, `expansion`, `renewals`, `qbr` as real processes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.models import HealthSnapshot
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
    assert "3 rows kept for 1 client, 1 health snapshot written" in out.stdout
    assert "Traceback" not in out.stderr
    db = Database(db_url)
    with db.session() as s:
        [snap] = s.scalars(select(HealthSnapshot)).all()
    db.dispose()
    assert snap.values == {"login_frequency": 8.0, "feature_adoption": 6.0}
    assert (snap.day, snap.source, snap.score) == (date(2026, 11, 2), "import", 70.0)
    again = run("health", "import", str(path), env=env)
    assert "0 health snapshots written" in again.stdout
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
