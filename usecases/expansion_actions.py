"""The real expansion pipeline (docs/process.md, "Expansion pipeline"): opportunities the CSO
records with a value, moved through identified → qualified → proposed → negotiating → won /
lost. Pipeline share = open opportunities' value / managed ARR; keyword signals stay
suggestions, shown apart and never counted."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import records
from domain.expansion import (
    PIPELINE_TARGET,
    NoteFacts,
    Opportunity,
    Stage,
    next_stages,
    open_pipeline,
    pipeline_share,
)
from domain.metric import Metric, Period
from domain.nudge import NudgeSpec
from llm.classifier import JsonCompleter
from llm.expansion_writer import llm_note
from prompts.expansion_views import note_post, template_note
from storage import expansion_store as store
from storage.db import Transaction
from storage.portfolio_store import active_clients
from usecases.digest_actions import DigestRefused, leadership_channel
from usecases.lifecycle_nudges import post_expansion_package
from usecases.metric_sources import with_formulas
from usecases.outbox import enqueue
from usecases.privacy import ChannelGuard

logger = logging.getLogger(__name__)
NOTE_CADENCE = "expansion-note"

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


def opportunity_qualified(
    tx: Transaction, opportunity: Opportunity, *, by: str, now: datetime
) -> str:
    """An opportunity has just become *qualified*: its context package (health, the client's
    recent signals, stakeholders, history) goes to the client's account executive, through the
    outbox in this transaction, once per opportunity. Returns what to tell whoever qualified
    it."""
    sent = post_expansion_package(
        tx,
        client_id=opportunity.client_id,
        opportunity=opportunity.title,
        signals=recent_signals(tx, opportunity.client_id, now),
        qualified_by=by,
        now=now,
        key=f"expansion_package:{opportunity.id}",
    )
    return sent.text


@dataclass(frozen=True)
class Moved:
    opportunity: Opportunity
    said: str | None  # what the move did besides (the package to the account executive)


def move_stage(
    tx: Transaction, opportunity_id: int, stage: Stage, *, by: str, now: datetime
) -> Moved | None:
    """Move an opportunity one step on (or close it won / lost). None when that move is not
    possible from where it is. Becoming qualified calls `opportunity_qualified`."""
    current = store.opportunity_by_id(tx, opportunity_id)
    if current is None or stage not in next_stages(current.stage):
        return None
    moved = store.set_stage(tx, opportunity_id, stage, now)
    said = None
    if stage is Stage.QUALIFIED:
        said = opportunity_qualified(tx, moved, by=by, now=now)
    return Moved(moved, said)


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


# -- the note to leadership ---------------------------------------------------------------------
def recent_signals(tx: Transaction, client_id: int, now: datetime) -> tuple[str, ...]:
    """The client's recent signals: its Pulse hooks of the last 90 days, each once."""
    hooks = store.pulse_hooks(tx, [client_id], now - timedelta(days=90)).get(client_id, [])
    return tuple(dict.fromkeys(h for h in hooks if h))


def note_facts(tx: Transaction, client: records.Client, now: datetime) -> NoteFacts:
    """The client's recent signals (Pulse hooks of the last 90 days) and open opportunities."""
    opportunities = [o for o in store.opportunities_of(tx, client.id) if o.open]
    return NoteFacts(
        client_name=client.name,
        signals=recent_signals(tx, client.id, now),
        opportunities=tuple(f"{o.title} ({o.value:,.0f}, {o.stage.value})" for o in opportunities),
    )


def write_note(llm: JsonCompleter | None, facts: NoteFacts) -> tuple[str, str]:
    """(note, who wrote it): the model when configured and answering, else the template."""
    if llm is not None:
        try:
            return llm_note(llm, facts), "llm"
        except Exception as exc:  # any failure: the template, never no note
            logger.warning("LLM expansion note failed, using the template: %s", exc)
    return template_note(facts), "template"


def post_note(
    tx: Transaction,
    guard: ChannelGuard,
    client: records.Client,
    text: str,
    *,
    by: str,
    now: datetime,
    key: str,
) -> str:
    """The CSO's edited note, to the leadership channel through the outbox (never a client or
    Slack Connect channel). Returns the channel; LeadershipRefused says why not."""
    try:
        channel = leadership_channel(tx, guard)
    except DigestRefused as err:
        raise LeadershipRefused(str(err)) from None
    fallback, blocks = note_post(text, by)
    enqueue(
        tx,
        NudgeSpec(
            cadence_id=NOTE_CADENCE,
            period=now.date().isoformat(),
            target=channel,
            client_id=client.id,
            text=fallback,
            blocks=blocks,
            due_at=now,
            expires_at=now + timedelta(days=1),
            batch=False,
            key=f"{NOTE_CADENCE}:{key}",
        ),
        now,
    )
    return channel


class LeadershipRefused(Exception):
    """No leadership channel the note may go to; the message says why."""
