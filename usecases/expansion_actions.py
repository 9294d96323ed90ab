"""The real expansion pipeline (docs/process.md, "Expansion pipeline"): opportunities the CSO
records with a value, moved through identified → qualified → proposed → negotiating → won /
lost. Pipeline share = open opportunities' value / managed ARR; keyword signals stay
suggestions, shown apart and never counted."""

from __future__ import annotations

from datetime import datetime

from domain import records
from domain.expansion import (
    PIPELINE_TARGET,
    Opportunity,
    Stage,
    next_stages,
    open_pipeline,
    pipeline_share,
)
from domain.metric import Metric, Period
from storage import expansion_store as store
from storage.db import Transaction
from storage.portfolio_store import active_clients
from usecases.metric_sources import with_formulas

FORMULA = (
    "Pipeline share = value of open opportunities (identified, qualified, proposed, "
    "negotiating; recorded with /expansion) / managed ARR (active clients); keyword signals "
    "are suggestions and never counted"
)


def add(
    tx: Transaction,
    client: records.Client,
    *,
    value: float,
    title: str,
    next_step: str,
    by: str,
    now: datetime,
    request_key: str | None,
) -> Opportunity | None:
    return store.add_opportunity(
        tx, client_id=client.id, title=title, value=value, next_step=next_step, owner=by,
        now=now, request_key=request_key,
    )  # fmt: skip


def opportunity_qualified(tx: Transaction, opportunity: Opportunity, now: datetime) -> None:
    """HOOK — an opportunity has just become *qualified*. The lifecycle feature posts its
    context package to the AE from here (in this transaction: write to the outbox, never post
    directly). Nothing else happens here yet."""
    del tx, opportunity, now


def move_stage(
    tx: Transaction, opportunity_id: int, stage: Stage, now: datetime
) -> Opportunity | None:
    """Move an opportunity one step on (or close it won / lost). None when that move is not
    possible from where it is. Becoming qualified calls `opportunity_qualified`."""
    current = store.opportunity_by_id(tx, opportunity_id)
    if current is None or stage not in next_stages(current.stage):
        return None
    moved = store.set_stage(tx, opportunity_id, stage, now)
    if stage is Stage.QUALIFIED:
        opportunity_qualified(tx, moved, now)
    return moved


@with_formulas(("Expansion pipeline share", FORMULA))
def pipeline_metrics(tx: Transaction, period: Period, now: datetime) -> list[Metric]:
    """The pipeline as it stands (opportunities are not dated by period): its share of
    managed ARR against 15–20 %."""
    del period, now
    clients = active_clients(tx)
    ids = {c.id for c in clients}
    opportunities = [o for o in store.opportunities_of(tx) if o.client_id in ids]
    value = open_pipeline(opportunities)
    managed = sum(c.arr for c in clients)
    share = pipeline_share(value, managed).share if opportunities else None
    low, high = PIPELINE_TARGET
    return [
        Metric(
            key="expansion.pipeline_share",
            label="Expansion pipeline (share of managed ARR)",
            group="Expansion",
            value=share,
            unit="ratio",
            target=f"{low:.0%}–{high:.0%}",
            on_target=None if share is None else low <= share,
            formula=FORMULA,
            evidence=tuple(
                f"{o.title}: {o.value:,.0f}, {o.stage.value}" for o in opportunities if o.open
            ),
        )
    ]
