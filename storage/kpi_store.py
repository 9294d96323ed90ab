"""Communication Consistency for one week or many: the loaders `csobot kpi`, the digest and
its chart all read (no per-client queries; each table read once for all the weeks).

Whether a day is done comes from one set-based count shared by every caller (`touched_days`:
per client, its local days with a team touch recorded and with one that counts, one statement
over the index that covers it, each client's days one number). `load_kpi` adds the week's
touches themselves (the evidence, the touches that did not count, the morning updates and
recaps; the digest's week, without the evidence, only the last two); `load_week_rates` (the
chart's past weeks) needs only the counts.

Each week gets exactly the inputs it would get on its own — touchpoints, recorded exemptions
and wins of its days, its CSOs' out-of-office days, its click-closed cadences — so the chart's
past weeks equal `csobot kpi --week W --json` week by week.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from domain import records
from domain.calendar import DaySet, IsoWeek
from domain.kpi import (
    CadenceRow,
    KpiClient,
    KpiPerson,
    WeekKpi,
    WeekRates,
    exemptions_with_out_of_office,
    week_kpi,
    week_rates,
)
from domain.nudge import listed
from domain.touch_rules import (
    HUDDLE,
    UPDATE_SOURCES,
    KpiSettings,
    Touch,
    TouchRole,
    message_facts,
    role_of,
)
from storage.db import Transaction, id_list
from storage.models import (
    CadenceDone,
    Client,
    Exemption,
    Nudge,
    OutOfOffice,
    Touchpoint,
    Win,
)
from storage.org_settings_store import org_settings
from storage.portfolio_store import active_clients, client_timezone, organization, people_by_id

# Local dates are stored per client timezone; a one-day margin covers every offset.
MARGIN = timedelta(days=1)


def load_week_kpi(
    tx: Transaction, week: IsoWeek, now: datetime, *, evidence: bool = True
) -> WeekKpi:
    [kpi] = load_kpi(tx, [week], now, evidence=evidence)
    return kpi


def load_kpi(
    tx: Transaction, weeks: Sequence[IsoWeek], now: datetime, *, evidence: bool = True
) -> list[WeekKpi]:
    """The KPI of each week, in full, in the order given. `evidence=False`: the same numbers
    and the touches that did not count, without listing the evidence of those that did (a
    reader of the numbers, such as `csobot kpi`'s table)."""
    if not weeks:
        return []
    facts = _facts(tx, weeks)
    _add_counts(tx, facts)
    cadences = _cadence_nudges(tx, weeks)
    return [
        _week_kpi(facts, cadences, week, now, touches, evidence=evidence)
        for week, touches in _touches(tx, facts, evidence=evidence)
    ]


def load_week_rates(tx: Transaction, weeks: Sequence[IsoWeek], now: datetime) -> list[WeekRates]:
    """Each week's consistency per CSO and overall (the chart), from the counts alone: the
    same rates as `load_kpi`, without loading a touch."""
    if not weeks:
        return []
    facts = _facts(tx, weeks, texts=[])
    _add_counts(tx, facts)
    return [_week_rates(facts, week, now) for week in weeks]


def load_kpi_and_rates(
    tx: Transaction,
    week: IsoWeek,
    history: Sequence[IsoWeek],
    now: datetime,
    *,
    people: dict[str, records.Person] | None = None,
    clients: list[records.Client] | None = None,
    counts: Counts | None = None,
) -> tuple[WeekKpi, list[WeekRates]]:
    """`week` and the rates of the `history` weeks, every table read once: the digest (its
    week, and its chart's past weeks). The week has every number `load_kpi` gives it and the
    touches that did not count, but not the evidence of those that did (the digest shows
    counts; `csobot kpi` shows the evidence). `people` and `clients`: as `people_by_id` and
    `active_clients` read them in this transaction, when the caller has them already;
    `counts`: the count of these weeks, started earlier with `count_ahead`."""
    facts = _facts(tx, [*history, week], people, clients, texts=[week])
    if counts is None:
        _add_counts(tx, facts)  # measures the span's rows first: the touches below need them
    [(_, touches)] = _touches(tx, facts, [week], evidence=False)
    cadences = _cadence_nudges(tx, [week])
    if counts is not None:
        _add_counts(tx, facts, counts)  # counted apart meanwhile
    return _week_kpi(facts, cadences, week, now, touches, evidence=False), [
        _week_rates(facts, w, now) for w in history
    ]


# -- the counts -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TouchedDays:
    """A client's local days with a team touch recorded, and those with a touch that counts."""

    client_id: int
    recorded: DaySet
    counted: DaySet


def counts_rule(settings: KpiSettings) -> Any:
    """`domain.touch_rules.judge` as SQL over a touchpoint joined to its client: made by a role
    that counts (the client's team, each person in their first role) and logged off Slack, a
    huddle, or a message of at least `min_words` that is not an acknowledgement."""
    t, c = Touchpoint, Client
    roles = set(settings.touchpoint_roles)
    by = []
    if TouchRole.CSO in roles:
        by.append(t.author_id == c.cso_id)
    if TouchRole.SERVICE_LEAD in roles:
        by.append(and_(t.author_id == c.service_lead_id, t.author_id != c.cso_id))
    if TouchRole.ENGAGEMENT_PARTNER in roles:
        by.append(
            and_(
                t.author_id == c.engagement_partner_id,
                t.author_id != c.cso_id,
                or_(c.service_lead_id.is_(None), t.author_id != c.service_lead_id),
            )
        )
    substantive = or_(
        t.kind != "slack",
        t.source == HUDDLE,
        and_(t.words >= settings.min_words, t.acknowledgement.is_(False)),
    )
    return and_(or_(*by), substantive)


def last_counted(
    tx: Transaction, client_ids: Sequence[int], start: date, end: date, settings: KpiSettings
) -> dict[int, datetime]:
    """Per client, when its last touch that counts (from `start` to `end`) happened: one
    GROUP BY over the clients' days, judged by `counts_rule`."""
    if not client_ids:
        return {}
    _measure_unmeasured(tx, start, end)
    t = Touchpoint
    rows = tx.execute(
        select(t.client_id, func.max(t.occurred_at))
        .join(Client, Client.id == t.client_id)
        .where(
            t.client_id.in_(id_list(client_ids)),
            t.local_date.between(start, end),
            counts_rule(settings),
        )
        .group_by(t.client_id)
    )
    return {client_id: at for client_id, at in rows if at is not None}


# Days per bit mask: one BIGINT column holds up to 60 days (bit i: the i-th day of the span).
MASK_DAYS = 60


def touched_days(
    tx: Transaction, start: date, end: date, settings: KpiSettings, *, measured: bool = False
) -> list[TouchedDays]:
    """Per client, its days from `start` to `end` with a team touch recorded and those with a
    touch that counts, read as `DaySet`s (no date built per day): a GROUP BY day and client in
    the order of `ix_touchpoint_day_counts` (whether one of the day's touches counts), then a
    GROUP BY client adding each day's bit, so a row per client whatever the span.
    `measured`: the span's rows were measured already (`count_ahead`)."""
    if not measured:
        _measure_unmeasured(tx, start, end)
    t = Touchpoint
    days = (
        select(
            t.client_id.label("client_id"),
            _day_number(tx, start).label("n"),
            func.max(case((counts_rule(settings), 1), else_=0)).label("counted"),
        )
        .join(Client, Client.id == t.client_id)
        .where(t.local_date.between(start, end))
        .group_by(t.local_date, t.client_id)
        .subquery()
    )
    span = (end - start).days + 1
    columns = []
    for lo in range(0, span, MASK_DAYS):  # a BIGINT holds MASK_DAYS days
        hi = min(lo + MASK_DAYS, span) - 1
        bit = cast(literal(1), BigInteger).op("<<")(days.c.n - lo)
        columns.append(func.sum(case((days.c.n.between(lo, hi), bit))))
        columns.append(func.sum(case((and_(days.c.n.between(lo, hi), days.c.counted == 1), bit))))
    rows = tx.execute(select(days.c.client_id, *columns).group_by(days.c.client_id))
    out = []
    for client_id, *masks in rows:
        recorded = counted = 0
        for i in range(0, len(masks), 2):
            base = (i // 2) * MASK_DAYS
            recorded |= int(masks[i] or 0) << base
            counted |= int(masks[i + 1] or 0) << base
        out.append(TouchedDays(client_id, DaySet(start, recorded), DaySet(start, counted)))
    return out


class Counts:
    """`touched_days` over a span, started ahead of its use: on its own connection while the
    caller reads the rest (the database counts while Python works), or done at once where a
    second connection could not see the same rows."""

    def __init__(self, start: date, end: date, result: Callable[[], list[TouchedDays]]):
        self.start, self.end = start, end
        self._result = result

    def result(self) -> list[TouchedDays]:
        return self._result()


_ahead: ThreadPoolExecutor | None = None
_ahead_lock = threading.Lock()


def count_ahead(tx: Transaction, weeks: Sequence[IsoWeek]) -> Counts:
    """Start the count of `weeks` (as `load_kpi_and_rates` reads them) on a connection of its
    own, so the database counts while the caller loads everything else.

    The count reads what is committed; the caller's transaction only reads too. Rows written
    before their text facts are measured here first, in the caller's transaction: if there
    were any, the count runs in that transaction after them (it must judge them measured). An
    in-memory SQLite database is one connection's own: counted in the transaction too."""
    start = min(w.monday for w in weeks) - MARGIN
    end = max(w.sunday for w in weeks) + MARGIN
    settings = org_settings(tx).kpi
    bind = tx.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
    if _measure_unmeasured(tx, start, end) or memory:
        rows = touched_days(tx, start, end, settings, measured=True)
        return Counts(start, end, lambda: rows)
    global _ahead
    with _ahead_lock:
        if _ahead is None:
            _ahead = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kpi-count")
    future = _ahead.submit(_count_apart, engine, start, end, settings)
    return Counts(start, end, future.result)


def _count_apart(
    engine: Engine, start: date, end: date, settings: KpiSettings
) -> list[TouchedDays]:
    with Session(engine) as session, session.begin():
        return touched_days(session, start, end, settings, measured=True)


def _day_number(tx: Transaction, start: date) -> Any:
    """The touchpoint's local date as a day number from `start` (0: `start`)."""
    if tx.get_bind().dialect.name == "sqlite":
        days = func.julianday(Touchpoint.local_date) - func.julianday(start.isoformat())
        return cast(days, Integer)
    return Touchpoint.local_date - start


def _measure_unmeasured(tx: Transaction, start: date, end: date) -> int:
    """Rows written without their text facts (by a process older than the columns): measured now,
    so the counts judge them like any other."""
    t = Touchpoint
    rows = tx.execute(
        select(t.id, t.excerpt).where(t.local_date.between(start, end), t.cues.is_(None))
    ).all()  # over ix_touchpoint_unmeasured: nothing read when every row is measured
    if rows:
        params = []
        for row_id, text in rows:
            words, ack, cues = message_facts(text or "")
            params.append({"id": row_id, "words": words, "acknowledgement": ack, "cues": cues})
        tx.execute(update(Touchpoint), params)
    return len(rows)


# -- every week's inputs, read once ----------------------------------------------------------------
@dataclass
class _Facts:
    weeks: list[IsoWeek]
    org: records.Organization
    clients: list[records.Client]
    kpi_clients: list[KpiClient]
    kpi_people: list[KpiPerson]
    settings: KpiSettings
    start: date
    end: date
    counted: dict[str, DaySet] = field(default_factory=dict)
    recorded: dict[str, DaySet] = field(default_factory=dict)
    exempt: dict[date, list[tuple[str, str]]] = field(default_factory=dict)
    away: list[tuple[str, date, date]] = field(default_factory=list)
    wins: dict[str, dict[str, str]] = field(default_factory=dict)  # week: client: its win
    activity: dict[str, set[str]] = field(default_factory=dict)
    presented: dict[str, set[str]] = field(default_factory=dict)  # week: clients with a win


def _facts(
    tx: Transaction,
    weeks: Sequence[IsoWeek],
    people: dict[str, records.Person] | None = None,
    clients: list[records.Client] | None = None,
    *,
    texts: Sequence[IsoWeek] | None = None,
) -> _Facts:
    """Every week's inputs but the counts (`_add_counts`). `texts`: the weeks whose wins are
    read in full (all by default); of the others, only which clients presented one (the rates
    need no more)."""
    texts = weeks if texts is None else texts
    org = organization(tx)
    people = people_by_id(tx) if people is None else people
    clients = active_clients(tx) if clients is None else clients
    by_id = {c.id: c for c in clients}
    start = min(w.monday for w in weeks) - MARGIN
    end = max(w.sunday for w in weeks) + MARGIN
    settings = org_settings(tx).kpi
    facts = _Facts(
        weeks=list(weeks),
        org=org,
        clients=clients,
        kpi_clients=[
            KpiClient(
                slug=c.slug,
                name=c.name,
                cso=c.cso_id,
                timezone=client_timezone(c, people, org).key,
                team={p: role for p in c.team_ids() if (role := role_of(c, p)) is not None},
            )
            for c in clients
        ],
        kpi_people=[KpiPerson(slack_id=p.slack_id, name=p.name) for p in people.values()],
        settings=settings,
        start=start,
        end=end,
    )
    exempt: dict[date, list[tuple[str, str]]] = defaultdict(list)
    for client_id, day, reason in tx.execute(
        select(Exemption.client_id, Exemption.day, Exemption.reason).where(
            Exemption.day.between(start, end)
        )
    ):
        if client_id in by_id:
            exempt[day].append((by_id[client_id].slug, reason))
    facts.exempt = dict(exempt)
    facts.away = [
        (p, first, last)
        for p, first, last in tx.execute(
            select(OutOfOffice.person_id, OutOfOffice.start_day, OutOfOffice.end_day).where(
                OutOfOffice.cancelled_at.is_(None),
                OutOfOffice.start_day <= end,
                OutOfOffice.end_day >= start,
            )
        )
    ]
    # The week's win: its first tangible one, else its first (an activity list).
    wins: dict[str, dict[str, str]] = defaultdict(dict)
    activity: dict[str, set[str]] = defaultdict(set)
    for client_id, iso_week, text, activity_list in tx.execute(
        select(Win.client_id, Win.iso_week, Win.text, Win.activity_list)
        .where(Win.iso_week.in_([str(w) for w in texts]))
        .order_by(Win.created_at, Win.id)
    ):
        if client_id not in by_id:
            continue
        slug = by_id[client_id].slug
        if slug not in wins[iso_week] or (slug in activity[iso_week] and not activity_list):
            wins[iso_week][slug] = text
            if activity_list:
                activity[iso_week].add(slug)
            else:
                activity[iso_week].discard(slug)
    facts.wins, facts.activity = dict(wins), dict(activity)
    others = {str(w) for w in weeks} - {str(w) for w in texts}
    presented: dict[str, set[str]] = defaultdict(set)
    if others:
        for client_id, iso_week in tx.execute(
            select(Win.client_id, Win.iso_week).where(Win.iso_week.in_(sorted(others))).distinct()
        ):  # over ix_win_week
            if client_id in by_id:
                presented[iso_week].add(by_id[client_id].slug)
    for iso_week, slugs in wins.items():
        presented[iso_week] = set(slugs)
    facts.presented = dict(presented)
    return facts


def _add_counts(tx: Transaction, facts: _Facts, counts: Counts | None = None) -> None:
    """Each client's days recorded and counted over the facts' span (measuring the span's
    unmeasured rows first), or those of `counts`, started ahead."""
    if counts is not None and (counts.start, counts.end) != (facts.start, facts.end):
        raise ValueError("the count started ahead covers other weeks")
    rows = (
        counts.result()
        if counts is not None
        else touched_days(tx, facts.start, facts.end, facts.settings)
    )
    slugs = {c.id: c.slug for c in facts.clients}
    for row in rows:
        slug = slugs.get(row.client_id)
        if slug is not None:
            facts.recorded[slug] = row.recorded
            facts.counted[slug] = row.counted


def _exemptions(facts: _Facts, week: IsoWeek) -> dict[str, dict[date, str]]:
    lo, hi = week.monday - MARGIN, week.sunday + MARGIN
    recorded: dict[str, dict[date, str]] = defaultdict(dict)
    for i in range((hi - lo).days + 1):
        day = lo + timedelta(days=i)
        for slug, reason in facts.exempt.get(day, ()):
            recorded[slug][day] = reason
    return exemptions_with_out_of_office(
        week,
        dict(recorded),
        [(p, first, last) for p, first, last in facts.away if first <= hi and last >= lo],
        facts.kpi_clients,
    )


def _week_rates(facts: _Facts, week: IsoWeek, now: datetime) -> WeekRates:
    return week_rates(
        week,
        now,
        people=facts.kpi_people,
        clients=facts.kpi_clients,
        holiday_country=facts.org.holidays_country,
        holiday_subdiv=facts.org.holidays_subdiv,
        touchpoint_days=facts.counted,
        recorded_days=facts.recorded,
        exemptions=_exemptions(facts, week),
        wins=facts.presented.get(str(week), set()),
    )


def _touches(
    tx: Transaction,
    facts: _Facts,
    weeks: Sequence[IsoWeek] | None = None,
    *,
    evidence: bool = True,
) -> list[tuple[IsoWeek, dict[str, list[Touch]]]]:
    """The team touches of each week's days (and a day either side), by client: evidence.
    `evidence=False`: only those the numbers need beyond the counts of `touched_days` — the
    touches that do not count (listed with their reason), and those that can be the day's
    morning update or recap (sent with /update, or reading like one)."""
    weeks = facts.weeks if weeks is None else list(weeks)
    start = min(w.monday for w in weeks) - MARGIN
    end = max(w.sunday for w in weeks) + MARGIN
    slugs = {c.id: c.slug for c in facts.clients}
    t = Touchpoint
    query = select(
        t.client_id, t.kind, t.source, t.author_id, t.occurred_at, t.local_date, t.excerpt,
        t.link, t.channel, t.message_ts, t.thread_ts, t.words, t.acknowledgement, t.cues,
    ).where(t.local_date.between(start, end))  # fmt: skip
    if not evidence:  # rows unmeasured before were measured with `facts` (their span holds these)
        query = query.join(Client, Client.id == t.client_id).where(
            or_(
                case((counts_rule(facts.settings), False), else_=True),  # NULL: does not count
                t.source.in_(UPDATE_SOURCES),
                t.cues > 0,
            )
        )
    by_day: dict[date, list[tuple[str, Touch]]] = defaultdict(list)
    for row in tx.execute(query):
        cid, kind, source, author, at, day, text, link, channel, ts, thread, n, ack, cue = row
        if cid in slugs:
            touch = Touch(
                kind, source, author, at, day, text, link, channel, ts, thread, n, ack, cue
            )
            by_day[day].append((slugs[cid], touch))
    out = []
    for week in weeks:
        lo, hi = week.monday - MARGIN, week.sunday + MARGIN
        touches: dict[str, list[Touch]] = defaultdict(list)
        for i in range((hi - lo).days + 1):
            for slug, touch in by_day.get(lo + timedelta(days=i), ()):
                touches[slug].append(touch)
        out.append((week, dict(touches)))
    return out


def _week_kpi(
    facts: _Facts,
    cadences: _Cadences,
    week: IsoWeek,
    now: datetime,
    touches: dict[str, list[Touch]],
    *,
    evidence: bool = True,
) -> WeekKpi:
    kpi = week_kpi(
        week,
        now,
        people=facts.kpi_people,
        clients=facts.kpi_clients,
        holiday_country=facts.org.holidays_country,
        holiday_subdiv=facts.org.holidays_subdiv,
        touchpoint_days=facts.counted,
        touches=touches,
        kpi_settings=facts.settings,
        exemptions=_exemptions(facts, week),
        wins=dict(facts.wins.get(str(week), {})),
        activity_wins=facts.activity.get(str(week), set()),
        evidence=evidence,
    )
    by_person = _cadence_rows(cadences, week, {c.id: c.slug for c in facts.clients})
    for cso in kpi.csos:
        cso.cadences = by_person.get(cso.slack_id, [])
    return kpi


# -- click-closed cadences ------------------------------------------------------------------------
def _bounds(week: IsoWeek) -> tuple[datetime, datetime]:
    lo = datetime.combine(week.monday - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    hi = datetime.combine(week.sunday + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    return lo, hi


class _Cadences:
    def __init__(self, nudges: list[Nudge], done: list[CadenceDone]):
        self.nudges = nudges
        self.done = done


def _cadence_nudges(tx: Transaction, weeks: Sequence[IsoWeek]) -> _Cadences:
    lo = min(_bounds(w)[0] for w in weeks)
    hi = max(_bounds(w)[1] for w in weeks)
    nudges = tx.scalars(
        select(Nudge)
        .where(
            Nudge.status.in_(("pending", "sending", "sent", "closed", "dropped")),
            Nudge.due_at.between(lo, hi),
        )
        .order_by(Nudge.due_at, Nudge.id)
    ).all()
    done = tx.scalars(select(CadenceDone).where(CadenceDone.done_at >= lo - timedelta(days=1)))
    return _Cadences(list(nudges), list(done))


def _cadence_rows(
    cadences: _Cadences, week: IsoWeek, slugs: dict[int, str]
) -> dict[str, list[CadenceRow]]:
    """Click-closed cadences nudged to each person in `week`, with who closed them and when."""
    lo, hi = _bounds(week)
    done = {d.key: d for d in cadences.done if d.done_at >= lo - timedelta(days=1)}
    out: dict[str, list[CadenceRow]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for n in cadences.nudges:
        if not lo <= n.due_at <= hi:
            continue
        data = n.data or {}
        day = str(data.get("day", ""))
        if data.get("closes") != "click" or not n.person_id or not day:
            continue
        if not week.monday.isoformat() <= day <= week.sunday.isoformat():
            continue
        # A checklist counts once per client it lists, as the clients' own reminders do.
        subjects: list[int | None] = [int(c["id"]) for c in listed(data)] or [n.client_id]
        for client_id in subjects:
            subject = f"c{client_id}" if client_id is not None else f"p{n.person_id}"
            key = f"{n.cadence_id}:{subject}:{n.period}"
            if (n.person_id, key) in seen:
                continue  # a snoozed copy of the same occurrence
            seen.add((n.person_id, key))
            d = done.get(key)
            out[n.person_id].append(
                CadenceRow(
                    cadence=n.cadence_id,
                    title=str(data.get("title", n.cadence_id)),
                    client=slugs.get(client_id) if client_id is not None else None,
                    day=day,
                    period=n.period,
                    done=d is not None,
                    done_by=d.done_by if d else None,
                    done_at=d.done_at.isoformat() if d else None,
                )
            )
    return dict(out)
