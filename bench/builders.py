"""The benchmarks' shared data and tools: one copy of the builders that bench.tick, bench.digest,
bench.health and bench.curves use.

  * `add_people_and_clients`: an organization, people in the four delivery roles and clients
    spread over them (the tick's portfolio shape: 75 % CSOs, 15 % service leads, …);
  * `add_recent_touchpoints`: a couple of weeks of touchpoints (the tick's history);
  * `record_activity`: weeks of touchpoints, wins and exemptions (the digest's history);
  * `record_health_history`: daily health snapshots with the band runs kept (the board's);
  * `scratch_postgres`: a private PostgreSQL database created and dropped around a run;
  * `count_statements`: the SQL statements an engine runs (a `before_cursor_execute` hook).

Every builder writes with bulk inserts (executemany, a chunk at a time) and never holds more
than a chunk of rows in memory, so 100,000 clients fit on a small machine.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import Engine, make_url

from domain.calendar import IsoWeek
from domain.health import DEFAULT_MODEL
from storage.db import Database
from storage.models import Client, Exemption, HealthSnapshot, Organization, Person, Touchpoint, Win

ZONES = ["America/New_York", "America/New_York", "America/Chicago", "Europe/London"]
CHUNK = 20_000
LAST_WEEK = IsoWeek(2026, 47)


def _flush(s: Any, table: Any, rows: list[dict[str, Any]], *, at_least: int = CHUNK) -> None:
    """Insert `rows` (Core executemany, no ORM bookkeeping) and empty the list once it holds
    `at_least` rows."""
    if rows and len(rows) >= at_least:
        s.execute(insert(table.__table__), rows)
        rows.clear()


def add_people_and_clients(
    db: Database, n_clients: int, n_people: int, *, contracts_end_from: date = date(2026, 6, 1)
) -> None:
    """The organization (New York, US holidays), `n_people` people (CSOs, service leads,
    engagement partners, heads of delivery) and `n_clients` clients with ids 1..n_clients,
    whose contracts end over the 900 days from `contracts_end_from`."""
    n_sl, n_ep, n_hod = n_people * 15 // 100, n_people * 75 // 1000, max(1, n_people // 50)
    n_cso = n_people - n_sl - n_ep - n_hod
    people: list[dict[str, Any]] = []
    for role, count in (
        ("cso", n_cso),
        ("service_lead", n_sl),
        ("engagement_partner", n_ep),
        ("head_of_delivery", n_hod),
    ):
        for i in range(count):
            people.append(
                {
                    "slack_id": f"U{role[:2].upper()}{i:05d}",
                    "name": f"{role} {i}",
                    "role": role,
                    "timezone": ZONES[i % len(ZONES)],
                    "active": True,
                }
            )
    csos = [p["slack_id"] for p in people if p["role"] == "cso"]
    sls = [p["slack_id"] for p in people if p["role"] == "service_lead"] or csos
    eps = [p["slack_id"] for p in people if p["role"] == "engagement_partner"] or csos
    with db.transaction() as s:
        s.execute(
            insert(Organization),
            [
                {
                    "id": 1,
                    "name": "Bench",
                    "timezone": "America/New_York",
                    "holidays_country": "US",
                    "settings": {},
                }
            ],
        )
        s.execute(insert(Person), people)
        clients: list[dict[str, Any]] = []
        for i in range(n_clients):
            clients.append(
                {
                    "id": i + 1,
                    "slug": f"client-{i:06d}" if n_clients > 99_999 else f"client-{i:05d}",
                    "name": f"Client {i}",
                    "cso_id": csos[i % len(csos)],
                    "service_lead_id": sls[i % len(sls)],
                    "engagement_partner_id": eps[i % len(eps)],
                    "client_channel": f"C{i:07d}",
                    "segment": "mid_market",
                    "arr": 50000.0,
                    "contract_start": date(2025, 1, 1) + timedelta(days=i % 700),
                    "contract_end": contracts_end_from + timedelta(days=i % 900),
                    "contacts": [],
                    "active": True,
                }
            )
            _flush(s, Client, clients)
        _flush(s, Client, clients, at_least=1)


def _clients(db: Database) -> list[tuple[int, str]]:
    with db.session() as s:
        rows = s.execute(select(Client.id, Client.cso_id).order_by(Client.id))
        return [(cid, cso) for cid, cso in rows]


def add_recent_touchpoints(
    db: Database, today: date, *, days: int = 14, rate: float = 0.7, random_state: int = 7
) -> int:
    """Touchpoints on ~`rate` of the business days of the last `days` days (today included, at
    14:00 UTC) for every client. Returns the number of rows."""
    rnd = random.Random(random_state)
    rows: list[dict[str, Any]] = []
    n = 0
    clients = _clients(db)
    with db.transaction() as s:
        for client_id, cso in clients:
            for back in range(days):
                day = today - timedelta(days=back)
                if day.weekday() < 5 and rnd.random() < rate:
                    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
                        hours=14
                    )
                    rows.append(
                        {
                            "client_id": client_id,
                            "author_id": cso,
                            "kind": "slack",
                            "source": "event",
                            "occurred_at": at,
                            "local_date": day,
                            "excerpt": "",
                            "dedupe_key": f"b:{client_id}:{day}",
                            "created_at": at,
                        }
                    )
                    n += 1
            _flush(s, Touchpoint, rows)
        _flush(s, Touchpoint, rows, at_least=1)
    return n


def record_activity(
    db: Database,
    weeks: int = 52,
    *,
    last: IsoWeek = LAST_WEEK,
    random_state: int = 11,
    rate: float = 0.95,
) -> int:
    """Touchpoints on ~`rate` of business days, a win most weeks, a few exemptions, for every
    client over `weeks` weeks ending with `last`. Returns the number of touchpoint rows."""
    rng = random.Random(random_state)
    first = last.shift(-(weeks - 1)).monday
    days = [first + timedelta(days=i) for i in range(weeks * 7)]
    created = datetime(2026, 11, 23, tzinfo=UTC)
    touch: list[dict[str, Any]] = []
    wins: list[dict[str, Any]] = []
    exempt: list[dict[str, Any]] = []
    n = 0
    clients = _clients(db)
    with db.transaction() as s:
        for client_id, cso in clients:
            for day in days:
                if day.weekday() >= 5:
                    continue
                roll = rng.random()
                if roll < rate:
                    at = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
                    touch.append(
                        {
                            "client_id": client_id,
                            "author_id": cso,
                            "kind": "slack",
                            "source": "event",
                            "occurred_at": at,
                            "local_date": day,
                            "excerpt": "Shared the weekly numbers with your team",
                            "dedupe_key": f"b:{client_id}:{day.isoformat()}",
                            "created_at": created,
                        }
                    )
                    n += 1
                elif roll > 0.995:
                    exempt.append(
                        {
                            "client_id": client_id,
                            "day": day,
                            "reason": "client offsite",
                            "created_by": cso,
                            "created_at": created,
                        }
                    )
                if day.weekday() == 4 and rng.random() < 0.85:
                    wins.append(
                        {
                            "client_id": client_id,
                            "iso_week": str(IsoWeek.of(day)),
                            "text": "Demoed the new pipeline: reports 2 days faster",
                            "activity_list": False,
                            "created_by": cso,
                            "created_at": created,
                        }
                    )
            _flush(s, Touchpoint, touch)
            _flush(s, Win, wins)
            _flush(s, Exemption, exempt)
        for table, rows in ((Touchpoint, touch), (Win, wins), (Exemption, exempt)):
            _flush(s, table, rows, at_least=1)
    return n


def record_health_history(
    db: Database, rnd: random.Random, *, days: int, today: date, every: int = 1
) -> int:
    """A random-walk health score for every client, one snapshot every `every` days over the
    last `days` days up to `today`, with each band run's first day kept on the row (as the
    writer does); the signal values only on the last one. Returns the number of rows."""
    signals = DEFAULT_MODEL.signal_names
    batch: list[dict[str, Any]] = []
    n = 0
    clients = _clients(db)
    with db.transaction() as s:
        for cid, _ in clients:
            level = rnd.uniform(4, 10)
            run_band, run_start = "", today
            for d in range(days):
                level = min(10.0, max(0.0, level + rnd.uniform(-0.4, 0.4)))
                last = d == days - 1
                if not last and (days - 1 - d) % every:
                    continue
                values = (
                    {
                        name: round(min(10, max(0, level + rnd.uniform(-1, 1))), 1)
                        for name in signals
                    }
                    if last
                    else {}
                )
                result_score = round(level * 10, 1)
                band = "green" if result_score >= 80 else "yellow" if result_score >= 60 else "red"
                day = today - timedelta(days=days - 1 - d)
                if band != run_band:
                    run_band, run_start = band, day
                batch.append(
                    {
                        "client_id": cid,
                        "taken_at": datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                        "day": day,
                        "model_id": DEFAULT_MODEL.id,
                        "segment": "mid_market",
                        "score": result_score,
                        "band": band,
                        "band_since": run_start,
                        "values": values,
                        "derived": {},
                        "overrides": {},
                        "sources": {},
                        "changes": [],
                        "source": "import",
                        "changed_by": "bench",
                        "dedupe_key": f"bench:{cid}:{d}",
                    }
                )
                n += 1
            _flush(s, HealthSnapshot, batch)
        _flush(s, HealthSnapshot, batch, at_least=1)
    return n


@contextmanager
def scratch_postgres(admin_url: str) -> Iterator[str]:
    """A private database next to `admin_url`'s (created, yielded as a URL, dropped)."""
    name = f"csobot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    """The statements `engine` runs inside the block (an executemany counts once)."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
