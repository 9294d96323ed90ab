"""The lifecycle's leadership figures (a metric source, bot/features.py): onboarding
efficiency read from the records (domain.onboarding_metrics has the formulas)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from domain.metric import Metric, Period
from domain.onboarding import STAGE_LABELS, Stage
from domain.onboarding_metrics import OnboardingFacts
from domain.onboarding_metrics import onboarding_metrics as compute
from domain.records import Client
from domain.renewals import Outcome
from domain.value import Output, SuccessCriterion, mark_all
from storage import connector_store
from storage import lifecycle_store as store
from storage.db import Transaction
from storage.portfolio_store import client_by_id, client_timezone, organization, people_by_id
from storage.qbr_store import success_plans
from storage.renewal_store import outcomes_by_client
from usecases.lifecycle_actions import catalogue
from usecases.qbr_actions import outputs


def first_outcome(
    tx: Transaction,
    client: Client,
    criteria: Sequence[SuccessCriterion],
    t0: datetime,
    t1: datetime,
) -> Output | None:
    """The client's first issue done, pull request merged or release between `t0` and `t1`
    marked an outcome against its success criteria (the QBR's marking); wins count as wins."""
    if not criteria:
        return None
    board = connector_store.board(tx, client.id)
    marked = mark_all([o for o in outputs(tx, client, board, t0, t1) if o.kind != "win"], criteria)
    return next((m.output for m in marked if m.mark == "outcome"), None)


def onboarding_facts(tx: Transaction, now: datetime) -> list[OnboardingFacts]:
    """One row per client that had an onboarding, from its records (outcomes up to `now`)."""
    lives = store.lifecycles(tx)
    ids = list(lives)
    cat = catalogue(tx)
    items = store.items_of(tx, ids)
    wins = store.first_wins(tx, ids)
    criteria = success_plans(tx, ids)
    hours = store.hours_by_client(tx, ids)
    outcomes = outcomes_by_client(tx, ids)
    people = people_by_id(tx)
    org = organization(tx)
    out = []
    for cid, life in sorted(lives.items()):
        client = client_by_id(tx, cid)
        if client is None:
            continue
        tz = client_timezone(client, people, org)
        activation = next((i for i in items.get(cid, []) if i.marks == "activation"), None)
        churned = [end for end, o in outcomes.get(cid, {}).items() if o.outcome is Outcome.CHURNED]
        signed_at = datetime.combine(life.signed_on, time(0), tzinfo=tz)
        outcome = first_outcome(tx, client, criteria.get(cid, []), signed_at, now)
        out.append(
            OnboardingFacts(
                slug=client.slug,
                segment=life.segment,
                signed_on=life.signed_on,
                window=cat.plan(life.segment).window_days,
                handed_off_on=life.handed_off_at.astimezone(tz).date()
                if life.handed_off_at
                else None,
                activation_due_on=activation.due_on if activation else None,
                activation_done_on=activation.done_at.astimezone(tz).date()
                if activation and activation.done_at
                else None,
                first_win_on=wins[cid].astimezone(tz).date() if cid in wins else None,
                first_outcome_on=outcome.at.astimezone(tz).date() if outcome else None,
                first_outcome_ref=outcome.ref if outcome else None,
                churned_on=min(churned) if churned else None,
                cso_hours=hours.get(cid),
            )
        )
    return out


def onboarding_metrics(tx: Transaction, period: Period, now: datetime) -> Sequence[Metric]:
    """The metric source: onboarding efficiency for `period`, and the clients by lifecycle
    stage at its end."""
    cat = catalogue(tx)
    windows: dict[str, tuple[int, int]] = {s: p.window_days for s, p in cat.plans.items()}
    figures = compute(
        onboarding_facts(tx, now),
        period,
        windows,
        ttv_target_days=cat.rules.time_to_value_target_days,
        early_churn_days=cat.rules.early_churn_days,
    )
    return [*figures, *stage_counts(tx, period)]


def stage_counts(tx: Transaction, period: Period) -> list[Metric]:
    """Active clients per lifecycle stage on the period's last day, as the tick recorded the
    stages; no data when no stage was recorded by then."""
    found = store.stages_as_of(tx, period.end)
    out = []
    for stage in Stage:
        ids = sorted(cid for cid, (s, _) in found.items() if s == stage.value)
        slugs = []
        for cid in ids:
            client = client_by_id(tx, cid)
            slugs.append(f"{client.slug if client else cid}: since {found[cid][1]}")
        out.append(
            Metric(
                key=f"lifecycle.clients.{stage.value}",
                label=f"Clients in {STAGE_LABELS[stage].lower()}",
                group="Lifecycle",
                value=float(len(ids)) if found else None,
                unit="count",
                formula="active clients whose latest recorded lifecycle stage on the period's "
                "last day is this one",
                evidence=tuple(slugs),
            )
        )
    return out
