"""`csobot metrics` as a real process: every feature's metric source, by quarter or month."""

from __future__ import annotations

import json

from storage.db import Database
from tests.conftest import load_portfolio
from tests.e2e.test_cli import run
from tests.metrics_helpers import EXPECTED, record_quarter


def _setup(db_url: str) -> dict[str, str]:
    db = Database(db_url)
    db.migrate()
    load_portfolio(db)
    db.dispose()
    return {"DATABASE_URL": db_url, "CSOBOT_NOW": "2026-11-20T10:00:00-05:00"}


def test_metrics_from_recorded_renewals_nps_and_qbrs(db_url: str) -> None:
    env = _setup(db_url)
    db = Database(db_url)
    record_quarter(db)
    db.dispose()
    out = run("metrics", "--quarter", "2026Q4", "--json", env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["period"] == "2026Q4"
    assert (report["start"], report["end"]) == ("2026-10-01", "2026-12-31")
    values = {k: report["metrics"][k]["value"] for k in EXPECTED}
    assert values == EXPECTED
    grr = report["metrics"]["retention.grr"]
    assert grr["formula"].startswith("GRR = renewed ARR")
    assert grr["group"] == "Retention" and grr["target"] == "≥ 90 %"
    assert grr["on_target"] is False and grr["shown"] == "87.0 %"
    assert any("Initech: churned" in line for line in grr["evidence"])
    assert report["metrics"]["clients.nps"]["on_target"] is False  # 25 and average 7.25
    # the month holds the same records: same figures
    month = json.loads(run("metrics", "--month", "2026-11", "--json", env=env).stdout)
    assert month["period"] == "2026-11"
    assert {k: month["metrics"][k]["value"] for k in EXPECTED} == EXPECTED
    table = run("metrics", "--quarter", "2026Q4", env=env).stdout
    assert "Retention\n  Gross revenue retention: 87.0 % (target ≥ 90 %: off target)" in table
    assert "      = GRR = renewed ARR" in table


def test_a_period_with_nothing_recorded_says_no_data(db_url: str) -> None:
    env = _setup(db_url)
    report = json.loads(run("metrics", "--month", "2026-10", "--json", env=env).stdout)
    for key in EXPECTED:
        item = report["metrics"][key]
        if key == "clients.qbr_completion":  # QBRs are due per quarter: 0 of 3 delivered
            assert item["value"] == 0.0
            continue
        assert item["value"] is None and item["shown"] == "no data", key
        assert item["on_target"] is None
    table = run("metrics", "--month", "2026-10", env=env).stdout
    assert "Gross revenue retention: no data (target ≥ 90 %)" in table
    assert "0.0 %" not in table.replace("QBR completion (2026Q4): 0.0 %", "")


def test_metrics_help_lists_the_formulas_and_bad_periods_say_what_to_type(db_url: str) -> None:
    env = _setup(db_url)
    help_text = run("metrics", "--help", env=env).stdout
    for name in ("GRR =", "NRR =", "Logo retention =", "Health-score accuracy =", "NPS ="):
        assert name in help_text
    assert "no data" in help_text
    bad = run("metrics", "--month", "2026-13", env=env)
    assert bad.returncode == 2
    assert 'unknown month "2026-13" (write it like 2026-11)' in bad.stderr
    bad = run("metrics", "--quarter", "Q5", env=env)
    assert bad.returncode == 2 and "quarters are Q1 to Q4" in bad.stderr
    both = run("metrics", "--quarter", "2026Q4", "--month", "2026-11", env=env)
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_help_lists_the_formula_of_every_metric_source(db_url: str) -> None:
    """Every figure every source reports (on recorded data, not only the empty help database)
    has its formula in `--help`, the sources nobody declared formulas for included."""
    from datetime import datetime

    from bot.features import metric_sources
    from domain.metric import quarter_period

    env = _setup(db_url)
    db = Database(db_url)
    record_quarter(db)
    help_text = run("metrics", "--help", env=env).stdout
    now = datetime.fromisoformat(env["CSOBOT_NOW"])
    reported = 0
    for source in metric_sources():
        with db.transaction() as tx:
            figures = source(tx, quarter_period("2026Q4", now.date()), now)
        assert figures, f"{source.__module__}.{source.__name__} reports no figure"
        for figure in figures:
            assert figure.formula, f"{figure.key} has no formula"
            assert figure.formula in help_text, f"{figure.key}'s formula is not in --help"
            reported += 1
    db.dispose()
    assert reported >= 20
    for name in (
        "Time to value (median)",
        "First-contact resolution",
        "Advocate pipeline",
        "Client Health Reports posted",
        "Expansion pipeline (share of managed ARR)",
    ):
        assert f"  {name}" in help_text  # fmt: skip
