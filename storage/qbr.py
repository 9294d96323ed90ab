"""Seed 004's QBR template filled from what was recorded: ARR, users, the quarter's wins,
touchpoints, the health trend, playbooks closed, and goals from the weakest signals."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import records
from domain.renewals import quarter_of
from prompts.render import render
from storage.board import client_zones, load_breakdown
from storage.health import latest_facts, snapshots_between
from storage.models import NpsResponse, PlaybookRun, Touchpoint, Win

Format = Literal["md", "html"]


class QbrMetric(BaseModel):
    name: str
    target: str
    actual: str
    trend: str


class QbrData(BaseModel):
    name: str
    quarter: str
    start: date
    end: date
    customer_since: str | None
    arr: float
    active_users: int | None
    licensed_seats: int | None
    health_line: str
    wins: list[str]
    metrics: list[QbrMetric]
    touchpoints: list[tuple[str, int]]
    value: list[str]
    goals: list[str]


def _direction(first: float | None, last: float | None) -> str:
    if first is None or last is None:
        return "—"
    return "up" if last - first >= 2 else "down" if first - last >= 2 else "flat"


def qbr_data(
    session: Session, client: records.Client, start: date, end: date, now: datetime
) -> QbrData:
    tz = client_zones(session, [client])[client.id]
    t0 = datetime.combine(start, time(0), tzinfo=tz)
    t1 = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    snaps = snapshots_between(session, client.id, start, end)
    first = snaps[0].score if snaps else None
    last = snaps[-1].score if snaps else None
    if snaps:
        health_line = f"{last:g} {snaps[-1].band.capitalize()} at {snaps[-1].day}" + (
            f" (from {first:g} at {snaps[0].day}, {_direction(first, last)})"
            if len(snaps) > 1
            else ""
        )
    else:
        health_line = "not scored this quarter"
    wins = [
        w.text
        for w in session.scalars(
            select(Win)
            .where(Win.client_id == client.id, Win.created_at >= t0, Win.created_at < t1)
            .order_by(Win.created_at)
        )
    ]
    kinds = Counter(
        session.scalars(
            select(Touchpoint.kind).where(
                Touchpoint.client_id == client.id,
                Touchpoint.local_date >= start,
                Touchpoint.local_date <= end,
            )
        )
    )
    answers = list(
        session.scalars(
            select(NpsResponse.score).where(
                NpsResponse.client_id == client.id,
                NpsResponse.recorded_at >= t0,
                NpsResponse.recorded_at < t1,
            )
        )
    )
    closed = list(
        session.scalars(
            select(PlaybookRun.playbook_id).where(
                PlaybookRun.client_id == client.id,
                PlaybookRun.completed_at >= t0,
                PlaybookRun.completed_at < t1,
            )
        )
    )
    facts = latest_facts(session, [client.id], ["active_users"]).get(client.id, {})
    metrics = [
        QbrMetric(
            name="Health score",
            target="80+ (Green)",
            actual=f"{last:g}" if last is not None else "—",
            trend=_direction(first, last),
        ),
        QbrMetric(
            name="NPS answers (mean)",
            target="9+",
            actual=f"{sum(answers) / len(answers):.1f} ({len(answers)})" if answers else "—",
            trend="—",
        ),
        QbrMetric(
            name="Weekly wins recorded",
            target=str(max(1, ((end - start).days + 1) // 7)),
            actual=str(len(wins)),
            trend="—",
        ),
        QbrMetric(
            name="Touchpoints",
            target="every business day",
            actual=str(sum(kinds.values())),
            trend="—",
        ),
    ]
    value = [f"Closed the {p} playbook" for p in closed] or [
        "Time saved / cost reduction: add the client's figures before presenting."
    ]
    goals: list[str] = []
    breakdown = load_breakdown(session, client)
    if breakdown.result is not None:
        labels = {s.name: s.label for p in breakdown.model.pillars for s in p.signals}
        for w in breakdown.result.weakest:
            goals.append(f"Raise {labels.get(w.name, w.name)} from {w.value:g} to 8 or more.")
    return QbrData(
        name=client.name,
        quarter=quarter_of(start),
        start=start,
        end=end,
        customer_since=client.contract_start.isoformat() if client.contract_start else None,
        arr=client.arr,
        active_users=int(facts["active_users"]) if "active_users" in facts else None,
        licensed_seats=client.licensed_seats,
        health_line=health_line,
        wins=wins,
        metrics=metrics,
        touchpoints=sorted(kinds.items()),
        value=value,
        goals=goals,
    )


def render_qbr(
    session: Session, client: records.Client, start: date, end: date, *, now: datetime, fmt: Format
) -> str:
    data = qbr_data(session, client, start, end, now)
    return render(f"qbr/qbr.{fmt}.j2", q=data) + "\n"
