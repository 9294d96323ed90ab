"""Playbook runs: a playbook's checklist started for a client, and its steps ticked off."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from domain import records
from domain.playbooks import Run, Step, instantiate
from storage.db import Transaction, id_list
from storage.models import PlaybookRun, PlaybookRunStep
from storage.upsert import insert_ignore


def _step(row: PlaybookRunStep) -> Step:
    return Step(
        id=row.id,
        run_id=row.run_id,
        text=row.text,
        due=row.due,
        escalation=row.escalation,
        done_at=row.done_at,
        done_by=row.done_by,
    )


def _run(row: PlaybookRun) -> Run:
    return Run(
        id=row.id,
        client_id=row.client_id,
        playbook_id=row.playbook_id,
        status=row.status,
        steps=tuple(_step(s) for s in row.steps),
    )


def start_playbook(
    tx: Transaction,
    client: records.Client,
    playbook_id: str,
    *,
    by: str,
    now: datetime,
    start: date,
    trigger: str | None = None,
) -> tuple[Run, bool]:
    """Start a playbook's checklist. Already running for this client → that run, False."""
    active_key = f"{client.id}:{playbook_id}"
    created = insert_ignore(
        tx,
        PlaybookRun,
        {
            "client_id": client.id,
            "playbook_id": playbook_id,
            "status": "active",
            "active_key": active_key,
            "start_day": start,
            "started_by": by,
            "started_at": now,
            "trigger": trigger,
        },
    )
    run = tx.scalars(
        select(PlaybookRun)
        .where(PlaybookRun.active_key == active_key)
        .options(selectinload(PlaybookRun.steps))
    ).one()
    if created:
        for step in instantiate(playbook_id, start):
            tx.add(
                PlaybookRunStep(
                    run_id=run.id,
                    position=step.index,
                    text=step.text[:300],
                    due=step.due,
                    escalation=step.escalation,
                )
            )
        tx.flush()
        tx.refresh(run)
    return _run(run), created


def active_runs(tx: Transaction, client_ids: Sequence[int]) -> dict[int, list[Run]]:
    out: dict[int, list[Run]] = defaultdict(list)
    if not client_ids:
        return out
    for run in tx.scalars(
        select(PlaybookRun)
        .where(PlaybookRun.client_id.in_(id_list(client_ids)), PlaybookRun.status == "active")
        .options(selectinload(PlaybookRun.steps))
        .order_by(PlaybookRun.started_at, PlaybookRun.id)
    ):
        out[run.client_id].append(_run(run))
    return out


def run_of_step(tx: Transaction, step_id: int) -> Run | None:
    """The run a step belongs to (None for an unknown step)."""
    step = tx.get(PlaybookRunStep, step_id)
    run = tx.get(PlaybookRun, step.run_id) if step is not None else None
    return _run(run) if run is not None else None


def tick_step(
    tx: Transaction, step_id: int, *, by: str, now: datetime, done: bool = True
) -> tuple[Step, Run] | None:
    """Mark a step done (or not); the run completes when every step is done. The step and
    its run as they are now; None for an unknown step."""
    step = tx.get(PlaybookRunStep, step_id)
    if step is None:
        return None
    # The run's row is locked first: two steps ticked at once (two clicks, two processes) are
    # counted one after the other, so the last one sees every step done and completes the run.
    run = tx.get(PlaybookRun, step.run_id, with_for_update=True)
    if run is None:
        return None
    step.done_at, step.done_by = (now, by) if done else (None, None)
    tx.flush()
    tx.refresh(run)
    complete = _run(run).progress.complete
    if complete and run.status == "active":
        run.status, run.completed_at, run.active_key = "completed", now, None
    elif not complete and run.status == "completed":
        run.status, run.completed_at = "active", None
        run.active_key = f"{run.client_id}:{run.playbook_id}"
    tx.flush()
    return _step(step), _run(run)


def completed_between(tx: Transaction, client_id: int, start: datetime, end: datetime) -> list[str]:
    """Ids of the playbooks the client completed in [start, end)."""
    return list(
        tx.scalars(
            select(PlaybookRun.playbook_id).where(
                PlaybookRun.client_id == client_id,
                PlaybookRun.completed_at >= start,
                PlaybookRun.completed_at < end,
            )
        )
    )
