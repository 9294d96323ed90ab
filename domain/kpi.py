"""Communication Consistency: daily touchpoints + the weekly presentation.

docs/process.md, "Communication Consistency". Pure arithmetic over plain records, so the
number leadership sees is reproducible: `csobot kpi`, the digest and its chart all get their
numbers from `week_kpi` over the same inputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from domain.calendar import IsoWeek, business_days, holidays_between, local_date


class KpiClient(BaseModel):
    slug: str
    name: str
    cso: str
    timezone: str


class KpiPerson(BaseModel):
    slack_id: str
    name: str


class DailyPart(BaseModel):
    expected: int
    done: int
    missed: list[str] = Field(default_factory=list)
    exempt: list[dict[str, str]] = Field(default_factory=list)
    pending: list[str] = Field(default_factory=list)


class WeeklyPart(BaseModel):
    expected: int
    done: int
    win: str | None = None


class ClientKpi(BaseModel):
    slug: str
    name: str
    daily: DailyPart
    weekly_presentation: WeeklyPart


class Totals(BaseModel):
    expected: int
    done: int
    rate: float | None


class CadenceRow(BaseModel):
    """A cadence closed by a click (Triangle Sync held...): nudged, and done or not."""

    cadence: str
    title: str
    client: str | None = None
    day: str
    period: str
    done: bool
    done_by: str | None = None
    done_at: str | None = None


class CsoKpi(Totals):
    slack_id: str
    name: str
    clients: list[ClientKpi]
    cadences: list[CadenceRow] = Field(default_factory=list)


class WeekKpi(BaseModel):
    week: str
    overall: Totals
    csos: list[CsoKpi]
    has_data: bool = True


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
    touchpoint_days: set[date],
    exemptions: dict[date, str],
    win: str | None,
) -> ClientKpi:
    """One client's week. `touchpoint_days` are local dates (in the client's timezone)."""
    tz = ZoneInfo(client.timezone)
    today = local_date(now, tz)
    days = [d for d in week.days() if d <= today]
    hol = holidays_between(holiday_country, week.monday, week.sunday, holiday_subdiv)
    working = business_days(days, holiday_country, holiday_subdiv)
    exempt = [{"date": d.isoformat(), "reason": exemptions[d]} for d in working if d in exemptions]
    expected_days = [d for d in working if d not in exemptions]
    done_days = [d for d in expected_days if d in touchpoint_days]
    pending = [d for d in expected_days if d == today and d not in touchpoint_days]
    missed = [d for d in expected_days if d not in touchpoint_days and d != today]
    # The formal weekly presentation is expected once per week with any working day in it.
    whole_week_working = [
        d for d in week.days() if d.weekday() < 5 and d not in hol and d not in exemptions
    ]
    weekly_expected = 1 if whole_week_working and week.monday <= today else 0
    return ClientKpi(
        slug=client.slug,
        name=client.name,
        daily=DailyPart(
            expected=len(expected_days),
            done=len(done_days),
            missed=[d.isoformat() for d in missed],
            exempt=exempt,
            pending=[d.isoformat() for d in pending],
        ),
        weekly_presentation=WeeklyPart(
            expected=weekly_expected,
            done=1 if (win is not None and weekly_expected) else 0,
            win=win,
        ),
    )


def week_kpi(
    week: IsoWeek,
    now: datetime,
    *,
    people: Iterable[KpiPerson],
    clients: Iterable[KpiClient],
    holiday_country: str,
    holiday_subdiv: str | None = None,
    touchpoint_days: dict[str, set[date]],
    exemptions: dict[str, dict[date, str]],
    wins: dict[str, str],
) -> WeekKpi:
    names = {p.slack_id: p.name for p in people}
    by_cso: dict[str, list[ClientKpi]] = defaultdict(list)
    for client in sorted(clients, key=lambda c: c.slug):
        by_cso[client.cso].append(
            client_kpi(
                client,
                week,
                now,
                holiday_country=holiday_country,
                holiday_subdiv=holiday_subdiv,
                touchpoint_days=touchpoint_days.get(client.slug, set()),
                exemptions=exemptions.get(client.slug, {}),
                win=wins.get(client.slug),
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
                rate=rate(done, expected),
                clients=items,
            )
        )
    expected = sum(c.expected for c in csos)
    done = sum(c.done for c in csos)
    has_data = bool(touchpoint_days) or bool(wins) or bool(exemptions)
    return WeekKpi(
        week=str(week),
        overall=Totals(expected=expected, done=done, rate=rate(done, expected)),
        csos=csos,
        has_data=has_data,
    )


def format_table(kpi: WeekKpi) -> str:
    """A readable table for the terminal."""
    lines = [f"Communication Consistency — {kpi.week}"]
    if not kpi.csos:
        lines.append("No clients in the portfolio.")
        return "\n".join(lines)
    header = f"{'CSO / client':<28} {'daily':>9} {'weekly':>7} {'rate':>7}  missed"
    lines += [header, "-" * len(header)]
    for cso in kpi.csos:
        lines.append(f"{cso.name:<28} {'':>9} {'':>7} {_pct(cso.rate):>7}")
        for c in cso.clients:
            daily = f"{c.daily.done}/{c.daily.expected}"
            weekly = f"{c.weekly_presentation.done}/{c.weekly_presentation.expected}"
            missed = ", ".join(c.daily.missed) or "-"
            if c.daily.exempt:
                missed += "  (exempt: " + ", ".join(e["date"] for e in c.daily.exempt) + ")"
            lines.append(f"  {c.slug:<26} {daily:>9} {weekly:>7} {'':>7}  {missed}")
        if cso.cadences:
            held = sum(1 for r in cso.cadences if r.done)
            lines.append(f"  {'cadences done (click)':<26} {held:>4}/{len(cso.cadences):<4}")
    lines.append("-" * len(header))
    o = kpi.overall
    lines.append(f"{'Overall':<28} {o.done:>4}/{o.expected:<4} {'':>7} {_pct(o.rate):>7}")
    if not kpi.has_data:
        lines.append("No touchpoints, wins or exemptions were recorded for this week.")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"
