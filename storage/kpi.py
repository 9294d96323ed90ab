"""Load a week's records and compute Communication Consistency (no per-client queries)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.calendar import IsoWeek
from domain.kpi import CadenceRow, KpiClient, KpiPerson, WeekKpi, week_kpi
from storage.models import CadenceDone, Exemption, Nudge, OutOfOffice, Touchpoint, Win
from storage.portfolio import active_clients, client_timezone, organization, people_by_id


def load_week_kpi(session: Session, week: IsoWeek, now: datetime) -> WeekKpi:
    org = organization(session)
    people = people_by_id(session)
    clients = active_clients(session)
    by_id = {c.id: c for c in clients}
    # Local dates are stored per client timezone; a one-day margin covers every offset.
    start, end = week.monday - timedelta(days=1), week.sunday + timedelta(days=1)
    touch_days: dict[str, set[date]] = defaultdict(set)
    rows = session.execute(
        select(Touchpoint.client_id, Touchpoint.local_date)
        .where(Touchpoint.local_date.between(start, end))
        .distinct()
    )
    for client_id, day in rows:
        if client_id in by_id:
            touch_days[by_id[client_id].slug].add(day)
    exemptions: dict[str, dict[date, str]] = defaultdict(dict)
    for ex in session.scalars(select(Exemption).where(Exemption.day.between(start, end))):
        if ex.client_id in by_id:
            exemptions[by_id[ex.client_id].slug][ex.day] = ex.reason
    # A CSO's days out of office are not expected for their clients (`/cso ooo`).
    ooo = session.execute(
        select(OutOfOffice.person_id, OutOfOffice.start_day, OutOfOffice.end_day).where(
            OutOfOffice.cancelled_at.is_(None),
            OutOfOffice.start_day <= end,
            OutOfOffice.end_day >= start,
        )
    ).all()
    for person_id, first, last in ooo:
        for c in clients:
            if c.cso_id == person_id:
                for day in week.days():
                    if first <= day <= last:
                        exemptions[c.slug].setdefault(day, "out of office")
    wins: dict[str, str] = {}
    for win in session.scalars(
        select(Win).where(Win.iso_week == str(week)).order_by(Win.created_at)
    ):
        if win.client_id in by_id:
            wins.setdefault(by_id[win.client_id].slug, win.text)
    kpi_clients = [
        KpiClient(
            slug=c.slug, name=c.name, cso=c.cso_id, timezone=client_timezone(c, people, org).key
        )
        for c in clients
    ]
    kpi_people = [KpiPerson(slack_id=p.slack_id, name=p.name) for p in people.values()]
    kpi = week_kpi(
        week,
        now,
        people=kpi_people,
        clients=kpi_clients,
        holiday_country=org.holidays_country,
        holiday_subdiv=org.holidays_subdiv,
        touchpoint_days=dict(touch_days),
        exemptions=dict(exemptions),
        wins=wins,
    )
    cadence_by_person = cadence_rows(session, week, {c.id: c.slug for c in clients})
    for cso in kpi.csos:
        cso.cadences = cadence_by_person.get(cso.slack_id, [])
    return kpi


def cadence_rows(
    session: Session, week: IsoWeek, slugs: dict[int, str]
) -> dict[str, list[CadenceRow]]:
    """Click-closed cadences nudged to each person this week, with who closed them and when."""
    lo = datetime.combine(week.monday - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    hi = datetime.combine(week.sunday + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    nudges = session.scalars(
        select(Nudge)
        .where(
            Nudge.status.in_(("pending", "sending", "sent", "closed", "dropped")),
            Nudge.due_at.between(lo, hi),
        )
        .order_by(Nudge.due_at, Nudge.id)
    ).all()
    done = {
        d.key: d
        for d in session.scalars(
            select(CadenceDone).where(CadenceDone.done_at >= lo - timedelta(days=1))
        )
    }
    out: dict[str, list[CadenceRow]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for n in nudges:
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
