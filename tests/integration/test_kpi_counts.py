"""The KPI's per-client days in SQL (`storage.kpi_store.touched_days`) against the touch rules
in Python (`domain.touch_rules.judge`) over the same rows, for every setting of who counts and
how many words a message needs — and an edit, a deletion and a row written without its words
are judged like any other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from domain.calendar import IsoWeek
from domain.touch_rules import MORNING_CUE, KpiSettings, Touch, TouchRole, judge, role_of
from storage.activity_store import record_touchpoint
from storage.db import Database
from storage.kpi_store import load_kpi_and_rates, touched_days
from storage.models import Client, Touchpoint
from storage.portfolio_store import client_record
from storage.touchpoint_store import edit_channel_message
from tests.conftest import load_portfolio

MONDAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
TZ = ZoneInfo("America/New_York")
AUTHORS = ["U0CSO1", "U0CSO2", "U0SL1", "U0EP1", "U0HOD"]
KINDS = ["slack", "slack", "slack", "email", "call", "meeting"]
SOURCES = ["event", "me_message", "file_share", "huddle", "update-morning", "command"]
TEXTS = [
    "", "ok", "Thanks!", ":+1: <@U0CSO1>", "sounds good thanks", "thank you so much",
    "Dashboard is live!", "one two three four", "Here is the renewal summary we discussed",
    "<https://example.com|the report> is ready for your review today",
]  # fmt: skip


@dataclass(frozen=True)
class Row:
    slug: str
    author: str
    kind: str
    source: str
    text: int
    day: int


rows = st.lists(
    st.builds(
        Row,
        slug=st.sampled_from(["acme", "globex", "initech"]),
        author=st.sampled_from(AUTHORS),
        kind=st.sampled_from(KINDS),
        source=st.sampled_from(SOURCES),
        text=st.integers(0, len(TEXTS) - 1),
        day=st.integers(0, 3),
    ),
    max_size=30,
)
kpi_settings = st.builds(
    KpiSettings,
    touchpoint_roles=st.lists(st.sampled_from(list(TouchRole)), min_size=1, unique=True).map(tuple),
    min_words=st.integers(1, 8),
)


def _clients(db: Database) -> dict[str, Any]:
    with db.session() as s:
        return {c.slug: client_record(c) for c in s.scalars(select(Client))}


def _record(db: Database, items: list[Row]) -> None:
    clients = _clients(db)
    with db.transaction() as s:
        s.execute(delete(Touchpoint))
        for i, r in enumerate(items):
            at = datetime.combine(MONDAY + timedelta(days=r.day), datetime.min.time(), TZ)
            record_touchpoint(
                s, client_id=clients[r.slug].id, author_id=r.author, kind=r.kind,
                source=r.source, occurred_at=at + timedelta(hours=10), tz=TZ,
                dedupe_key=f"k{i}", now=NOW, text=TEXTS[r.text], channel="C0X",
                message_ts=f"{1700000000 + i}.000100",
            )  # fmt: skip


Days = dict[int, tuple[set[date], set[date]]]  # client id: (recorded days, counted days)


def _by_rules(db: Database, kpi: KpiSettings) -> Days:
    clients = {c.id: c for c in _clients(db).values()}
    out: Days = {}
    with db.session() as s:
        for t in s.scalars(select(Touchpoint)):
            touch = Touch(t.kind, t.source, t.author_id, t.occurred_at, t.local_date, t.excerpt)
            recorded, counted = out.setdefault(t.client_id, (set(), set()))
            recorded.add(t.local_date)
            if judge(touch, role_of(clients[t.client_id], t.author_id), kpi).counts:
                counted.add(t.local_date)
    return out


def _by_sql(db: Database, kpi: KpiSettings, start: date = MONDAY - timedelta(days=1)) -> Days:
    with db.session() as s:
        found = touched_days(s, start, MONDAY + timedelta(days=7), kpi)
    return {r.client_id: (set(r.recorded), set(r.counted)) for r in found}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=rows, kpi=kpi_settings, sl_is_cso=st.booleans())
def test_the_counts_in_sql_equal_the_rules_over_the_rows(
    db: Database, items: list[Row], kpi: KpiSettings, sl_is_cso: bool
) -> None:
    if not getattr(db, "_counts_loaded", False):
        load_portfolio(db)
        db._counts_loaded = True  # type: ignore[attr-defined]
    with db.transaction() as s:  # one person in two roles: their first role is the one judged
        s.execute(
            update(Client)
            .where(Client.slug == "globex")
            .values(service_lead_id="U0CSO1" if sl_is_cso else "U0SL1")
        )
    _record(db, items)
    assert _by_sql(db, kpi) == _by_rules(db, kpi)
    # a span longer than one bit mask holds (several mask columns) reads the same days
    assert _by_sql(db, kpi, MONDAY - timedelta(days=130)) == _by_rules(db, kpi)


def test_an_edit_a_deletion_and_an_unmeasured_row_are_counted_as_they_now_read(
    db: Database,
) -> None:
    load_portfolio(db)
    _record(db, [Row("acme", "U0CSO1", "slack", "event", 1, 0),
                 Row("acme", "U0CSO1", "slack", "event", 8, 1)])  # fmt: skip
    kpi = KpiSettings()
    acme = _clients(db)["acme"].id
    monday, tuesday = MONDAY, MONDAY + timedelta(days=1)
    assert _by_sql(db, kpi) == {acme: ({monday, tuesday}, {tuesday})}
    with db.transaction() as s:  # "ok" edited into a real update; the real one deleted
        assert edit_channel_message(
            s, "C0X", "1700000000.000100", "Sent the renewal summary and the QA notes"
        )
        s.execute(delete(Touchpoint).where(Touchpoint.message_ts == "1700000001.000100"))
    assert _by_sql(db, kpi) == {acme: ({monday}, {monday})}
    with db.transaction() as s:  # as a process older than the words column writes it
        s.execute(
            update(Touchpoint).values(
                words=None, acknowledgement=None, cues=None,
                excerpt="This morning we are working on the renewal summary",
            )
        )  # fmt: skip
    assert _by_sql(db, kpi) == {acme: ({monday}, {monday})} == _by_rules(db, kpi)
    with db.transaction() as s:  # as a process older than the cues column writes it
        s.execute(update(Touchpoint).values(words=1, acknowledgement=True, cues=None))
    assert _by_sql(db, kpi) == {acme: ({monday}, {monday})}
    with db.transaction() as s:  # measured as it now reads, its update cues with it
        touched_days(s, monday, monday, kpi)
    with db.session() as s:
        row = s.scalars(select(Touchpoint)).one()
        assert (row.words, row.acknowledgement, row.cues) == (9, False, MORNING_CUE)


def test_a_row_written_before_its_cues_still_makes_the_digests_morning_update(
    db: Database,
) -> None:
    """The digest's week reads only the touches that don't count or can be an update; a row an
    older process wrote without its cues is measured first, so its update is not missed."""
    load_portfolio(db)
    at = datetime.combine(MONDAY, datetime.min.time(), TZ) + timedelta(hours=10)
    with db.transaction() as s:
        record_touchpoint(
            s, client_id=_clients(db)["acme"].id, author_id="U0CSO1", kind="slack",
            source="event", occurred_at=at, tz=TZ, dedupe_key="k0", now=NOW,
            text="This morning we are working on the renewal summary", channel="C0X",
            message_ts="1700000000.000100",
        )  # fmt: skip
        s.execute(update(Touchpoint).values(cues=None))  # as a process older than the column
    with db.transaction() as tx:
        week, _ = load_kpi_and_rates(tx, IsoWeek.of(MONDAY), [], NOW)
    [acme] = [c for cso in week.csos for c in cso.clients if c.slug == "acme"]
    assert acme.updates is not None
    assert (acme.updates.morning.done, acme.daily.ignored) == (1, [])
