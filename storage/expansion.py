"""The expansion pipeline (seed 004 signal table, Green-for-60-days guardrail), shared by
`csobot expansion` and the leadership digest."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.expansion import (
    ExpansionInputs,
    estimated_value,
    expansion_allowed,
    score_expansion,
)
from storage.board import client_days
from storage.health import (
    effective_contract_end,
    history,
    latest_facts,
    outcomes_by_client,
)
from storage.models import HealthSnapshot, Pulse
from storage.portfolio import active_clients

DEPARTMENT_WORDS = ("department", "another team", "other team", "new team", "division")
PREMIUM_WORDS = ("premium", "upgrade", "enterprise tier", "add-on", "addon")


def _hook_signals(session: Session, ids: list[int], since: datetime) -> dict[int, tuple[bool, int]]:
    """(new department interest, premium requests) read from the Pulse hooks."""
    out: dict[int, tuple[bool, int]] = {}
    for cid, hook in session.execute(
        select(Pulse.client_id, Pulse.hook).where(
            Pulse.client_id.in_(ids), Pulse.created_at >= since, Pulse.hook.is_not(None)
        )
    ):
        text = (hook or "").lower()
        dept, premium = out.get(cid, (False, 0))
        out[cid] = (
            dept or any(w in text for w in DEPARTMENT_WORDS),
            premium + int(any(w in text for w in PREMIUM_WORDS)),
        )
    return out


def _exec_rising(session: Session, ids: list[int], today: date) -> dict[int, bool]:
    """executive_engagement now above its value 30 days ago (by a point or more)."""
    rows = session.execute(
        select(HealthSnapshot.client_id, HealthSnapshot.day, HealthSnapshot.values)
        .where(HealthSnapshot.client_id.in_(ids), HealthSnapshot.day >= today - timedelta(days=90))
        .order_by(HealthSnapshot.day, HealthSnapshot.taken_at)
    )
    old: dict[int, float] = {}
    new: dict[int, float] = {}
    for cid, day, values in rows:
        value = (values or {}).get("executive_engagement")
        if value is None:
            continue
        if day <= today - timedelta(days=30):
            old[cid] = value
        new[cid] = value
    return {cid: cid in old and new[cid] - old[cid] >= 1 for cid in new}


def expansion_rows(session: Session, now: datetime) -> tuple[list[dict[str, Any]], float]:
    clients = active_clients(session)
    ids = [c.id for c in clients]
    today = client_days(session, clients, now)
    hist = history(session, ids)
    facts = latest_facts(
        session, ids, ["active_users", "premium_feature_requests", "new_department_interest"]
    )
    hooks = _hook_signals(session, ids, now - timedelta(days=90))
    rising = _exec_rising(session, ids, now.date())
    outcomes = outcomes_by_client(session, ids)
    rows: list[dict[str, Any]] = []
    for c in clients:
        f = facts.get(c.id, {})
        dept, premium = hooks.get(c.id, (False, 0))
        end, _ = effective_contract_end(c, outcomes.get(c.id, {}))
        inputs = ExpansionInputs(
            active_seats=int(f["active_users"]) if "active_users" in f else None,
            licensed_seats=c.licensed_seats,
            new_department_interest=dept or bool(f.get("new_department_interest")),
            premium_feature_requests=premium + int(f.get("premium_feature_requests", 0)),
            executive_engagement_rising=rising.get(c.id, False),
            contract_end=end,
        )
        result = score_expansion(inputs, today[c.id])
        allowed = expansion_allowed(hist[c.id], today[c.id])
        value = estimated_value(c.arr, result.points)
        rows.append(
            {
                "slug": c.slug,
                "name": c.name,
                "arr": c.arr,
                "points": result.points,
                "signals": result.signals,
                "reasons": result.reasons,
                "actions": result.actions,
                "estimated_value": value,
                "allowed": allowed,
                "in_pipeline": allowed and result.points > 0,
            }
        )
    rows.sort(key=lambda r: (-r["points"], r["slug"]))
    return rows, sum(c.arr for c in clients)
