"""Snapshots keep `band_since` right whatever order they are written in (the board reads it
instead of walking a year of history), and the board's short history answers like the full."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from domain.health import THREE_PILLAR, band_since, trend
from domain.health_inputs import SignalState
from storage.db import Database
from storage.health_store import board_points, history, write_snapshot
from storage.models import Client
from tests.conftest import load_portfolio

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
TODAY = date(2026, 11, 20)


def test_band_since_and_board_points_match_the_domain_rules(db: Database) -> None:
    load_portfolio(db)
    rnd = random.Random(11)
    with db.transaction() as s:
        acme = s.scalars(select(Client).where(Client.slug == "acme")).one()
        days = [TODAY - timedelta(days=rnd.randint(0, 200)) for _ in range(60)]
        for i, day in enumerate(days):  # written out of order, some days twice
            level = rnd.choice([3.0, 6.5, 7.0, 8.5, 9.0])
            state = SignalState(values=dict.fromkeys(THREE_PILLAR.signal_names, level))
            write_snapshot(
                s, acme, THREE_PILLAR, state, [], source="import", by="t",
                now=NOW + timedelta(seconds=i), day=day, dedupe_key=f"k{i}",
            )  # fmt: skip
        s.flush()
        full = history(s, [acme.id])[acme.id]
        points, started = board_points(s, [acme.id], {acme.id: TODAY})
    assert started[acme.id] == band_since(full, TODAY)
    assert trend(points[acme.id], TODAY) == trend(full, TODAY)
    assert len(points[acme.id]) < len(full)
