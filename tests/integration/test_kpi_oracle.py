"""Proof by oracle: `csobot kpi --json` (storage.kpi_store.load_week_kpi, exactly what the
command prints) and the digest chart's rates (storage.kpi_store.load_week_rates, from the
counts alone) against a brute-force computation written here, over generated portfolios —
client timezones (DST weeks included), public holidays, skipped days, out of office, team
touches that count and acknowledgements that don't, tangible and activity-list wins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from domain.calendar import IsoWeek
from domain.kpi import kpi_json
from storage.activity_store import record_exemption, record_touchpoint, record_win
from storage.cadence_store import add_ooo
from storage.db import Database
from storage.kpi_store import load_kpi_and_rates, load_week_kpi, load_week_rates
from storage.models import Client, Exemption, OutOfOffice, Touchpoint, Win
from tests.conftest import load_portfolio

ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Tokyo",
         "Australia/Sydney", "America/Chicago"]  # fmt: skip
# US DST starts (W10) and ends (W44), EU DST starts (W13), Thanksgiving (W48), Christmas (W52)
WEEKS = [IsoWeek(2026, 10), IsoWeek(2026, 13), IsoWeek(2026, 44), IsoWeek(2026, 48),
         IsoWeek(2026, 52), IsoWeek(2026, 47)]  # fmt: skip
SLUGS = ["acme", "globex", "initech"]
CSO = {"acme": "U0CSO1", "globex": "U0CSO1", "initech": "U0CSO2"}
SL = "U0SL1"
# (text, does it count when the CSO sends it) — labels written by hand, not by the rules
TEXTS = [
    ("Here is the renewal summary we discussed on Monday", True),
    ("Sharing the tag QA results and two fixes for your review", True),
    ("ok", False),
    ("Thanks!", False),
    (":+1:", False),
    ("Dashboard is live!", False),
    # read like a morning update and a recap: the digest's week finds them among the touches
    ("Today we are working on the tag QA and the renewal summary", True),
    ("Completed the tag QA and shipped two fixes for your review", True),
    ("Done for today", False),
]
WINS = [None, ("Demoed the new pipeline: reports 2 days faster", False),
        ("Closed 15 tickets and had 3 meetings", True)]  # fmt: skip


@dataclass(frozen=True)
class Touch:
    slug: str
    author: str
    day_offset: int  # from the week's Monday, in the client's zone (−1 .. 7)
    hour: int
    text: int
    source: str = "event"  # or sent with /update (update-morning, update-eod)


touches = st.builds(
    Touch,
    slug=st.sampled_from(SLUGS),
    author=st.sampled_from(["cso", "cso", "cso", "sl"]),
    day_offset=st.integers(-1, 7),
    hour=st.integers(0, 23),
    text=st.integers(0, len(TEXTS) - 1),
    source=st.sampled_from(["event", "event", "event", "update-morning", "update-eod"]),
)
cases = st.fixed_dictionaries(
    {
        "week": st.sampled_from(WEEKS),
        "zones": st.fixed_dictionaries({s: st.sampled_from(ZONES) for s in SLUGS}),
        "touches": st.lists(touches, max_size=25),
        "exempt": st.lists(st.tuples(st.sampled_from(SLUGS), st.integers(0, 6)), max_size=3),
        "ooo": st.none()
        | st.tuples(st.sampled_from(["U0CSO1", "U0CSO2"]), st.integers(-3, 6), st.integers(0, 4)),
        "wins": st.fixed_dictionaries({s: st.integers(0, len(WINS) - 1) for s in SLUGS}),
        "now_offset_hours": st.integers(-12, 24 * 9),
    }
)


def _reset(db: Database, zones: dict[str, str]) -> None:
    with db.transaction() as s:
        for model in (Touchpoint, Win, Exemption, OutOfOffice):
            s.execute(delete(model))
        for slug, zone in zones.items():
            s.execute(update(Client).where(Client.slug == slug).values(timezone=zone))


def _record(db: Database, case: dict[str, Any], now: datetime) -> None:
    week: IsoWeek = case["week"]
    with db.transaction() as s:
        ids = {c.slug: c.id for c in s.query(Client)}
        for i, t in enumerate(case["touches"]):
            tz = ZoneInfo(case["zones"][t.slug])
            day = week.monday + timedelta(days=t.day_offset)
            at = datetime.combine(day, time(t.hour, 7), tzinfo=tz)
            record_touchpoint(
                s, client_id=ids[t.slug], author_id=CSO[t.slug] if t.author == "cso" else SL,
                kind="slack", source=t.source, occurred_at=at, tz=tz, dedupe_key=f"o{i}",
                now=now, text=TEXTS[t.text][0], channel="C0X", message_ts=f"{at.timestamp()}",
            )  # fmt: skip
        for slug, offset in case["exempt"]:
            record_exemption(s, client_id=ids[slug], day=week.monday + timedelta(days=offset),
                             reason="offsite", by="U0CSO1", now=now)  # fmt: skip
        if case["ooo"]:
            person, start, length = case["ooo"]
            first = week.monday + timedelta(days=start)
            add_ooo(s, person, first, first + timedelta(days=length), by=person, now=now)
        for slug, w in case["wins"].items():
            if WINS[w] is not None:
                text, activity = WINS[w]  # type: ignore[misc]
                record_win(s, client_id=ids[slug], week=week, text=text, link=None,
                           activity_list=activity, by=CSO[slug], now=now)  # fmt: skip


def _oracle(case: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The same numbers, computed the long way from the generated case."""
    week: IsoWeek = case["week"]
    days = [week.monday + timedelta(days=i) for i in range(7)]
    us = holidays_lib.country_holidays("US", years=[d.year for d in days])
    exempt: dict[str, set[date]] = {s: set() for s in SLUGS}
    for slug, offset in case["exempt"]:
        exempt[slug].add(week.monday + timedelta(days=offset))
    if case["ooo"]:
        person, start, length = case["ooo"]
        first = week.monday + timedelta(days=start)
        for slug in SLUGS:
            if CSO[slug] == person:
                exempt[slug] |= {d for d in days if first <= d <= first + timedelta(days=length)}
    clients: dict[str, dict[str, Any]] = {}
    anything = bool(any(WINS[w] for w in case["wins"].values()))
    for slug in SLUGS:
        tz = ZoneInfo(case["zones"][slug])
        today = now.astimezone(tz).date()
        touched = set()
        for t in case["touches"]:
            if t.slug != slug:
                continue
            local = datetime.combine(week.monday + timedelta(days=t.day_offset),
                                     time(t.hour, 7), tzinfo=tz).date()  # fmt: skip
            if local in days:
                anything = True
                if t.author == "cso" and TEXTS[t.text][1]:
                    touched.add(local)
        if exempt[slug] & set(days):
            anything = True
        working = [d for d in days if d.weekday() < 5 and d not in us and d not in exempt[slug]]
        expected = [d for d in working if d <= today]
        done = [d for d in expected if d in touched]
        win = WINS[case["wins"][slug]]
        presented = win is not None and bool(working) and week.monday <= today
        ended = bool(working) and today > max(working)
        clients[slug] = {
            "expected": len(expected),
            "done": len(done),
            "missed": [d.isoformat() for d in expected if d not in touched and d != today],
            "pending": [d.isoformat() for d in expected if d not in touched and d == today],
            "weekly_expected": 1 if presented or ended else 0,
            "weekly_done": 1 if presented else 0,
            "status": "done" if presented else "missed" if ended
            else "pending" if working and week.monday <= today else "not_expected",
            "tangible": None if win is None else not win[1],
        }  # fmt: skip

    def rate(slugs: list[str]) -> float | None:
        exp = sum(clients[s]["expected"] + clients[s]["weekly_expected"] for s in slugs)
        got = sum(clients[s]["done"] + clients[s]["weekly_done"] for s in slugs)
        return round(got / exp, 4) if exp and anything else None

    return {
        "clients": clients,
        "has_data": anything,
        "client_rates": {s: rate([s]) for s in SLUGS},
        "cso_rates": {"U0CSO1": rate(["acme", "globex"]), "U0CSO2": rate(["initech"])},
        "overall": rate(SLUGS),
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases)
def test_kpi_json_equals_the_brute_force_computation(db: Database, case: dict[str, Any]) -> None:
    if not getattr(db, "_oracle_loaded", False):
        load_portfolio(db)
        db._oracle_loaded = True  # type: ignore[attr-defined]
    week: IsoWeek = case["week"]
    now = datetime.combine(week.monday, time(0), tzinfo=UTC) + timedelta(
        hours=case["now_offset_hours"]
    )
    _reset(db, case["zones"])
    _record(db, case, now)
    with db.session() as tx:
        kpi = kpi_json(load_week_kpi(tx, week, now))
    want = _oracle(case, now)
    assert kpi["has_data"] == want["has_data"]
    got = {c["slug"]: c for cso in kpi["csos"] for c in cso["clients"]}
    for slug, w in want["clients"].items():
        c = got[slug]
        daily, weekly = c["daily"], c["weekly_presentation"]
        assert (daily["expected"], daily["done"]) == (w["expected"], w["done"]), slug
        assert (daily["missed"], daily["pending"]) == (w["missed"], w["pending"]), slug
        assert (weekly["expected"], weekly["done"]) == (w["weekly_expected"], w["weekly_done"])
        assert (weekly["status"], weekly["tangible"]) == (w["status"], w["tangible"]), slug
        assert c["rate"] == want["client_rates"][slug], slug
        # every done day has its evidence, and only the CSO's substantive messages in it
        assert sorted(daily["evidence"]) == sorted(
            d for d in daily["evidence"] if d not in daily["missed"]
        )
        assert len(daily["evidence"]) == w["done"]
    assert {c["slack_id"]: c["rate"] for c in kpi["csos"]} == want["cso_rates"]
    assert kpi["overall"]["rate"] == want["overall"]
    # The chart's rates come from the counts alone, never from the touches: the same numbers.
    with db.session() as tx:
        [rates] = load_week_rates(tx, [week], now)
    assert rates.has_data == want["has_data"]
    assert {c.slack_id: c.rate for c in rates.csos} == want["cso_rates"]
    assert rates.overall.rate == want["overall"]
    # The digest's week: every number and every touch that did not count, no evidence listed.
    with db.session() as tx:
        digest_week, _ = load_kpi_and_rates(tx, week, [], now)
    for cso in kpi["csos"]:
        for c in cso["clients"]:
            c["daily"]["evidence"] = {}
    assert kpi_json(digest_week) == kpi
