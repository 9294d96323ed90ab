"""Load a week's records and compute Communication Consistency (no per-client queries)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.calendar import IsoWeek
from domain.kpi import KpiClient, KpiPerson, WeekKpi, week_kpi
from storage.models import Exemption, Touchpoint, Win
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
    return week_kpi(
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
