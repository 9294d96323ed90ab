"""The cadence engine with a controlled clock: what is sent, to whom, when — exactly once."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import select

from bot.features import enqueuers
from bot.runtime import make_web_client
from bot.settings import Settings
from devkit.emulator import SlackEmulator
from domain.calendar import IsoWeek
from scheduling.cadence_jobs import enqueue_cadences as cadence_enqueuer
from scheduling.engine import tick
from storage.activity_store import record_touchpoint, record_win
from storage.db import Database
from storage.kpi_store import load_week_kpi
from storage.models import Nudge
from tests.conftest import NY, BotHarness, load_portfolio
from usecases.clock import FixedClock
from usecases.deps import Deps

LONDON = ZoneInfo("Europe/London")
CHICAGO = ZoneInfo("America/Chicago")


@dataclass
class Sent:
    at: datetime  # the tick's moment (UTC)
    target: str
    keys: list[str]

    def cadences(self) -> set[str]:
        return {k.split(":")[0] for k in self.keys}


def web(bot: BotHarness) -> WebClient:
    client = bot.web
    assert isinstance(client, WebClient)
    return client


def run(bot: BotHarness, start: datetime, end: datetime, every: timedelta) -> list[Sent]:
    """Tick from start to end (exclusive), moving the bot's clock; return what was sent."""
    sent: list[Sent] = []
    at = start.astimezone(UTC)
    while at < end:
        bot.clock.set(at)
        report = tick(bot.deps, web(bot), at, bot.jobs)
        assert report.errors == {}
        sent += [Sent(at, d.target, d.keys) for d in report.deliveries if d.ok]
        at += every
    return sent


def touch(bot: BotHarness, slug_id: int, at: datetime, tz: ZoneInfo = NY) -> None:
    with bot.db.transaction() as s:
        record_touchpoint(
            s,
            client_id=slug_id,
            author_id="U0CSO1",
            kind="slack",
            source="event",
            occurred_at=at,
            tz=tz,
            dedupe_key=f"t:{slug_id}:{at.isoformat()}",
            now=at,
            text="update",
        )


def ids(bot: BotHarness) -> dict[str, int]:
    from storage.models import Client

    with bot.db.session() as s:
        return {c.slug: c.id for c in s.scalars(select(Client))}


def nudges(bot: BotHarness) -> list[Nudge]:
    with bot.db.session() as s:
        return list(s.scalars(select(Nudge).order_by(Nudge.id)))


# -- a normal week -------------------------------------------------------------------------------
def test_a_normal_week_for_a_small_portfolio(bot: BotHarness) -> None:
    """Week 2026-W47. Dana (New York) touches acme every morning and never globex; Sam
    (London) touches initech on Monday and Wednesday only."""
    cid = ids(bot)
    monday = date(2026, 11, 16)
    sent: list[Sent] = []
    for i in range(7):
        day = monday + timedelta(days=i)
        if i < 5:
            touch(bot, cid["acme"], datetime.combine(day, time(9), tzinfo=CHICAGO), CHICAGO)
        if i in (0, 2):
            touch(bot, cid["initech"], datetime.combine(day, time(11), tzinfo=LONDON), LONDON)
        if i == 3:
            with bot.db.transaction() as s:
                record_win(
                    s,
                    client_id=cid["acme"],
                    week=IsoWeek(2026, 47),
                    text="Reports 2 days faster",
                    link=None,
                    activity_list=False,
                    by="U0CSO1",
                    now=datetime.combine(day, time(12), tzinfo=NY),
                )
        start = datetime.combine(day, time(0), tzinfo=UTC)
        sent += run(bot, start, start + timedelta(days=1), timedelta(minutes=30))

    by_key = Counter(k for s in sent for k in s.keys)
    assert by_key and max(by_key.values()) == 1, "every nudge is sent exactly once"

    def local(s: Sent) -> datetime:
        tz = LONDON if s.target == "U0CSO2" else NY
        return s.at.astimezone(tz)

    # Nothing at the weekend, nothing outside 09:00-18:00 local.
    assert all(local(s).weekday() < 5 for s in sent)
    assert all(time(9) <= local(s).time() < time(18) for s in sent)

    # Dana's overdue DM: every weekday at 15:00 New York, one message, globex only.
    cutoffs = [s for s in sent if s.target == "U0CSO1" and "touchpoint-cutoff" in s.cadences()]
    assert [local(s).strftime("%a %H:%M") for s in cutoffs] == [
        f"{d} 15:00" for d in ("Mon", "Tue", "Wed", "Thu", "Fri")
    ]
    for s in cutoffs:
        cut = [k for k in s.keys if k.startswith("touchpoint-cutoff")]
        assert cut == [f"touchpoint-cutoff:U0CSO1:{cid['globex']}:{local(s).date()}"]

    # Sam's cutoff is at 15:00 London on the days initech had no touchpoint.
    sam = [s for s in sent if s.target == "U0CSO2" and "touchpoint-cutoff" in s.cadences()]
    assert [local(s).strftime("%a %H:%M") for s in sam] == ["Tue 15:00", "Thu 15:00", "Fri 15:00"]

    # Escalation: globex's 2nd missed day (Tue) tells the Service Lead, the 3rd (Wed) the head
    # of delivery too. initech's Thu+Fri misses reach the Service Lead on Friday.
    sl = [(local(s).strftime("%a"), k) for s in sent if s.target == "U0SL1" for k in s.keys]
    sl_esc = [(d, k.split(":")[2]) for d, k in sl if k.startswith("missed-touchpoints-sl")]
    assert sl_esc == [
        ("Tue", str(cid["globex"])),
        ("Wed", str(cid["globex"])),
        ("Thu", str(cid["globex"])),
        ("Fri", str(cid["initech"])),  # 15:00 London is 10:00 in New York
        ("Fri", str(cid["globex"])),
    ]
    hod = [local(s).strftime("%a") for s in sent if s.target == "U0HOD"]
    assert hod == ["Wed", "Thu", "Fri"]

    # Triangle Sync on Wednesday at 11:00 local, to the CSO, SL and EP of each client.
    tri = {
        (s.target, local(s).strftime("%a %H:%M")) for s in sent if "triangle-sync" in s.cadences()
    }
    assert tri == {
        ("U0CSO1", "Wed 11:00"),
        ("U0SL1", "Wed 11:00"),
        ("U0EP1", "Wed 11:00"),
        ("U0CSO2", "Wed 11:00"),
    }

    # Friday's weekly presentation: acme has its win, so only globex is nudged.
    weekly = [k for s in sent if s.target == "U0CSO1" for k in s.keys if "weekly-present" in k]
    assert weekly == [f"weekly-presentation:U0CSO1:{cid['globex']}:2026-W47"]

    # Morning update: acme was touched at 09:00 Chicago (10:00 NY), so only globex at 10:30.
    morning = {
        k.split(":")[2] for s in sent for k in s.keys if k.startswith("morning-update:U0CSO1")
    }
    assert morning == {str(cid["globex"])}

    # The noise budget: at most 6 DMs a day, plus the overdue-touchpoint DM and escalations.
    per_day: dict[tuple[str, date], int] = defaultdict(int)
    for s in sent:
        per_day[(s.target, local(s).date())] += 1
    assert max(per_day.values()) <= 7

    # Every DM says why it came and how to tune it.
    for call in bot.emulator.calls("chat.postMessage"):
        if not str(call["channel"]).startswith("U"):
            continue  # the leadership digest goes to a channel, not a DM
        flat = str(call["blocks"])
        assert "Why:" in flat and "/cso prefs" in flat


# -- calendar truth ------------------------------------------------------------------------------
def test_thanksgiving_and_the_weekend_send_nothing_and_expect_nothing(bot: BotHarness) -> None:
    thursday = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    assert run(bot, thursday, thursday + timedelta(days=1), timedelta(minutes=15)) == []
    saturday = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert run(bot, saturday, saturday + timedelta(days=2), timedelta(minutes=30)) == []
    assert bot.emulator.calls("chat.postMessage") == []
    with bot.db.session() as s:
        kpi = load_week_kpi(s, IsoWeek(2026, 48), datetime(2026, 11, 29, 12, tzinfo=NY))
    dana = next(c for c in kpi.csos if c.slack_id == "U0CSO1")
    acme = next(c for c in dana.clients if c.slug == "acme")
    assert acme.daily.expected == 4 and "2026-11-26" not in acme.daily.missed


def test_the_dst_change_moves_the_utc_moment_not_the_local_time(bot: BotHarness) -> None:
    # New York leaves daylight time on Sunday 2026-11-01: 15:00 is 19:00 UTC on Friday
    # 2026-10-30 and 20:00 UTC on Monday 2026-11-02.
    friday = datetime(2026, 10, 30, 18, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)
    before = run(bot, friday, friday + timedelta(hours=3), timedelta(minutes=5))
    after = run(bot, monday, monday + timedelta(hours=3), timedelta(minutes=5))

    def cutoff_at(sent: list[Sent]) -> list[str]:
        return [
            s.at.strftime("%H:%M")
            for s in sent
            if s.target == "U0CSO1" and "touchpoint-cutoff" in s.cadences()
        ]

    assert cutoff_at(before) == ["19:00"]
    assert cutoff_at(after) == ["20:00"]


# -- exactly once --------------------------------------------------------------------------------
def test_two_engines_ticking_at_once_send_each_nudge_once(
    db_url: str, emulator: SlackEmulator, settings: Settings
) -> None:
    loader = Database(db_url)
    load_portfolio(loader)
    loader.dispose()
    now = datetime(2026, 11, 18, 15, 5, tzinfo=NY)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def engine() -> None:
        db = Database(db_url)
        deps = Deps(db=db, clock=FixedClock(now), slack=make_web_client(settings))
        try:
            barrier.wait()
            report = tick(deps, deps.slack, now, enqueuers())
            assert report.errors == {}
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=engine) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    posts = emulator.calls("chat.postMessage")
    targets = Counter(c["channel"] for c in posts)
    keys = Counter(
        key
        for c in posts
        for key in {e["value"] for b in c["blocks"] for e in _buttons(b) if e.get("value")}
    )
    assert targets == {"U0CSO1": 1, "U0SL1": 1, "U0EP1": 1}
    assert keys and max(keys.values()) == 1


def _buttons(block: dict[str, Any]) -> list[dict[str, Any]]:
    if block.get("type") == "actions":
        return list(block["elements"])
    if block.get("accessory"):
        return [block["accessory"]]
    return []


def test_slack_answering_429_then_200_sends_once_after_the_wait(bot: BotHarness) -> None:
    bot.emulator.fail_next("chat.postMessage", 429, retry_after=1)
    now = datetime(2026, 11, 20, 15, 1, tzinfo=NY)
    report = tick(bot.deps, web(bot), now, bot.jobs)
    dana = [d for d in report.deliveries if d.target == "U0CSO1"]
    assert [d.ok for d in dana] == [True]
    calls = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0CSO1"]
    assert len(calls) == 2 and calls[1].at - calls[0].at >= 0.9
    again = tick(bot.deps, web(bot), now + timedelta(minutes=1), bot.jobs)
    assert again.deliveries == []
    assert len([c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0CSO1"]) == 2


def test_a_kill_between_the_key_write_and_the_send_is_sent_on_the_next_tick_once(
    bot: BotHarness,
) -> None:
    now = datetime(2026, 11, 18, 15, 5, tzinfo=NY)  # Wednesday: Triangle Sync for three
    # The process writes the keys, then dies before delivering.
    assert cadence_enqueuer(bot.deps, now) > 0
    assert bot.emulator.calls("chat.postMessage") == []
    assert {n.status for n in nudges(bot)} == {"pending"}
    # And another one dies after claiming a group, before the Slack call.
    with bot.db.transaction() as s:
        row = s.scalars(select(Nudge).where(Nudge.target == "U0SL1")).first()
        assert row is not None
        row.status, row.claim_token, row.claimed_at = "sending", "dead", now
        row_key = row.key
    first = tick(bot.deps, web(bot), now + timedelta(minutes=1), bot.jobs)
    # The dead process's claim holds its lease; everything else goes out.
    assert {d.target: len(d.keys) for d in first.deliveries} == {
        # 2 overdue touchpoints + Triangle Sync (one reminder listing both clients) + 2 first
        # health checks + the Globex renewal
        "U0CSO1": 6,
        "U0EP1": 1,
        # Lee's one reminder (Triangle Sync, listing his three clients) is the claimed one.
    }
    later = tick(bot.deps, web(bot), now + timedelta(minutes=4), bot.jobs)
    assert [(d.target, d.keys) for d in later.deliveries] == [("U0SL1", [row_key])]
    assert tick(bot.deps, web(bot), now + timedelta(minutes=5), bot.jobs).deliveries == []
    assert Counter(c["channel"] for c in bot.emulator.calls("chat.postMessage")) == {
        "U0CSO1": 1,
        "U0EP1": 1,
        "U0SL1": 1,  # the claimed reminder, once its lease ran out
    }
    # (Sam's health/renewal nudges wait for London's working hours.)
    assert {n.status for n in nudges(bot) if n.target != "U0CSO2"} == {"sent"}
