"""The expansion pipeline read from the database (the scoring and the guardrail are in
domain.expansion), shared by `csobot expansion` and the leadership digest."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from domain.expansion import (
    ExpansionInputs,
    estimated_value,
    executive_engagement_rising,
    expansion_allowed,
    hook_signals,
    score_expansion,
)
from domain.renewals import effective_contract_end
from storage.db import Transaction
from storage.health_store import client_days, history, latest_facts, signal_points
from storage.models import Pulse
from storage.portfolio_store import active_clients
from storage.renewal_store import outcomes_by_client

LOOKBACK_DAYS = 90


@dataclass(frozen=True)
class ExpansionRow:
    slug: str
    name: str
    arr: float
    points: int
    signals: list[str]
    reasons: list[str]
    actions: list[str]
    estimated_value: float
    allowed: bool
    in_pipeline: bool


def pulse_hooks(
    tx: Transaction, client_ids: Sequence[int], since: datetime
) -> dict[int, list[str]]:
    """The Pulse hooks of each client since `since`."""
    out: dict[int, list[str]] = defaultdict(list)
    if not client_ids:
        return out
    for cid, hook in tx.execute(
        select(Pulse.client_id, Pulse.hook).where(
            Pulse.client_id.in_(client_ids), Pulse.created_at >= since, Pulse.hook.is_not(None)
        )
    ):
        out[cid].append(hook or "")
    return out


def expansion_rows(tx: Transaction, now: datetime) -> tuple[list[ExpansionRow], float]:
    """Every active client scored, most points first, and the portfolio's ARR."""
    clients = active_clients(tx)
    ids = [c.id for c in clients]
    today = client_days(tx, clients, now)
    hist = history(tx, ids)
    facts = latest_facts(
        tx, ids, ["active_users", "premium_feature_requests", "new_department_interest"]
    )
    hooks = pulse_hooks(tx, ids, now - timedelta(days=LOOKBACK_DAYS))
    engagement = signal_points(
        tx, ids, "executive_engagement", now.date() - timedelta(days=LOOKBACK_DAYS)
    )
    outcomes = outcomes_by_client(tx, ids)
    rows: list[ExpansionRow] = []
    for c in clients:
        f = facts.get(c.id, {})
        dept, premium = hook_signals(hooks.get(c.id, []))
        end, _ = effective_contract_end(c.contract_end, outcomes.get(c.id, {}))
        inputs = ExpansionInputs(
            active_seats=int(f["active_users"]) if "active_users" in f else None,
            licensed_seats=c.licensed_seats,
            new_department_interest=dept or bool(f.get("new_department_interest")),
            premium_feature_requests=premium + int(f.get("premium_feature_requests", 0)),
            executive_engagement_rising=executive_engagement_rising(
                engagement.get(c.id, []), now.date()
            ),
            contract_end=end,
        )
        result = score_expansion(inputs, today[c.id])
        allowed = expansion_allowed(hist[c.id], today[c.id])
        rows.append(
            ExpansionRow(
                slug=c.slug,
                name=c.name,
                arr=c.arr,
                points=result.points,
                signals=result.signals,
                reasons=result.reasons,
                actions=result.actions,
                estimated_value=estimated_value(c.arr, result.points),
                allowed=allowed,
                in_pipeline=allowed and result.points > 0,
            )
        )
    rows.sort(key=lambda r: (-r.points, r.slug))
    return rows, sum(c.arr for c in clients)
