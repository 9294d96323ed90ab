"""One sub-signal's points out of the health snapshots, as the expansion signals read them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from storage.db import Database, id_list
from storage.health_store import history, signal_points
from storage.models import Client, HealthSnapshot
from storage.portfolio_store import client_by_slug
from tests.conftest import load_portfolio


def _snapshot(cid: int, day: date, n: int, values: dict[str, Any]) -> HealthSnapshot:
    return HealthSnapshot(
        client_id=cid,
        taken_at=datetime(day.year, day.month, day.day, 12, n, tzinfo=UTC),
        day=day,
        model_id="three_pillar",
        score=80,
        band="green",
        band_since=day,
        values=values,
        source="modal",
        changed_by="U0CSO1",
        dedupe_key=f"s{cid}-{n}",
    )


def test_a_signals_points_oldest_first_without_the_snapshots_that_lack_it(db: Database) -> None:
    load_portfolio(db)
    with db.transaction() as s:
        acme = client_by_slug(s, "acme")
        globex = client_by_slug(s, "globex")
        assert acme is not None and globex is not None
        s.add_all(
            [
                _snapshot(acme.id, date(2026, 11, 18), 1, {"executive_engagement": 7.5}),
                _snapshot(acme.id, date(2026, 10, 1), 2, {"executive_engagement": 5}),
                _snapshot(acme.id, date(2026, 11, 2), 3, {"nps": 9}),  # no engagement
                _snapshot(acme.id, date(2026, 8, 1), 4, {"executive_engagement": 2}),  # too old
                _snapshot(globex.id, date(2026, 11, 10), 5, {"executive_engagement": 3}),
            ]
        )
    with db.session() as s:
        found = signal_points(s, [acme.id], "executive_engagement", date(2026, 9, 1))
    assert dict(found) == {acme.id: [(date(2026, 10, 1), 5.0), (date(2026, 11, 18), 7.5)]}


def test_a_whole_portfolio_of_ids_is_one_statement_past_the_drivers_parameter_limits(
    db: Database,
) -> None:
    """SQLite binds at most 32,766 parameters and PostgreSQL 65,535: 70,000 client ids are
    written into the statement, not bound one by one."""
    load_portfolio(db)
    with db.transaction() as s:
        acme = client_by_slug(s, "acme")
        assert acme is not None
        s.add(_snapshot(acme.id, date(2026, 11, 18), 1, {"executive_engagement": 6}))
    ids = [acme.id, *range(1_000_000, 1_070_000)]
    with db.session() as s:
        points = signal_points(s, ids, "executive_engagement", date(2026, 9, 1))
        scores = history(s, ids)
        none = s.scalars(select(Client.id).where(Client.id.in_(id_list([])))).all()
    assert dict(points) == {acme.id: [(date(2026, 11, 18), 6.0)]}
    assert len(scores) == len(ids) and scores[acme.id] == [(date(2026, 11, 18), 80.0, "green")]
    assert none == []
