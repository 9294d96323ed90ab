"""Communication Consistency for one week or many: the one loader `csobot kpi`, the digest and
its chart all read (no per-client queries; each table read once for all the weeks).

Each week gets exactly the inputs it would get on its own — touchpoints, recorded exemptions
and wins of its days, its CSOs' out-of-office days, its click-closed cadences — so the chart's
past weeks equal `csobot kpi --week W --json` week by week.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from domain.calendar import IsoWeek
from domain.kpi import (
    CadenceRow,
    KpiClient,
    KpiPerson,
    WeekKpi,
    exemptions_with_out_of_office,
    week_kpi,
)
from domain.touch_rules import Touch, role_of
from storage.db import Transaction
from storage.models import CadenceDone, Exemption, Nudge, OutOfOffice, Touchpoint, Win
from storage.org_settings_store import org_settings
from storage.portfolio_store import active_clients, client_timezone, organization, people_by_id

# Local dates are stored per client timezone; a one-day margin covers every offset.
MARGIN = timedelta(days=1)


def load_week_kpi(tx: Transaction, week: IsoWeek, now: datetime) -> WeekKpi:
    [kpi] = load_kpi(tx, [week], now)
    return kpi


def load_kpi(tx: Transaction, weeks: Sequence[IsoWeek], now: datetime) -> list[WeekKpi]:
    """The KPI of each week, in the order given."""
    if not weeks:
        return []
    org = organization(tx)
    people = people_by_id(tx)
    clients = active_clients(tx)
    by_id = {c.id: c for c in clients}
    start = min(w.monday for w in weeks) - MARGIN
    end = max(w.sunday for w in weeks) + MARGIN

    touched: dict[date, list[tuple[str, Touch]]] = defaultdict(list)
    for t in tx.scalars(select(Touchpoint).where(Touchpoint.local_date.between(start, end))):
        if t.client_id in by_id:
            touched[t.local_date].append((by_id[t.client_id].slug, _touch(t)))
    exempt: dict[date, list[tuple[str, str]]] = defaultdict(list)
    for ex in tx.scalars(select(Exemption).where(Exemption.day.between(start, end))):
        if ex.client_id in by_id:
            exempt[ex.day].append((by_id[ex.client_id].slug, ex.reason))
    away = tx.execute(
        select(OutOfOffice.person_id, OutOfOffice.start_day, OutOfOffice.end_day).where(
            OutOfOffice.cancelled_at.is_(None),
            OutOfOffice.start_day <= end,
            OutOfOffice.end_day >= start,
        )
    ).all()
    # The week's win: its first tangible one, else its first (an activity list).
    wins: dict[str, dict[str, str]] = defaultdict(dict)
    activity: dict[str, set[str]] = defaultdict(set)
    for client_id, iso_week, text, activity_list in tx.execute(
        select(Win.client_id, Win.iso_week, Win.text, Win.activity_list)
        .where(Win.iso_week.in_([str(w) for w in weeks]))
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
    cadences = _cadence_nudges(tx, weeks)

    kpi_clients = [
        KpiClient(
            slug=c.slug,
            name=c.name,
            cso=c.cso_id,
            timezone=client_timezone(c, people, org).key,
            team={p: role for p in c.team_ids() if (role := role_of(c, p)) is not None},
        )
        for c in clients
    ]
    kpi_settings = org_settings(tx).kpi
    kpi_people = [KpiPerson(slack_id=p.slack_id, name=p.name) for p in people.values()]
    slugs = {c.id: c.slug for c in clients}
    out = []
    for week in weeks:
        lo, hi = week.monday - MARGIN, week.sunday + MARGIN
        touches: dict[str, list[Touch]] = defaultdict(list)
        recorded: dict[str, dict[date, str]] = defaultdict(dict)
        for i in range((hi - lo).days + 1):
            day = lo + timedelta(days=i)
            for slug, touch in touched.get(day, ()):
                touches[slug].append(touch)
            for slug, reason in exempt.get(day, ()):
                recorded[slug][day] = reason
        kpi = week_kpi(
            week,
            now,
            people=kpi_people,
            clients=kpi_clients,
            holiday_country=org.holidays_country,
            holiday_subdiv=org.holidays_subdiv,
            touchpoint_days={},
            touches=dict(touches),
            kpi_settings=kpi_settings,
            exemptions=exemptions_with_out_of_office(
                week,
                dict(recorded),
                [(p, first, last) for p, first, last in away if first <= hi and last >= lo],
                kpi_clients,
            ),
            wins=dict(wins.get(str(week), {})),
            activity_wins=activity.get(str(week), set()),
        )
        by_person = _cadence_rows(cadences, week, slugs)
        for cso in kpi.csos:
            cso.cadences = by_person.get(cso.slack_id, [])
        out.append(kpi)
    return out


def _touch(t: Touchpoint) -> Touch:
    return Touch(
        kind=t.kind,
        source=t.source,
        author_id=t.author_id,
        at=t.occurred_at,
        day=t.local_date,
        text=t.excerpt,
        link=t.link,
        channel=t.channel,
        message_ts=t.message_ts,
        thread_ts=t.thread_ts,
    )


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
        subject = f"c{n.client_id}" if n.client_id is not None else f"p{n.person_id}"
        key = f"{n.cadence_id}:{subject}:{n.period}"
        if (n.person_id, key) in seen:
            continue  # a snoozed copy of the same occurrence
        seen.add((n.person_id, key))
        d = done.get(key)
        out[n.person_id].append(
            CadenceRow(
                cadence=n.cadence_id,
                title=str(data.get("title", n.cadence_id)),
                client=slugs.get(n.client_id) if n.client_id is not None else None,
                day=day,
                period=n.period,
                done=d is not None,
                done_by=d.done_by if d else None,
                done_at=d.done_at.isoformat() if d else None,
            )
        )
    return dict(out)
