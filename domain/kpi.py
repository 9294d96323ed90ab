"""Communication Consistency: daily touchpoints + the weekly presentation.

docs/process.md, "Communication Consistency". Pure arithmetic over plain records, so the
number leadership sees is reproducible: `csobot kpi`, the digest and its chart all get their
numbers from `week_kpi` over the same inputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from domain.calendar import DaySet, IsoWeek, day_mask, holidays_between, local_date
from domain.touch_rules import (
    KpiSettings,
    Touch,
    TouchRole,
    UpdateSlot,
    judge,
    kind_of,
    permalink,
    update_slot,
)


@dataclass(kw_only=True, slots=True)
class KpiClient:
    slug: str
    name: str
    cso: str
    timezone: str
    # The client's team by Slack id (cso, service_lead, engagement_partner): whose touch counts.
    team: dict[str, TouchRole] = field(default_factory=dict)


@dataclass(kw_only=True, slots=True)
class KpiPerson:
    slack_id: str
    name: str


@dataclass(kw_only=True, slots=True)
class EvidenceItem:
    """A touch that made its day: what, by whom, when, a glimpse, and where to see it."""

    kind: str  # message | me_message | file | update | huddle | email | call | meeting
    update: UpdateSlot | None = None  # it was the day's morning update or end-of-day recap
    by: str  # Slack id
    at: str  # ISO time, UTC
    excerpt: str  # the message's first words, or the logged note
    permalink: str | None = None  # Slack messages
    link: str | None = None  # a logged touchpoint's link


@dataclass(kw_only=True, slots=True)
class IgnoredItem(EvidenceItem):
    """A team touch that did not count, and why."""

    date: str
    reason: str


@dataclass(kw_only=True, slots=True)
class DailyPart:
    expected: int
    done: int
    missed: list[str] = field(default_factory=list)
    exempt: list[dict[str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    # Per done day (ISO date), the touches that counted; then the team's touches that didn't.
    evidence: dict[str, list[EvidenceItem]] = field(default_factory=dict)
    ignored: list[IgnoredItem] = field(default_factory=list)


@dataclass(kw_only=True, slots=True)
class SlotPart:
    done: int
    missed: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # today, until the day ends


@dataclass(kw_only=True, slots=True)
class UpdatesPart:
    """The daily client updates: a morning update and an end-of-day recap on each expected
    day. A separate measure: not part of the rate."""

    expected: int
    morning: SlotPart
    eod: SlotPart


WeeklyStatus = Literal["done", "missed", "pending", "not_expected"]


@dataclass(kw_only=True, slots=True)
class WeeklyPart:
    expected: int  # 1 once presented, or once the week's last business day has ended
    done: int  # 1 when a presentation (its win) is recorded
    win: str | None = None
    # The win reads as an outcome, not a list of activity (None: no win recorded).
    tangible: bool | None = None
    # done; missed (the last business day ended without one); pending (it may still come);
    # not_expected (no business day to give it on).
    status: WeeklyStatus = "not_expected"


@dataclass(kw_only=True, slots=True)
class ClientKpi:
    slug: str
    name: str
    daily: DailyPart
    weekly_presentation: WeeklyPart
    rate: float | None = None  # the client's own (None: nothing expected, or no data)
    updates: UpdatesPart | None = None


@dataclass(kw_only=True, slots=True)
class Totals:
    expected: int
    done: int
    rate: float | None


@dataclass(kw_only=True, slots=True)
class CadenceRow:
    """A cadence closed by a click (Triangle Sync held...): nudged, and done or not."""

    cadence: str
    title: str
    client: str | None = None
    day: str
    period: str
    done: bool
    done_by: str | None = None
    done_at: str | None = None


@dataclass(kw_only=True, slots=True)
class CsoKpi(Totals):
    slack_id: str
    name: str
    clients: list[ClientKpi]
    cadences: list[CadenceRow] = field(default_factory=list)


@dataclass(kw_only=True, slots=True)
class WeekKpi:
    week: str
    overall: Totals
    csos: list[CsoKpi]
    has_data: bool = True


@lru_cache(maxsize=1)
def _week_kpi_adapter() -> TypeAdapter[WeekKpi]:
    return TypeAdapter(WeekKpi)


def kpi_json(kpi: WeekKpi) -> dict[str, Any]:
    """The week's KPI as plain JSON values: what `csobot kpi --json` prints."""
    data: dict[str, Any] = _week_kpi_adapter().dump_python(kpi, mode="json")
    return data


OUT_OF_OFFICE = "out of office"


def exemptions_with_out_of_office(
    week: IsoWeek,
    recorded: dict[str, dict[date, str]],
    out_of_office: Iterable[tuple[str, date, date]],
    clients: Iterable[KpiClient],
) -> dict[str, dict[date, str]]:
    """The days not expected for each client: those recorded as exempt, and the days of the
    week its CSO is out of office (`/cso ooo`) — a CSO away is not expected to touch their
    clients. A recorded reason wins over "out of office" on the same day."""
    out: dict[str, dict[date, str]] = {slug: dict(days) for slug, days in recorded.items()}
    ranges: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for person_id, first, last in out_of_office:
        ranges[person_id].append((first, last))
    for client in clients:
        for first, last in ranges.get(client.cso, ()):
            days = out.setdefault(client.slug, {})
            for day in week.days():
                if first <= day <= last:
                    days.setdefault(day, OUT_OF_OFFICE)
    return out


def rate(done: int, expected: int) -> float | None:
    return round(done / expected, 4) if expected else None


def client_kpi(
    client: KpiClient,
    week: IsoWeek,
    now: datetime,
    *,
    holiday_country: str,
    holiday_subdiv: str | None = None,
    touchpoint_days: AbstractSet[date],
    exemptions: dict[date, str],
    win: str | None,
    touches: Sequence[Touch] = (),
    kpi_settings: KpiSettings | None = None,
    win_is_activity: bool = False,
    evidence: bool = True,
    frame: WeekFrame | None = None,
) -> ClientKpi:
    """One client's week. `touchpoint_days` are local dates (in the client's timezone) known
    to count; `touches` are the team's recorded touches, judged here (docs/process.md,
    "What counts"): those that count make their day, with their evidence; the rest are listed
    with the reason they did not. `evidence=False`: the same numbers, the counted touches not
    listed (a reader of the counts alone, such as the digest). `frame`: the week as seen from
    the client's timezone (`week_frame`), when the caller has it already."""
    if frame is None:
        frame = week_frame(ZoneInfo(client.timezone), week, now, holiday_country, holiday_subdiv)
    counted: dict[date, list[Touch]] = {}
    slots: dict[date, set[UpdateSlot]] = {}
    slot_of: dict[int, UpdateSlot] = {}
    ignored: list[IgnoredItem] = []
    if touches:
        tz = ZoneInfo(client.timezone)
        settings = kpi_settings or KpiSettings()
        monday, sunday = week.monday, week.sunday
        for touch in sorted(touches, key=lambda t: (t.at, t.message_ts or "")):
            if not monday <= touch.day <= sunday:
                continue
            role = client.team.get(touch.author_id)
            verdict = judge(touch, role, settings)
            slot = update_slot(
                touch, role, settings, touch.at.astimezone(tz).time(), counts=verdict.counts
            )
            if slot is not None:
                slots.setdefault(touch.day, set()).add(slot)
                slot_of[id(touch)] = slot
            if verdict.counts:
                counted.setdefault(touch.day, []).append(touch)
            else:
                ignored.append(
                    IgnoredItem(
                        **_evidence_fields(touch, None),
                        date=touch.day.isoformat(),
                        reason=verdict.reason or "",
                    )
                )
    days = _client_days(
        frame,
        touchpoint_days=(
            touchpoint_days
            if all(day in touchpoint_days for day in counted)
            else set(touchpoint_days) | set(counted)
        ),
        exemptions=exemptions,
        win=win,
    )
    expected_days, done_days, pending, missed = (
        days.expected_days, days.done_days, days.pending, days.missed
    )  # fmt: skip
    iso = _iso_days(week)
    exempt = [{"date": iso[d], "reason": exemptions[d]} for d in days.exempt_days]
    weekly_expected, weekly_done, status = days.weekly_expected, days.weekly_done, days.status
    daily_expected = len(expected_days)
    return ClientKpi(
        slug=client.slug,
        name=client.name,
        daily=DailyPart(
            expected=daily_expected,
            done=len(done_days),
            missed=[iso[d] for d in missed],
            exempt=exempt,
            pending=[iso[d] for d in pending],
            evidence={
                iso[d]: [_evidence(t, slot_of.get(id(t))) for t in counted[d]]
                for d in done_days
                if d in counted
            }
            if evidence and counted
            else {},
            ignored=ignored,
        ),
        weekly_presentation=WeeklyPart(
            expected=weekly_expected,
            done=weekly_done,
            win=win,
            tangible=None if win is None else not win_is_activity,
            status=status,
        ),
        rate=days.rate,
        updates=UpdatesPart(
            expected=daily_expected,
            morning=_slot_part("morning", expected_days, slots, days.today, iso),
            eod=_slot_part("eod", expected_days, slots, days.today, iso),
        ),
    )


@lru_cache(maxsize=256)
def _week_calendar(
    week: IsoWeek, holiday_country: str, holiday_subdiv: str | None
) -> tuple[date, tuple[date, ...]]:
    """The week's Monday and its business days (Monday to Friday, public holidays excepted)."""
    hol = holidays_between(holiday_country, week.monday, week.sunday, holiday_subdiv)
    return week.monday, tuple(d for d in week.days() if d.weekday() < 5 and d not in hol)


# The week as seen from one timezone at one moment: today there, the Monday, the business days
# and those of them already begun.
WeekFrame = tuple[date, date, tuple[date, ...], tuple[date, ...]]


@lru_cache(maxsize=1024)
def week_frame(
    tz: ZoneInfo, week: IsoWeek, now: datetime, holiday_country: str, holiday_subdiv: str | None
) -> WeekFrame:
    """The week as seen from `tz` at `now`: today there, the Monday, the business days and
    those of them already begun. The same for every client in one timezone."""
    today = local_date(now, tz)
    monday, business = _week_calendar(week, holiday_country, holiday_subdiv)
    return today, monday, business, tuple(d for d in business if d <= today)


@dataclass(frozen=True)
class ClientDays:
    """One client's week in days — what the rate is made of, without the evidence."""

    today: date  # in the client's timezone
    expected_days: list[date]
    done_days: list[date]
    exempt_days: list[date]
    pending: list[date]
    missed: list[date]
    weekly_expected: int
    weekly_done: int
    status: WeeklyStatus

    @property
    def expected(self) -> int:
        return len(self.expected_days) + self.weekly_expected

    @property
    def done(self) -> int:
        return len(self.done_days) + self.weekly_done

    @property
    def rate(self) -> float | None:
        return rate(self.done, self.expected)


def client_days(
    tz: ZoneInfo,
    week: IsoWeek,
    now: datetime,
    *,
    holiday_country: str,
    holiday_subdiv: str | None,
    touchpoint_days: Collection[date],
    exemptions: Collection[date],
    win: str | None,
) -> ClientDays:
    """The days expected of a client in `week` and those done: `touchpoint_days` are its local
    dates with a touch that counts, `exemptions` the days not expected, `win` the week's win."""
    return _client_days(
        week_frame(tz, week, now, holiday_country, holiday_subdiv),
        touchpoint_days=touchpoint_days,
        exemptions=exemptions,
        win=win,
    )


def _client_days(
    frame: WeekFrame,
    *,
    touchpoint_days: Collection[date],
    exemptions: Collection[date],
    win: str | None,
) -> ClientDays:
    today, monday, business, working = frame
    if isinstance(touchpoint_days, DaySet):
        touchpoint_days = touchpoint_days.among(working)
    if exemptions:
        exempt = [d for d in working if d in exemptions]
        expected_days = [d for d in working if d not in exemptions]
        # The formal weekly presentation is expected once per week with any working day in it.
        whole_week_working: Sequence[date] = [d for d in business if d not in exemptions]
    else:
        exempt, expected_days, whole_week_working = [], list(working), business
    done_days = [d for d in expected_days if d in touchpoint_days]
    pending = [d for d in expected_days if d == today and d not in touchpoint_days]
    missed = [d for d in expected_days if d not in touchpoint_days and d != today]
    # Pending until the week's last business day has ended (a presentation can come on
    # Friday): only then is one not given a miss. One given earlier counts at once.
    presented = win is not None and bool(whole_week_working) and monday <= today
    last_day_ended = bool(whole_week_working) and today > max(whole_week_working)
    if presented:
        status: WeeklyStatus = "done"
    elif last_day_ended:
        status = "missed"
    elif whole_week_working and monday <= today:
        status = "pending"
    else:
        status = "not_expected"
    return ClientDays(
        today=today,
        expected_days=expected_days,
        done_days=done_days,
        exempt_days=exempt,
        pending=pending,
        missed=missed,
        weekly_expected=1 if presented or last_day_ended else 0,
        weekly_done=1 if presented else 0,
        status=status,
    )


def client_totals(
    tz: ZoneInfo,
    week: IsoWeek,
    now: datetime,
    *,
    holiday_country: str,
    holiday_subdiv: str | None,
    touchpoint_days: AbstractSet[date],
    exemptions: Collection[date],
    presented: bool,
) -> tuple[int, int]:
    """`client_days(...).expected` and `.done` — a client's week as two numbers (the chart's
    past weeks); `presented`: a win is recorded for the week. With `touchpoint_days` a
    `DaySet`, counted with bit operations, no day listed: the same rules as `client_days`,
    which answers any other set."""
    if isinstance(touchpoint_days, DaySet):
        bits = _week_bits(tz, week, now, holiday_country, holiday_subdiv, touchpoint_days.first)
        if bits is not None:
            return bits.totals(touchpoint_days.bits, exemptions, presented)
    days = client_days(
        tz,
        week,
        now,
        holiday_country=holiday_country,
        holiday_subdiv=holiday_subdiv,
        touchpoint_days=touchpoint_days,
        exemptions=exemptions,
        win="" if presented else None,  # it reads only whether there is one
    )
    return days.expected, days.done


@dataclass(frozen=True)
class _WeekBits:
    """`week_frame` as bits from `first`: the same for every client in one timezone."""

    first: date
    today: int  # today's bit: (today - first) in days
    begun: bool  # the week's Monday has come
    business: int
    working: int

    def totals(self, counted: int, exemptions: Collection[date], win: bool) -> tuple[int, int]:
        business, working = self.business, self.working
        if exemptions:
            exempt = day_mask(self.first, exemptions)
            business &= ~exempt
            working &= ~exempt
        # As `client_days`: the presentation counts once given in a begun week with a working
        # day; it is expected too once that week's last working day has ended (its bit is
        # below today's).
        presented = win and self.begun and business != 0
        ended = business != 0 and business.bit_length() <= self.today
        expected, done = working.bit_count(), (working & counted).bit_count()
        return expected + (presented or ended), done + presented


@lru_cache(maxsize=1024)
def _week_bits(
    tz: ZoneInfo,
    week: IsoWeek,
    now: datetime,
    holiday_country: str,
    holiday_subdiv: str | None,
    first: date,
) -> _WeekBits | None:
    """None: the week starts before `first` (its days have no bits)."""
    today, monday, business, working = week_frame(tz, week, now, holiday_country, holiday_subdiv)
    if monday < first:
        return None
    return _WeekBits(
        first,
        (today - first).days,
        monday <= today,
        day_mask(first, business),
        day_mask(first, working),
    )


def _slot_part(
    slot: UpdateSlot,
    days: Sequence[date],
    slots: dict[date, set[UpdateSlot]],
    today: date,
    iso: Mapping[date, str],
) -> SlotPart:
    done = [d for d in days if slot in slots.get(d, ())] if slots else []
    return SlotPart(
        done=len(done),
        missed=[iso[d] for d in days if d != today and d not in done],
        pending=[iso[today]] if today in days and today not in done else [],
    )


@lru_cache(maxsize=64)
def _iso_days(week: IsoWeek) -> dict[date, str]:
    """The week's days as ISO strings, written once per week rather than once per client."""
    return {d: d.isoformat() for d in week.days()}


def _evidence(touch: Touch, slot: UpdateSlot | None = None) -> EvidenceItem:
    return EvidenceItem(**_evidence_fields(touch, slot))


def _evidence_fields(touch: Touch, slot: UpdateSlot | None) -> dict[str, Any]:
    return {
        "kind": kind_of(touch),
        "update": slot,
        "by": touch.author_id,
        "at": touch.at.astimezone(UTC).isoformat(),
        "excerpt": touch.text,
        "permalink": permalink(touch.channel, touch.message_ts, touch.thread_ts),
        "link": touch.link,
    }


def _week_has_data(
    in_week: AbstractSet[date],
    touchpoint_days: Mapping[str, AbstractSet[date]],
    recorded: Iterable[AbstractSet[date]],
    exemptions: Mapping[str, Mapping[date, str]],
    wins: Collection[str],
) -> bool:
    """A week with anything recorded (a touch, counted or not, a win, an exemption) has data;
    one with nothing says "no data", never 0%."""
    return (
        any(days & in_week for days in touchpoint_days.values())
        or any(days & in_week for days in recorded)
        or bool(wins)
        or any(set(days) & in_week for days in exemptions.values())
    )


def _overall(csos: Sequence[CsoRate] | Sequence[CsoKpi], has_data: bool) -> Totals:
    expected = sum(c.expected for c in csos)
    done = sum(c.done for c in csos)
    return Totals(expected=expected, done=done, rate=rate(done, expected) if has_data else None)


def week_kpi(
    week: IsoWeek,
    now: datetime,
    *,
    people: Iterable[KpiPerson],
    clients: Iterable[KpiClient],
    holiday_country: str,
    holiday_subdiv: str | None = None,
    touchpoint_days: Mapping[str, AbstractSet[date]],
    exemptions: dict[str, dict[date, str]],
    wins: dict[str, str],
    touches: dict[str, list[Touch]] | None = None,
    kpi_settings: KpiSettings | None = None,
    activity_wins: Collection[str] = (),
    evidence: bool = True,
) -> WeekKpi:
    """The week's KPI. `activity_wins`: the clients whose win reads as a list of activity.
    A week in which nothing at all was recorded has no rate ("no data"), never 0 %.
    `evidence=False`: the same numbers without the counted touches listed."""
    # Something recorded in the week itself (never a neighbouring day read for the timezones).
    in_week = set(week.days())
    has_data = _week_has_data(
        in_week,
        touchpoint_days,
        [{t.day for t in items} for items in (touches or {}).values()],
        exemptions,
        wins,
    )
    names = {p.slack_id: p.name for p in people}
    by_cso: dict[str, list[ClientKpi]] = defaultdict(list)
    frames: dict[str, WeekFrame] = {}  # one per timezone
    touches = touches or {}
    for client in sorted(clients, key=lambda c: c.slug):
        frame = frames.get(client.timezone)
        if frame is None:
            frame = frames[client.timezone] = week_frame(
                ZoneInfo(client.timezone), week, now, holiday_country, holiday_subdiv
            )
        by_cso[client.cso].append(
            client_kpi(
                client,
                week,
                now,
                holiday_country=holiday_country,
                holiday_subdiv=holiday_subdiv,
                touchpoint_days=touchpoint_days.get(client.slug, frozenset()),
                exemptions=exemptions.get(client.slug, {}),
                win=wins.get(client.slug),
                touches=touches.get(client.slug, ()),
                kpi_settings=kpi_settings,
                win_is_activity=client.slug in activity_wins,
                evidence=evidence,
                frame=frame,
            )
        )
    csos: list[CsoKpi] = []
    for cso_id in sorted(by_cso, key=lambda s: (names.get(s, s), s)):
        items = by_cso[cso_id]
        expected = sum(c.daily.expected + c.weekly_presentation.expected for c in items)
        done = sum(c.daily.done + c.weekly_presentation.done for c in items)
        csos.append(
            CsoKpi(
                slack_id=cso_id,
                name=names.get(cso_id, cso_id),
                expected=expected,
                done=done,
                rate=rate(done, expected) if has_data else None,
                clients=items,
            )
        )
        if not has_data:
            for c in items:
                c.rate = None
    return WeekKpi(week=str(week), overall=_overall(csos, has_data), csos=csos, has_data=has_data)


@dataclass(frozen=True)
class CsoRate:
    slack_id: str
    name: str
    expected: int
    done: int
    rate: float | None


@dataclass(frozen=True)
class WeekRates:
    """A week's consistency per CSO and overall, without per-client detail: the chart's past
    weeks. The same numbers as `week_kpi` over the same inputs."""

    week: str
    overall: Totals
    csos: list[CsoRate]
    has_data: bool


def week_rates(
    week: IsoWeek,
    now: datetime,
    *,
    people: Iterable[KpiPerson],
    clients: Iterable[KpiClient],
    holiday_country: str,
    holiday_subdiv: str | None = None,
    touchpoint_days: Mapping[str, AbstractSet[date]],
    recorded_days: Mapping[str, AbstractSet[date]],
    exemptions: dict[str, dict[date, str]],
    wins: Collection[str],
) -> WeekRates:
    """The week's rates as `week_kpi` gives them. `touchpoint_days`: each client's local dates
    with a touch that counts; `recorded_days`: those with any team touch recorded (a week with
    only touches that don't count still has data); `wins`: the clients with a win recorded
    for the week."""
    in_week = set(week.days())
    has_data = _week_has_data(in_week, touchpoint_days, recorded_days.values(), exemptions, wins)
    names = {p.slack_id: p.name for p in people}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    frames: dict[tuple[str, date], _WeekBits | None] = {}  # one per timezone

    def frame(timezone: str, first: date) -> _WeekBits | None:
        key = (timezone, first)
        if key not in frames:
            frames[key] = _week_bits(
                ZoneInfo(timezone), week, now, holiday_country, holiday_subdiv, first
            )
        return frames[key]

    for client in clients:
        days = touchpoint_days.get(client.slug, frozenset())
        exempt, win = exemptions.get(client.slug, {}), client.slug in wins
        if isinstance(days, DaySet) and (bits := frame(client.timezone, days.first)):
            expected, done = bits.totals(days.bits, exempt, win)
        else:
            expected, done = client_totals(
                ZoneInfo(client.timezone), week, now, holiday_country=holiday_country,
                holiday_subdiv=holiday_subdiv, touchpoint_days=days, exemptions=exempt,
                presented=win,
            )  # fmt: skip
        total = totals[client.cso]
        total[0] += expected
        total[1] += done
    csos = [
        CsoRate(
            slack_id=cso_id,
            name=names.get(cso_id, cso_id),
            expected=expected,
            done=done,
            rate=rate(done, expected) if has_data else None,
        )
        for cso_id, (expected, done) in sorted(
            totals.items(), key=lambda item: (names.get(item[0], item[0]), item[0])
        )
    ]
    return WeekRates(week=str(week), overall=_overall(csos, has_data), csos=csos, has_data=has_data)
