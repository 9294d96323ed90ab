"""The reference program (docs/process.md, "Advocacy and references"): the pipeline (Green
60+ days and NPS ≥ 9, or by hand), tiers, asks with their outcome, fatigue, and who to ask."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from domain.advocacy import Candidate, asks_within, enters_pipeline, is_fatigued, suggest
from domain.calendar import local_date
from domain.metric import Metric, Period
from domain.nudge import NudgeSpec
from domain.records import Client
from domain.reference_commands import ReferenceCommand, ReferencesQuery
from prompts.support_views import (
    ask_recorded,
    pipeline_entered,
    reference_status,
    references_list,
)
from storage.db import Transaction
from storage.health_store import latest_snapshots
from storage.outbox_store import enqueue
from storage.portfolio_store import active_clients
from storage.support_store import (
    advocacy_settings,
    case_study_clients,
    enter_pipeline,
    latest_nps_scores,
    record_ask,
    reference_asks,
    reference_entries,
    set_outcome,
    support_calendar,
    support_settings,
)

PIPELINE_CADENCE = "reference_pipeline"


def reference(
    tx: Transaction, client: Client, cmd: ReferenceCommand, *, by: str, key: str, now: datetime
) -> str:
    settings = advocacy_settings(tx)
    if cmd.action == "add":
        tier = settings.tier(cmd.tier or "")
        if tier is None:
            return f'Unknown tier "{cmd.tier}": {", ".join(t.id for t in settings.tiers)}.'
        new = enter_pipeline(
            tx, client.id, tier=tier.id, source="manual", use_cases=cmd.use_cases, by=by, now=now
        )
        verb = "is now in" if new else "stays in"
        return f"*{client.name}* {verb} the reference pipeline as a *{tier.label}*."
    if cmd.action == "ask":
        if client.id not in reference_entries(tx):
            enter_pipeline(
                tx,
                client.id,
                tier=settings.tiers[0].id,
                source="manual",
                use_cases=(),
                by=by,
                now=now,
            )
        ask = record_ask(tx, client.id, ask=cmd.text, by=by, now=now, key=key)
        if ask is None:
            return "That ask is already recorded."
        times = [a.asked_at for a in reference_asks(tx, client.id)]
        return ask_recorded(
            client,
            ask.id,
            is_fatigued(times, now, settings),
            asks_within(times, now, settings.fatigue_days),
            settings.fatigue_days,
        )
    if cmd.action == "outcome":
        assert cmd.ask_id is not None and cmd.outcome is not None
        done = set_outcome(tx, client.id, cmd.ask_id, cmd.outcome, now)
        if done is None:
            return f"{client.name} has no ask #{cmd.ask_id}."
        return f"Ask #{done.id} for *{client.name}*: {done.outcome}."
    entry = reference_entries(tx).get(client.id)
    asks = reference_asks(tx, client.id)
    times = [a.asked_at for a in asks]
    tier = settings.tier(entry.tier) if entry else None
    return reference_status(
        client,
        f"{tier.label} ({tier.activities})" if tier else None,
        [(a.id, f"{a.asked_at:%Y-%m-%d}", a.asked_by, a.ask, a.outcome) for a in asks],
        asks_within(times, now, settings.fatigue_days),
        is_fatigued(times, now, settings),
        settings.fatigue_days,
    )


def _candidates(tx: Transaction) -> list[Candidate]:
    clients = {c.id: c for c in active_clients(tx)}
    entries = reference_entries(tx)
    asked: dict[int, list[datetime]] = {}
    for a in reference_asks(tx):
        asked.setdefault(a.client_id, []).append(a.asked_at)
    studies = case_study_clients(tx)
    return [
        Candidate(
            client_id=cid,
            name=clients[cid].name,
            segment=clients[cid].segment,
            tier=e.tier,
            use_cases=e.use_cases,
            asked=tuple(asked.get(cid, [])),
            case_study=cid in studies,
        )
        for cid, e in entries.items()
        if cid in clients
    ]


def references(tx: Transaction, query: ReferencesQuery, now: datetime) -> str:
    settings = advocacy_settings(tx)
    ranked = suggest(_candidates(tx), now, settings, segment=query.segment, use_case=query.use_case)
    rows = []
    for s in ranked:
        tier = settings.tier(s.candidate.tier)
        rows.append(
            (
                s.candidate.name,
                tier.label if tier else s.candidate.tier,
                s.candidate.segment,
                s.fit,
                s.rest_days,
                s.fatigued,
            )
        )
    return references_list(rows, query.segment, query.use_case)


def enter_eligible(tx: Transaction, now: datetime) -> int:
    """Every client Green for 60+ days with NPS ≥ 9 that is not in the pipeline enters it
    (the first tier), and its CSO is told once."""
    settings = advocacy_settings(tx)
    clients = active_clients(tx)
    entries = reference_entries(tx)
    snaps = latest_snapshots(tx, [c.id for c in clients])
    nps = latest_nps_scores(tx, [c.id for c in clients])
    sup = support_settings(tx)
    new = 0
    for client in clients:
        snap = snaps.get(client.id)
        if client.id in entries or snap is None:
            continue
        today = local_date(now, support_calendar(tx, client, sup).tz)
        band = getattr(snap.band, "value", snap.band)
        if not enters_pipeline(band, snap.band_since, nps.get(client.id), today, settings):
            continue
        first = settings.tiers[0]
        if not enter_pipeline(
            tx, client.id, tier=first.id, source="auto", use_cases=(), by=None, now=now
        ):
            continue
        text = pipeline_entered(client, first.label, settings.green_days, nps[client.id])
        new += enqueue(
            tx,
            NudgeSpec(
                cadence_id=PIPELINE_CADENCE,
                period=str(client.id),
                target=client.cso_id,
                person_id=client.cso_id,
                client_id=client.id,
                text=text,
                due_at=now,
                expires_at=now + timedelta(days=3),
                key=f"{PIPELINE_CADENCE}:{client.id}",
            ),
            now,
        )
    return new


def advocacy_metrics(tx: Transaction, period: Period, now: datetime) -> Sequence[Metric]:
    """Reference utilisation and fatigue, and the advocate pipeline."""
    start = datetime.combine(period.start, time(0), tzinfo=UTC)
    end = datetime.combine(period.end, time(0), tzinfo=UTC) + timedelta(days=1)
    settings = advocacy_settings(tx)
    candidates = _candidates(tx)
    asks = [a for a in reference_asks(tx) if start <= a.asked_at < end]
    refs = len(candidates)
    fatigued = sum(1 for c in candidates if is_fatigued(c.asked, min(now, end), settings))
    by_tier = {t.id: sum(1 for c in candidates if c.tier == t.id) for t in settings.tiers}
    group = "Advocacy"
    return [
        Metric(
            key="advocacy.reference_utilisation",
            label="Reference asks per reference",
            group=group,
            value=len(asks) / refs if refs else None,
            unit="count",
            target=f"≤ {settings.fatigue_asks} per {settings.fatigue_days} days each",
            formula="reference asks recorded in the period / clients in the reference pipeline",
            evidence=(f"{len(asks)} asks, {refs} references",) if refs else (),
        ),
        Metric(
            key="advocacy.fatigued_share",
            label="References fatigued",
            group=group,
            value=fatigued / refs if refs else None,
            unit="ratio",
            target="0 %",
            on_target=None if not refs else fatigued == 0,
            formula=(
                f"references asked more than {settings.fatigue_asks} times in the"
                f" {settings.fatigue_days} days to the period's end / references"
            ),
            evidence=(f"{fatigued} of {refs}",) if refs else (),
        ),
        Metric(
            key="advocacy.pipeline",
            label="Advocate pipeline",
            group=group,
            value=float(refs),
            unit="count",
            target="growing",
            formula=(
                "clients in the reference pipeline (Green 60+ days with NPS ≥ 9, or by hand): "
                + ", ".join(f"{n} {t}" for t, n in by_tier.items())
            ),
            evidence=tuple(c.name for c in candidates)[:10],
        ),
    ]
