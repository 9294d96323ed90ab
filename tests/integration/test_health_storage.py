"""Snapshots keep `band_since` right whatever order they are written in (the board reads it
instead of walking a year of history), and the board's short history answers like the full."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from domain.board import board_row
from domain.expansion import GREEN_DAYS_REQUIRED, expansion_allowed, green_long_enough
from domain.health import THREE_PILLAR, band_since, trend
from domain.health_inputs import SignalState, UsageRow
from storage import health_store
from storage.db import Database
from storage.health_store import board_points, history, write_snapshot
from storage.models import Client, HealthSnapshot
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


def test_board_rows_from_the_short_history_equal_rows_from_the_full_one(db: Database) -> None:
    """The board's rows from the few points `board_points` reads equal its rows from the
    whole history as the board reads it (the baseline: the last point on or before the trend's
    cutoff, then every later point). Several clients, each day a client's own (two todays:
    timezones), points written out of order, twice on some days, some in the future and some
    all long before the cutoff."""
    load_portfolio(db)
    rnd = random.Random(23)
    with db.transaction() as s:
        clients = list(s.scalars(select(Client).order_by(Client.id)))
        today = {c.id: TODAY - timedelta(days=i % 2) for i, c in enumerate(clients)}
        spans = [(0, 200), (-5, -1), (0, 20), (40, 300), (-3, 10), (31, 31)]
        written = 0
        for i, client in enumerate(clients):
            low, high = spans[i % len(spans)]
            for _ in range(rnd.randint(1, 40)):
                level = rnd.choice([3.0, 6.5, 7.0, 8.5, 9.0])
                state = SignalState(values=dict.fromkeys(THREE_PILLAR.signal_names, level))
                write_snapshot(
                    s, client, THREE_PILLAR, state, [], source="import", by="t",
                    now=NOW + timedelta(seconds=written),
                    day=today[client.id] - timedelta(days=rnd.randint(low, high)),
                    dedupe_key=f"k{written}",
                )  # fmt: skip
                written += 1
        s.flush()
        ids = [c.id for c in clients]
        full = history(s, ids)
        points, started = board_points(s, ids, today)
    for client in clients:
        cid = client.id
        if any(p[0] <= today[cid] for p in full[cid]):  # else: the future's own band_since
            assert started[cid] == band_since(full[cid], today[cid])
        kwargs = {
            "client_id": cid, "slug": client.slug, "name": client.name, "cso_id": client.cso_id,
            "last_check": None, "today": today[cid], "last_touchpoint": None, "open_flags": 0,
            "contract_end": None, "playbook": None,
        }  # fmt: skip
        cutoff = today[cid] - timedelta(days=30)
        older = [p for p in full[cid] if p[0] <= cutoff]
        whole = older[-1:] + [p for p in full[cid] if p[0] > cutoff]
        short = board_row(history=points[cid], band_started=started[cid], **kwargs)  # type: ignore[arg-type]
        reference = board_row(history=whole, band_started=started[cid], **kwargs)  # type: ignore[arg-type]
        assert short == reference, client.slug
        assert len(points[cid]) <= 4 * 2  # a few days, a point or two each


def test_a_usage_import_across_more_clients_than_one_statement_names(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clients a usage file names are read in chunks (a portfolio of 100,000 clients is past
    SQLite's cap on bound parameters): every client's reading lands with a chunk of 2."""
    monkeypatch.setattr(health_store, "SLUGS_PER_STATEMENT", 2)
    load_portfolio(db)
    with db.transaction() as s:
        slugs = [c.slug for c in s.scalars(select(Client).order_by(Client.id))]
        assert len(slugs) > 2
        signal = THREE_PILLAR.signal_names[0]
        rows = [
            UsageRow(line=i + 2, client=slug, day=TODAY, signal=signal, value=7.0)
            for i, slug in enumerate(slugs)
        ]
        result = health_store.import_usage(s, rows, THREE_PILLAR, source="t.csv", now=NOW)
    assert result.readings == len(slugs)
    assert result.clients == set(slugs)


def test_the_expansion_guardrail_reads_the_same_from_its_window_as_from_the_whole_history(
    db: Database,
) -> None:
    """The guardrail (Green for the last 60 days) decides the same over the whole history, over
    each client's scores from 60 days before the earliest today on (with its last day before
    that), and from each client's current run as its snapshots keep it (`current_runs`, what
    `expansion_rows` reads). Runs that began long before, runs broken inside the
    window, scores on the window's edge, several a day, two todays (timezones)."""
    load_portfolio(db)
    rnd = random.Random(61)
    with db.transaction() as s:
        clients = list(s.scalars(select(Client).order_by(Client.id)))
        today = {c.id: TODAY - timedelta(days=i % 2) for i, c in enumerate(clients)}
        since = min(today.values()) - timedelta(days=GREEN_DAYS_REQUIRED)
        verdicts: set[bool] = set()
        for trial in range(12):
            s.execute(delete(HealthSnapshot))
            for i, client in enumerate(clients):
                red_gap = rnd.choice([None, 10, 59, 60, 61, 90])  # days ago a low score was given
                for k in range(rnd.randint(1, 30)):
                    ago = rnd.choice([0, 1, 30, 59, 60, 61, 62, 120, 300, rnd.randint(0, 200)])
                    level = 3.0 if ago == red_gap else rnd.choice([8.5, 9.0, 9.0, 7.0])
                    state = SignalState(values=dict.fromkeys(THREE_PILLAR.signal_names, level))
                    write_snapshot(
                        s, client, THREE_PILLAR, state, [], source="import", by="t",
                        now=NOW + timedelta(seconds=k), day=today[client.id] - timedelta(days=ago),
                        dedupe_key=f"k{trial}:{i}:{k}",
                    )  # fmt: skip
            s.flush()
            ids = [c.id for c in clients]
            full = history(s, ids)
            window = history(s, ids, since, with_day_before=True)
            runs = health_store.current_runs(s, ids, today)
            for cid in ids:
                want = expansion_allowed(full[cid], today[cid])
                assert expansion_allowed(window[cid], today[cid]) == want, (trial, cid)
                # what `expansion_rows` reads: the current run, as each snapshot keeps it
                band, began = runs.get(cid, (None, None))
                assert green_long_enough(band, began, today[cid]) == want, (trial, cid)
                verdicts.add(want)
            assert sum(map(len, window.values())) < sum(map(len, full.values()))
    assert verdicts == {True, False}
