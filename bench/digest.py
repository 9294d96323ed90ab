"""Benchmark: the leadership digest for 200 CSOs, 1,000 clients and 52 weeks of touchpoints
(about 250,000 rows) on SQLite and PostgreSQL — target under 0.5 s and at most 2x a single
hand-written SQL aggregate over the same rows — with the SQL statement count, and the KPI's
own count (`storage.kpi_store.touched_days`, what `csobot kpi`, the digest and its chart
share) against the same aggregate.

    python -m bench.digest            # SQLite, and PostgreSQL when it answers
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python -m bench.digest
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from bench.builders import record_activity
from bot.heap import settle_heap
from domain.calendar import IsoWeek
from domain.portfolio import (
    ClientSpec,
    OrganizationSpec,
    PersonSpec,
    Portfolio,
    Role,
)
from storage.db import Database
from storage.portfolio_store import import_portfolio

WEEK = IsoWeek(2026, 47)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("America/New_York"))
TARGET_SECONDS = 0.5
TARGET_RATIO = 2.0
ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London"]
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def make_portfolio(csos: int = 200, clients: int = 1000, *, random_state: int = 7) -> Portfolio:
    """A portfolio of `csos` CSOs sharing `clients` clients, with a head of delivery and a
    founder, and the leadership channel C0LEAD."""
    rng = random.Random(random_state)
    people = [
        PersonSpec(
            slack_id=f"U{i:05d}",
            name=f"CSO {i:03d} {rng.choice(['Reyes', 'Okafor', 'Park', 'Cohen', 'Ng'])}",
            role=Role.CSO,
            timezone=ZONES[i % len(ZONES)],
        )
        for i in range(csos)
    ]
    people += [
        PersonSpec(slack_id="U0HOD", name="Morgan Blake", role=Role.HEAD_OF_DELIVERY),
        PersonSpec(slack_id="U0FND", name="Jo Founder", role=Role.FOUNDER),
    ]
    specs = []
    for j in range(clients):
        specs.append(
            ClientSpec(
                slug=f"client-{j:04d}",
                name=f"Client {j:04d} Holdings",
                cso=f"U{j % csos:05d}",
                client_channel=f"C{j:06d}",
                internal_channel=f"C{j:06d}INT",
                arr=float(rng.randrange(20, 400) * 1000),
                contract_end=date(2026, 12, 1) + timedelta(days=rng.randrange(0, 700)),
                timezone=ZONES[j % len(ZONES)],
            )
        )
    return Portfolio(
        organization=OrganizationSpec(
            name="Bench Org",
            timezone="America/New_York",
            holidays="US",
            leadership_channel="C0LEAD",
        ),
        people=people,
        clients=specs,
    )


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


AGGREGATE = """
SELECT c.cso_id, t.wk, COUNT(*) AS days_touched
FROM (
  SELECT DISTINCT client_id, local_date, {week_expr} AS wk
  FROM touchpoint WHERE local_date BETWEEN :start AND :end
) t JOIN client c ON c.id = t.client_id
GROUP BY c.cso_id, t.wk
"""


def aggregate_sql(dialect: str) -> str:
    week = (
        "strftime('%Y-%W', local_date)" if dialect == "sqlite" else "to_char(local_date, 'IYYY-IW')"
    )
    return AGGREGATE.format(week_expr=week)


@dataclass
class Result:
    backend: str
    rows: int
    digest_s: float
    statements: int
    chart_s: float
    sql_s: float
    sql_rows: int
    counts_s: float

    @property
    def ratio(self) -> float:
        return self.digest_s / self.sql_s if self.sql_s else float("inf")

    @property
    def counts_ratio(self) -> float:
        return self.counts_s / self.sql_s if self.sql_s else float("inf")

    @property
    def ok(self) -> bool:
        return self.digest_s < TARGET_SECONDS and self.ratio <= TARGET_RATIO


def bench(url: str, backend: str) -> Result:
    from prompts.digest_chart import render_chart
    from prompts.digest_views import slack_messages
    from storage.kpi_store import touched_days
    from storage.org_settings_store import org_settings
    from usecases.digest_actions import load_digest

    db = Database(url)
    db.migrate()
    with db.transaction() as s:
        import_portfolio(s, make_portfolio())
    rows = record_activity(db)
    if backend == "postgresql":  # as autovacuum leaves it: statistics and the visibility map
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    # warm-up: imports, template compilation, holiday calendars, connection pool
    with db.transaction() as tx:
        slack_messages(load_digest(tx, WEEK.shift(-10), NOW))
    settle_heap()  # the collector as `csobot scheduler` and `csobot serve` set it
    best = float("inf")
    count = 0
    for _ in range(3):
        with counting(db.engine) as statements:
            t0 = time.perf_counter()
            with db.transaction() as tx:
                digest = load_digest(tx, WEEK, NOW)
            slack_messages(digest)
            elapsed = time.perf_counter() - t0
        best, count = min(best, elapsed), len(statements)
    t0 = time.perf_counter()
    render_chart(digest.chart, title="Bench Org")
    chart_s = time.perf_counter() - t0
    start = WEEK.shift(-7).monday - timedelta(days=1)
    end = WEEK.sunday + timedelta(days=1)
    sql = text(aggregate_sql(db.engine.dialect.name))
    sql_best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        with db.engine.connect() as conn:
            sql_rows = len(conn.execute(sql, {"start": start, "end": end}).all())
        sql_best = min(sql_best, time.perf_counter() - t0)
    counts_best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        with db.transaction() as tx:
            touched_days(tx, start, end, org_settings(tx).kpi)
        counts_best = min(counts_best, time.perf_counter() - t0)
    db.dispose()
    return Result(backend, rows, best, count, chart_s, sql_best, sql_rows, counts_best)


@contextmanager
def sqlite_url() -> Iterator[str]:
    tmp = tempfile.mkdtemp(prefix="csobot-bench-")
    try:
        yield f"sqlite:///{tmp}/bench.db"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def postgres_url() -> Iterator[str | None]:
    admin_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    admin_url = admin_url or PG_DEFAULT
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"csobot_bench_{uuid.uuid4().hex[:8]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL not benchmarked ({type(exc).__name__}: it does not answer)")
        yield None
        return
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run() -> list[Result]:
    results = []
    with sqlite_url() as url:
        results.append(bench(url, "sqlite"))
    with postgres_url() as pg:
        if pg:
            results.append(bench(pg, "postgresql"))
    return results


def report(results: list[Result]) -> str:
    lines = [
        "Leadership digest — 200 CSOs, 1,000 clients, 52 weeks "
        f"(digest for {WEEK} with an 8-week chart; target < {TARGET_SECONDS} s and "
        f"<= {TARGET_RATIO:.0f}x one SQL aggregate)",
        f"{'backend':<11} {'touchpoints':>11} {'digest':>8} {'SQL stmts':>9} "
        f"{'chart':>7} {'1 SQL agg':>9} {'ratio':>6} {'KPI days':>9} {'ratio':>6}  result",
    ]
    for r in results:
        verdict = "ok" if r.ok else "OVER TARGET"
        lines.append(
            f"{r.backend:<11} {r.rows:>11,} {r.digest_s:>7.3f}s {r.statements:>9} "
            f"{r.chart_s:>6.3f}s {r.sql_s:>8.3f}s {r.ratio:>5.1f}x {r.counts_s:>8.3f}s "
            f"{r.counts_ratio:>5.1f}x  {verdict}"
        )
    lines.append(
        "digest = load + build + Slack rendering (best of 3); chart = the PNG; "
        "1 SQL agg = days touched per CSO and week over the same 8 weeks of rows; "
        "KPI days = storage.kpi_store.touched_days over those weeks (each client's days "
        "recorded and counted, the one count csobot kpi, the digest and its chart share). "
        "Statements do not grow with clients "
        "(tests/integration/test_digest_statements.py)."
    )
    return "\n".join(lines)


def main() -> int:
    results = run()
    print(report(results))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
