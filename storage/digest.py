"""Load the leadership digest: the KPI (from `load_week_kpi`, so it matches `csobot kpi --json`)
and one section per provider.

A provider names the tables it reads. A table that does not exist yet — the health board,
client-channel flags, the expansion pipeline are built on other branches — makes its section
"not tracked yet" with a line saying so; nothing is guessed. The loaders for those features
(`load_health_records`, `load_open_flags`, `load_expansion_pipeline`, `load_nps_scores`,
`load_active_plans`, `load_renewal_outcomes`) reflect the table and check the columns they use,
so wiring them after a merge is a matter of adjusting one function each.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import MetaData, Table, false, inspect, select
from sqlalchemy.orm import Session

from domain import records
from domain.calendar import IsoWeek
from domain.digest import CADENCE_ID as DIGEST_CADENCE
from domain.digest import (
    Digest,
    DigestSettings,
    EscalationRecord,
    FlagRecord,
    HealthRecord,
    RenewalRecord,
    Section,
    band_counts,
    build_digest,
    chart_data,
    escalations_section,
    expansion_section,
    flags_section,
    health_section,
    nps_section,
    parse_settings,
    record_gaps_section,
    renewals_section,
)
from domain.kpi import KpiClient, KpiPerson, WeekKpi, week_kpi
from domain.portfolio import LEADERSHIP_ROLES
from storage.expansion_store import expansion_rows
from storage.kpi import load_week_kpi
from storage.models import Exemption, Nudge, Touchpoint, Win
from storage.portfolio import active_clients, client_timezone, organization, people_by_id
from storage.status import rate_limited_minutes

logger = logging.getLogger(__name__)

HEALTH_WINDOW_DAYS = 180


class SchemaMismatch(Exception):
    """A feature's table exists but lacks a column this loader reads."""


@dataclass
class DigestContext:
    session: Session
    week: IsoWeek
    now: datetime
    settings: DigestSettings
    org: records.Organization
    people: dict[str, records.Person]
    clients: list[records.Client]
    _tables: dict[str, bool] = field(default_factory=dict)
    _health: list[HealthRecord] | None = None
    _health_loaded: bool = False

    @property
    def week_end(self) -> date:
        return self.week.sunday

    @property
    def day_after(self) -> date:
        """The Monday after the week: "the next 120 days" count from here."""
        return self.week.sunday + timedelta(days=1)

    def end_instant(self) -> datetime:
        return datetime.combine(self.day_after, time(0), tzinfo=UTC)

    def cso_name(self, slack_id: str) -> str:
        p = self.people.get(slack_id)
        return p.name if p else slack_id

    def has_table(self, name: str) -> bool:
        if name not in self._tables:
            self._tables[name] = inspect(self.session.connection()).has_table(name)
        return self._tables[name]

    def table(self, name: str, *columns: str) -> Table:
        table = Table(name, MetaData(), autoload_with=self.session.connection())
        missing = [c for c in columns if c not in table.c]
        if missing:
            raise SchemaMismatch(f"table {name} has no column {', '.join(missing)}")
        return table

    def health(self) -> list[HealthRecord] | None:
        if not self._health_loaded:
            self._health = load_health_records(self) if self.has_table("health_snapshot") else None
            self._health_loaded = True
        return self._health


# -- loaders for other features' tables (wire after merging) --------------------------------------
def load_health_records(ctx: DigestContext) -> list[HealthRecord]:
    """Issue 5's `health_snapshot` (client_id, day, score, band): each client's scores over
    the last 180 days up to the week's end, with its intervention-plan status."""
    t = ctx.table("health_snapshot", "client_id", "day", "score", "band")
    start = ctx.week_end - timedelta(days=HEALTH_WINDOW_DAYS)
    rows = ctx.session.execute(
        select(t.c.client_id, t.c.day, t.c.score, t.c.band)
        .where(t.c.day.between(start, ctx.week_end))
        .order_by(t.c.client_id, t.c.day)
    )
    by_client: dict[int, list[tuple[date, float, str]]] = {}
    for client_id, day, score, band in rows:
        by_client.setdefault(client_id, []).append((day, float(score), str(band)))
    plans = load_active_plans(ctx)
    out = []
    for c in ctx.clients:
        if c.id in by_client:
            out.append(
                HealthRecord(
                    client=c.name,
                    cso=ctx.cso_name(c.cso_id),
                    history=by_client[c.id],
                    active_plan=None if plans is None else c.id in plans,
                )
            )
    return out


def load_active_plans(ctx: DigestContext) -> set[int] | None:
    """Issue 5's `playbook_run` (client_id, status): clients with an active intervention plan.
    None when plans are not tracked."""
    if not ctx.has_table("playbook_run"):
        return None
    try:
        t = ctx.table("playbook_run", "client_id", "status")
    except SchemaMismatch as exc:
        logger.warning("digest: intervention plans not read (%s)", exc)
        return None
    return set(ctx.session.scalars(select(t.c.client_id).where(t.c.status == "active")))


def load_open_flags(ctx: DigestContext) -> list[FlagRecord]:
    """Issue 4's `flag` (client_id, kind, created_at, and `decision` or `status`): flags
    raised up to the week's end with no decision yet."""
    t = ctx.table("flag", "client_id", "kind", "created_at")
    query = select(t.c.client_id, t.c.kind, t.c.created_at).where(
        t.c.created_at < ctx.end_instant()
    )
    if "status" in t.c:  # issue 4: suggested -> open -> decided | withdrawn
        query = query.where(t.c.status == "open")
    elif "decision" in t.c:
        query = query.where(t.c.decision.is_(None))
    else:
        raise SchemaMismatch("table flag has neither a decision nor a status column")
    if "excerpt" in t.c:
        query = query.add_columns(t.c.excerpt)
    names = {c.id: c.name for c in ctx.clients}
    out = []
    for row in ctx.session.execute(query):
        values: tuple[Any, ...] = tuple(row)
        if values[0] not in names:
            continue
        created = values[2]
        opened = (
            created.date() if isinstance(created, datetime) else date.fromisoformat(created[:10])
        )
        out.append(
            FlagRecord(
                client=names[values[0]],
                kind=str(values[1]),
                opened=opened,
                excerpt=str(values[3]) if len(values) > 3 and values[3] else "",
            )
        )
    return out


def load_renewal_outcomes(ctx: DigestContext) -> dict[tuple[int, date], str]:
    """Issue 5's `renewal_outcome` (client_id, contract_end, outcome). Empty when untracked."""
    if not ctx.has_table("renewal_outcome"):
        return {}
    t = ctx.table("renewal_outcome", "client_id", "contract_end", "outcome")
    return {
        (cid, end): str(outcome)
        for cid, end, outcome in ctx.session.execute(
            select(t.c.client_id, t.c.contract_end, t.c.outcome)
        )
    }


def load_expansion_pipeline(ctx: DigestContext) -> float:
    """The expansion pipeline's estimated value at the week's end: the same rows as
    `csobot expansion` (seed 004's signal table, Green-for-60-days guardrail)."""
    ids = {c.slug for c in ctx.clients}
    rows, _arr = expansion_rows(ctx.session, ctx.end_instant())
    return float(sum(r.estimated_value for r in rows if r.in_pipeline and r.slug in ids))


def load_nps_scores(ctx: DigestContext) -> list[int]:
    """Issue 5's `nps_response` (client_id, score, recorded_at) in the NPS window."""
    t = ctx.table("nps_response", "client_id", "score", "recorded_at")
    start = ctx.end_instant() - timedelta(days=ctx.settings.nps_window_days)
    ids = {c.id for c in ctx.clients}
    rows = ctx.session.execute(
        select(t.c.client_id, t.c.score).where(
            t.c.recorded_at >= start, t.c.recorded_at < ctx.end_instant()
        )
    )
    return [int(score) for cid, score in rows if cid in ids]


# -- the sections --------------------------------------------------------------------------------
def _health(ctx: DigestContext) -> Section:
    records = ctx.health() or []
    return health_section(records, ctx.week, ctx.settings)


def _flags(ctx: DigestContext) -> Section:
    return flags_section(load_open_flags(ctx), ctx.week_end, ctx.settings)


def _renewals(ctx: DigestContext) -> Section:
    outcomes = load_renewal_outcomes(ctx)
    bands: dict[str, str] = {}
    for r in ctx.health() or []:
        if r.history:
            bands[r.client] = r.history[-1][2]
    records = [
        RenewalRecord(
            client=c.name,
            cso=ctx.cso_name(c.cso_id),
            contract_end=c.contract_end,
            arr=c.arr,
            band=bands.get(c.name),
            outcome=outcomes.get((c.id, c.contract_end)),
        )
        for c in ctx.clients
        if c.contract_end is not None
        and 0 <= (c.contract_end - ctx.day_after).days <= ctx.settings.renewal_window_days
    ]
    return renewals_section(records, ctx.day_after, ctx.settings)


def _expansion(ctx: DigestContext) -> Section:
    if not ctx.health():
        # No health scores yet: the guardrail (Green for 60 days) can't be judged, so say so
        # rather than showing an empty pipeline as 0%.
        return Section(
            id="expansion",
            title="Expansion pipeline",
            status="no_data",
            summary="No health scores yet: expansion needs 60 days of Green first.",
        )
    return expansion_section(load_expansion_pipeline(ctx), sum(c.arr for c in ctx.clients))


def _nps(ctx: DigestContext) -> Section:
    return nps_section(load_nps_scores(ctx), ctx.settings)


def _gaps(ctx: DigestContext) -> Section:
    tz = ZoneInfo(ctx.org.timezone or "UTC")
    start = datetime.combine(ctx.week.monday, time(0), tzinfo=tz)
    minutes = rate_limited_minutes(ctx.session, start, start + timedelta(days=7))
    return record_gaps_section(minutes, tz)


def _escalations(ctx: DigestContext) -> Section:
    """Nudges the outbox sent to a head_of_delivery or founder in the week's month (up to the
    week's end) — whatever feature raised them. Those not closed yet are still open."""
    leaders = {p.slack_id: p for p in ctx.people.values() if p.role in LEADERSHIP_ROLES}
    month_start = ctx.week_end.replace(day=1)
    start = datetime.combine(month_start, time(0), tzinfo=UTC)
    names = {c.id: c.name for c in ctx.clients}
    rows = ctx.session.scalars(
        select(Nudge).where(
            Nudge.cadence_id != DIGEST_CADENCE,
            Nudge.sent_at >= start,
            Nudge.sent_at < ctx.end_instant(),
            Nudge.status.in_(("sent", "closed")),
            (Nudge.person_id.in_(leaders) | Nudge.target.in_(leaders)) if leaders else false(),
        )
    )
    records = []
    for n in rows:
        who = leaders.get(n.person_id or "") or leaders.get(n.target)
        if who is None or n.sent_at is None:
            continue
        what = n.cadence_id.replace("_", " ").replace("-", " ")
        if n.client_id in names:
            what += f" — {names[n.client_id]}"
        records.append(
            EscalationRecord(
                to=who.name, role=who.role, sent=n.sent_at, what=what, open=n.status == "sent"
            )
        )
    return escalations_section(records, month_start.strftime("%B %Y"))


@dataclass(frozen=True)
class Provider:
    id: str
    title: str
    tables: tuple[str, ...]
    load: Callable[[DigestContext], Section]
    missing: str  # what the "not tracked yet" line says


PROVIDERS: list[Provider] = [
    Provider(
        "health",
        "Health bands",
        ("health_snapshot",),
        _health,
        "health scores arrive with the Internal Health Board",
    ),
    Provider(
        "flags", "Open flags", ("flag",), _flags, "flags arrive with client-channel flag reactions"
    ),
    Provider("renewals", "Renewals", ("client",), _renewals, "no contract end dates"),
    Provider(
        "expansion",
        "Expansion pipeline",
        ("health_snapshot",),
        _expansion,
        "the expansion pipeline needs health scores (Green for 60 days) first",
    ),
    Provider("nps", "NPS", ("nps_response",), _nps, "NPS answers are not recorded yet"),
    Provider(
        "escalations",
        "Escalations to leadership",
        ("nudge",),
        _escalations,
        "escalations go through the outbox",
    ),
    Provider(
        "gaps",
        "Record gaps",
        ("service_status",),
        _gaps,
        "Slack's dropped-event notices are not recorded yet",
    ),
]


def load_sections(ctx: DigestContext, providers: list[Provider] | None = None) -> list[Section]:
    sections = []
    for p in PROVIDERS if providers is None else providers:
        missing = [t for t in p.tables if not ctx.has_table(t)]
        if missing:
            sections.append(Section.not_tracked(p.id, p.title, f"Not tracked yet — {p.missing}."))
            continue
        try:
            sections.append(p.load(ctx))
        except SchemaMismatch as exc:
            logger.warning("digest section %s left out: %s", p.id, exc)
            sections.append(
                Section.not_tracked(
                    p.id, p.title, f"Not tracked yet — its data is unreadable ({exc})."
                )
            )
    return sections


def load_weeks_kpi(session: Session, weeks: list[IsoWeek], now: datetime) -> list[WeekKpi]:
    """`load_week_kpi` for several weeks with one read of each table (the chart's history).

    Same inputs, week by week, to the same `domain.kpi.week_kpi`: the result equals calling
    `load_week_kpi` for each week (a test holds it to that)."""
    if not weeks:
        return []
    org = organization(session)
    people = people_by_id(session)
    clients = active_clients(session)
    by_id = {c.id: c for c in clients}
    start = min(w.monday for w in weeks) - timedelta(days=1)
    end = max(w.sunday for w in weeks) + timedelta(days=1)
    touched: dict[date, list[str]] = defaultdict(list)
    for client_id, day in session.execute(
        select(Touchpoint.client_id, Touchpoint.local_date)
        .where(Touchpoint.local_date.between(start, end))
        .distinct()
    ):
        if client_id in by_id:
            touched[day].append(by_id[client_id].slug)
    exempt_rows: dict[date, list[tuple[str, str]]] = defaultdict(list)
    for ex in session.scalars(select(Exemption).where(Exemption.day.between(start, end))):
        if ex.client_id in by_id:
            exempt_rows[ex.day].append((by_id[ex.client_id].slug, ex.reason))
    wins_by_week: dict[str, dict[str, str]] = defaultdict(dict)
    names = [str(w) for w in weeks]
    for client_id, iso_week, text_ in session.execute(
        select(Win.client_id, Win.iso_week, Win.text)
        .where(Win.iso_week.in_(names))
        .order_by(Win.created_at)
    ):
        if client_id in by_id:
            wins_by_week[iso_week].setdefault(by_id[client_id].slug, text_)
    kpi_clients = [
        KpiClient(
            slug=c.slug, name=c.name, cso=c.cso_id, timezone=client_timezone(c, people, org).key
        )
        for c in clients
    ]
    kpi_people = [KpiPerson(slack_id=p.slack_id, name=p.name) for p in people.values()]
    out = []
    for w in weeks:
        days = [w.monday + timedelta(days=i) for i in range(-1, 8)]
        touch_days: dict[str, set[date]] = defaultdict(set)
        exemptions: dict[str, dict[date, str]] = defaultdict(dict)
        for d in days:
            for slug in touched.get(d, ()):
                touch_days[slug].add(d)
            for slug, reason in exempt_rows.get(d, ()):
                exemptions[slug][d] = reason
        out.append(
            week_kpi(
                w,
                now,
                people=kpi_people,
                clients=kpi_clients,
                holiday_country=org.holidays_country,
                holiday_subdiv=org.holidays_subdiv,
                touchpoint_days=dict(touch_days),
                exemptions=dict(exemptions),
                wins=dict(wins_by_week.get(str(w), {})),
            )
        )
    return out


def band_mix(ctx: DigestContext, weeks: list[IsoWeek]) -> list[dict[str, int]] | None:
    records = ctx.health()
    if not records:
        return None
    return [band_counts(records, w.sunday) for w in weeks]


def load_digest(
    session: Session, week: IsoWeek, now: datetime, settings: DigestSettings | None = None
) -> Digest:
    org = organization(session)
    if settings is None:
        settings = parse_settings((org.settings or {}).get("digest"))
    kpi = load_week_kpi(session, week, now)  # the digest's numbers: exactly `csobot kpi`
    weeks = [week.shift(-i) for i in range(settings.history_weeks - 1, -1, -1)]
    history: list[WeekKpi] = [*load_weeks_kpi(session, weeks[:-1], now), kpi]
    ctx = DigestContext(
        session=session,
        week=week,
        now=now,
        settings=settings,
        org=org,
        people=people_by_id(session),
        clients=active_clients(session),
    )
    sections = load_sections(ctx)
    return build_digest(
        kpi,
        organization=org.name,
        sections=sections,
        chart=chart_data(history, band_mix(ctx, weeks)),
        settings=settings,
        now=now,
    )
