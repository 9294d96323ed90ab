"""The expansion pipeline read from the database (the scoring and the guardrail are in
domain.expansion), shared by `csobot expansion` and the leadership digest."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from domain import records
from domain.expansion import (
    CLOSED_STAGES,
    ExpansionInputs,
    Opportunity,
    Stage,
    estimated_value,
    executive_engagement_rising,
    green_long_enough,
    hook_signals,
    score_expansion,
)
from domain.renewals import effective_contract_end
from storage.db import Transaction, id_list
from storage.health_store import client_days, current_runs, latest_facts, signal_points
from storage.models import ExpansionOpportunity, Pulse
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
            Pulse.client_id.in_(id_list(client_ids)),
            Pulse.created_at >= since,
            Pulse.hook.is_not(None),
        )
    ):
        out[cid].append(hook or "")
    return out


def expansion_rows(
    tx: Transaction, now: datetime, clients: Sequence[records.Client] | None = None
) -> tuple[list[ExpansionRow], float]:
    """Every active client scored, most points first, and the portfolio's ARR. `clients`: as
    `active_clients` reads them in this transaction, when the caller has them already."""
    clients = active_clients(tx) if clients is None else clients
    ids = [c.id for c in clients]
    today = client_days(tx, clients, now)
    # The guardrail reads each client's current run: its band and the day the run began.
    runs = current_runs(tx, ids, today)
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
        band, since = runs.get(c.id, (None, None))
        allowed = green_long_enough(band, since, today[c.id])
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


# -- opportunities ------------------------------------------------------------------------------
def add_opportunity(
    tx: Transaction,
    *,
    client_id: int,
    title: str,
    value: float,
    next_step: str,
    owner: str,
    now: datetime,
    request_key: str | None,
) -> Opportunity | None:
    """The new opportunity, identified; None for a replayed request (recorded once)."""
    if (
        request_key
        and tx.scalars(
            select(ExpansionOpportunity.id).where(ExpansionOpportunity.request_key == request_key)
        ).first()
    ):
        return None
    row = ExpansionOpportunity(
        client_id=client_id,
        title=title[:300],
        value=value,
        stage=Stage.IDENTIFIED.value,
        next_step=next_step[:300],
        owner_id=owner,
        request_key=request_key,
        created_at=now,
        updated_at=now,
    )
    tx.add(row)
    tx.flush()
    return _opportunity(row)


def opportunities_of(tx: Transaction, client_id: int | None = None) -> list[Opportunity]:
    query = select(ExpansionOpportunity).order_by(ExpansionOpportunity.id)
    if client_id is not None:
        query = query.where(ExpansionOpportunity.client_id == client_id)
    return [_opportunity(r) for r in tx.scalars(query)]


def opportunity_by_id(tx: Transaction, opportunity_id: int) -> Opportunity | None:
    row = tx.get(ExpansionOpportunity, opportunity_id)
    return _opportunity(row) if row else None


def set_stage(tx: Transaction, opportunity_id: int, stage: Stage, now: datetime) -> Opportunity:
    row = tx.get(ExpansionOpportunity, opportunity_id)
    assert row is not None
    row.stage = stage.value
    row.updated_at = now
    if stage in CLOSED_STAGES:
        row.closed_at = now
    return _opportunity(row)


def _opportunity(r: ExpansionOpportunity) -> Opportunity:
    return Opportunity(r.id, r.client_id, r.title, r.value, Stage(r.stage), r.next_step, r.owner_id)
