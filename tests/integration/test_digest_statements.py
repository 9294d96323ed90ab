"""The digest and `csobot kpi` read the database in a fixed number of statements, whatever the
number of clients: counts come from set-based SQL, never a query per client or per week."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event

from domain.calendar import IsoWeek
from domain.portfolio import ClientSpec, OrganizationSpec, PersonSpec, Portfolio, Role
from storage.activity_store import record_exemption, record_touchpoint, record_win
from storage.db import Database
from storage.kpi_store import load_week_kpi, load_week_rates
from storage.portfolio_store import active_clients, import_portfolio
from usecases.digest_actions import load_digest

WEEK = IsoWeek(2026, 47)
NOW = datetime(2026, 11, 23, 14, tzinfo=UTC)


def _portfolio(clients: int) -> Portfolio:
    people = [PersonSpec(slack_id=f"U{i:04d}", name=f"CSO {i}", role=Role.CSO) for i in range(4)]
    people.append(PersonSpec(slack_id="U0HOD", name="Morgan", role=Role.HEAD_OF_DELIVERY))
    return Portfolio(
        organization=OrganizationSpec(name="Org", holidays="US", leadership_channel="C0LEAD"),
        people=people,
        clients=[
            ClientSpec(
                slug=f"client-{j:03d}",
                name=f"Client {j}",
                cso=f"U{j % 4:04d}",
                client_channel=f"C{j:05d}",
                arr=10000,
                contract_end=date(2027, 1, 1) + timedelta(days=j),
                timezone="America/New_York",
            )
            for j in range(clients)
        ],
    )


def _activity(db: Database) -> None:
    first = WEEK.shift(-7).monday
    with db.transaction() as s:
        for c in active_clients(s):
            for i in range(8 * 7):
                day = first + timedelta(days=i)
                at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=15)
                if day.weekday() < 5 and (i + c.id) % 6:
                    record_touchpoint(
                        s, client_id=c.id, author_id=c.cso_id, kind="slack", source="event",
                        occurred_at=at, tz=UTC, dedupe_key=f"{c.id}:{i}", now=NOW,
                        text="Shared the weekly numbers with your team",
                    )  # fmt: skip
                elif day.weekday() < 5:
                    record_exemption(s, client_id=c.id, day=day, reason="offsite",
                                     by=c.cso_id, now=NOW)  # fmt: skip
                if day.weekday() == 4:
                    record_win(s, client_id=c.id, week=IsoWeek.of(day), text="Shipped reports",
                               link=None, activity_list=False, by=c.cso_id, now=NOW)  # fmt: skip


@contextmanager
def _counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def _statements(db: Database, clients: int) -> dict[str, int]:
    with db.transaction() as s:
        import_portfolio(s, _portfolio(clients))
    _activity(db)
    out = {}
    for name, read in (
        ("digest", lambda tx: load_digest(tx, WEEK, NOW)),
        ("kpi", lambda tx: load_week_kpi(tx, WEEK, NOW)),
        ("chart", lambda tx: load_week_rates(tx, [WEEK.shift(-i) for i in range(8)], NOW)),
    ):
        with db.session() as tx, _counting(db) as statements:
            result = read(tx)
        assert result
        out[name] = len(statements)
    return out


def test_the_digest_and_the_kpi_take_as_many_statements_for_3_clients_as_for_30(
    db: Database,
) -> None:
    few = _statements(db, 3)
    many = _statements(db, 30)
    assert few == many, (few, many)
