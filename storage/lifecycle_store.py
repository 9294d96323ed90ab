"""The lifecycle's records: signature and sales handoff, onboarding checklists and hours,
lifecycle stages, expansion packages and close-outs. Returns domain records, never rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select

from domain.onboarding import (
    Closeout,
    CloseoutItem,
    CloseoutItemSpec,
    Item,
    Lifecycle,
    PlannedItem,
)
from domain.portfolio import ClientSpec
from storage import models as m
from storage.db import Transaction, id_list
from storage.qbr_store import success_plans
from storage.upsert import insert_ignore


def _lifecycle(row: m.ClientLifecycle, criteria: Sequence[str]) -> Lifecycle:
    return Lifecycle(
        client_id=row.client_id,
        segment=row.segment,
        signed_on=row.signed_on,
        kickoff_on=row.kickoff_on,
        ae_id=row.ae_id,
        success_criteria=tuple(criteria),
        handoff=dict(row.handoff or {}),
        started_at=row.started_at,
        source=row.source,
        handoff_received_at=row.handoff_received_at,
        handed_off_at=row.handed_off_at,
    )


def _item(row: m.OnboardingItem) -> Item:
    return Item(
        id=row.id,
        item_id=row.item_id,
        text=row.text,
        section=row.section,
        owner=row.owner,
        due_on=row.due_on,
        due_at=row.due_at,
        position=row.position,
        anchor=row.anchor,
        marks=row.marks,
        phase=row.phase,
        done_at=row.done_at,
        done_by=row.done_by,
    )


# -- the handoff and the checklist -------------------------------------------------------------
def start_onboarding(
    tx: Transaction,
    *,
    client_id: int,
    spec: ClientSpec,
    planned: Sequence[PlannedItem],
    by: str,
    source: str,
    now: datetime,
) -> bool:
    """The client's lifecycle record and checklist, once: False when it already has them."""
    if tx.scalar(select(m.ClientLifecycle.id).where(m.ClientLifecycle.client_id == client_id)):
        return False
    assert spec.signed_on is not None
    handoff = spec.handoff.model_dump() if spec.handoff else {}
    tx.add(
        m.ClientLifecycle(
            client_id=client_id,
            segment=spec.segment.value,
            signed_on=spec.signed_on,
            kickoff_on=spec.kickoff_on,
            ae_id=spec.ae,
            success_criteria=[c.label() for c in spec.success_criteria],
            handoff=handoff,
            handoff_received_at=now if any(handoff.values()) else None,
            started_at=now,
            started_by=by,
            source=source,
        )
    )
    for p in planned:
        tx.add(
            m.OnboardingItem(
                client_id=client_id,
                item_id=p.item_id,
                text=p.text,
                section=p.section,
                owner=p.owner,
                anchor=p.anchor,
                marks=p.marks,
                phase=p.phase,
                position=p.position,
                due_on=p.due_on,
                due_at=p.due_at,
            )
        )
    tx.flush()
    return True


def lifecycles(tx: Transaction, client_ids: Sequence[int] | None = None) -> dict[int, Lifecycle]:
    q = select(m.ClientLifecycle)
    if client_ids is not None:
        q = q.where(m.ClientLifecycle.client_id.in_(id_list(client_ids)))
    rows = list(tx.scalars(q))
    # The criteria themselves live with the success plan (one record for the handoff and the
    # QBR); the lifecycle row keeps what was said at signature only as history.
    plans = success_plans(tx, [r.client_id for r in rows])
    return {
        r.client_id: _lifecycle(r, [c.label() for c in plans.get(r.client_id, [])]) for r in rows
    }


def lifecycle_of(tx: Transaction, client_id: int) -> Lifecycle | None:
    return lifecycles(tx, [client_id]).get(client_id)


def items_of(tx: Transaction, client_ids: Sequence[int]) -> dict[int, list[Item]]:
    out: dict[int, list[Item]] = defaultdict(list)
    if not client_ids:
        return out
    rows = tx.scalars(
        select(m.OnboardingItem)
        .where(m.OnboardingItem.client_id.in_(id_list(client_ids)))
        .order_by(m.OnboardingItem.client_id, m.OnboardingItem.position)
    )
    for r in rows:
        out[r.client_id].append(_item(r))
    return out


def lock_items(tx: Transaction, client_id: int) -> list[Item]:
    """The client's checklist, its lifecycle row locked (PostgreSQL): ticks are serialised."""
    tx.execute(
        select(m.ClientLifecycle.id)
        .where(m.ClientLifecycle.client_id == client_id)
        .with_for_update()
    )
    return items_of(tx, [client_id]).get(client_id, [])


def item_by_id(tx: Transaction, item_id: int) -> tuple[int, Item] | None:
    row = tx.get(m.OnboardingItem, item_id)
    return (row.client_id, _item(row)) if row is not None else None


def mark_done(tx: Transaction, item_id: int, *, by: str, now: datetime) -> bool:
    """Tick an item; False when it was already ticked."""
    row = tx.get(m.OnboardingItem, item_id)
    if row is None or row.done_at is not None:
        return False
    row.done_at, row.done_by = now, by
    return True


def mark_handed_off(tx: Transaction, client_id: int, now: datetime) -> None:
    row = tx.scalars(
        select(m.ClientLifecycle).where(m.ClientLifecycle.client_id == client_id)
    ).one()
    row.handed_off_at = now


def set_kickoff(
    tx: Transaction, client_id: int, day: date, due: dict[str, tuple[date, datetime]]
) -> None:
    """Record the scheduled kickoff and move the open kickoff-anchored items' due dates."""
    row = tx.scalars(
        select(m.ClientLifecycle).where(m.ClientLifecycle.client_id == client_id)
    ).one()
    row.kickoff_on = day
    for item in tx.scalars(
        select(m.OnboardingItem).where(
            m.OnboardingItem.client_id == client_id, m.OnboardingItem.done_at.is_(None)
        )
    ):
        if item.item_id in due:
            item.due_on, item.due_at = due[item.item_id]


def receive_handoff(
    tx: Transaction, client_id: int, handoff: dict[str, str], now: datetime
) -> bool:
    """A sales handoff that arrives after the client was added (the portfolio file names it
    later): recorded once, with when it came. False when one was already received."""
    row = tx.scalars(
        select(m.ClientLifecycle).where(m.ClientLifecycle.client_id == client_id)
    ).one_or_none()
    if row is None or row.handoff_received_at is not None or not any(handoff.values()):
        return False
    row.handoff = handoff
    row.handoff_received_at = now
    return True


# -- hours ----------------------------------------------------------------------------------
def log_hours(
    tx: Transaction,
    client_id: int,
    person_id: str,
    hours: float,
    now: datetime,
    request_key: str | None,
) -> bool:
    if request_key and tx.scalar(
        select(m.OnboardingHours.id).where(m.OnboardingHours.request_key == request_key)
    ):
        return False
    tx.add(
        m.OnboardingHours(
            client_id=client_id,
            person_id=person_id,
            hours=hours,
            logged_at=now,
            request_key=request_key,
        )
    )
    return True


def hours_by_client(tx: Transaction, client_ids: Sequence[int]) -> dict[int, float]:
    if not client_ids:
        return {}
    rows = tx.execute(
        select(m.OnboardingHours.client_id, func.sum(m.OnboardingHours.hours))
        .where(m.OnboardingHours.client_id.in_(id_list(client_ids)))
        .group_by(m.OnboardingHours.client_id)
    )
    return {cid: float(total or 0) for cid, total in rows}


# -- stages ----------------------------------------------------------------------------------
def current_stages(tx: Transaction, client_ids: Sequence[int]) -> dict[int, tuple[str, date]]:
    """Each client's latest recorded stage and the day it began."""
    out: dict[int, tuple[str, date]] = {}
    if not client_ids:
        return out
    rows = tx.scalars(
        select(m.LifecycleStageRecord)
        .where(m.LifecycleStageRecord.client_id.in_(id_list(client_ids)))
        .order_by(m.LifecycleStageRecord.since, m.LifecycleStageRecord.id)
    )
    for r in rows:
        out[r.client_id] = (r.stage, r.since)
    return out


def stage_history(tx: Transaction, client_id: int) -> list[tuple[str, date]]:
    rows = tx.scalars(
        select(m.LifecycleStageRecord)
        .where(m.LifecycleStageRecord.client_id == client_id)
        .order_by(m.LifecycleStageRecord.since, m.LifecycleStageRecord.id)
    )
    return [(r.stage, r.since) for r in rows]


def record_stage(tx: Transaction, client_id: int, stage: str, since: date, now: datetime) -> bool:
    """Record a stage change once (two ticks at once write it once)."""
    values = {"client_id": client_id, "stage": stage, "since": since, "recorded_at": now}
    return insert_ignore(tx, m.LifecycleStageRecord, values)


def expansion_clients(tx: Transaction, client_ids: Sequence[int]) -> set[int]:
    """Clients with a qualified expansion opportunity packaged for the account executive."""
    if not client_ids:
        return set()
    return set(
        tx.scalars(
            select(m.ExpansionPackage.client_id).where(
                m.ExpansionPackage.client_id.in_(id_list(client_ids))
            )
        )
    )


def record_package(
    tx: Transaction,
    *,
    client_id: int,
    key: str,
    ae_id: str | None,
    opportunity: str,
    qualified_by: str,
    now: datetime,
) -> bool:
    values = {
        "client_id": client_id,
        "key": key,
        "ae_id": ae_id,
        "opportunity": opportunity,
        "qualified_by": qualified_by,
        "created_at": now,
    }
    return insert_ignore(tx, m.ExpansionPackage, values)


# -- close-out ---------------------------------------------------------------------------------
def _closeout(row: m.Closeout, items: Sequence[m.CloseoutItem]) -> Closeout:
    return Closeout(
        id=row.id,
        client_id=row.client_id,
        started_at=row.started_at,
        started_by=row.started_by,
        case_study_candidate=row.case_study_candidate,
        case_study_note=row.case_study_note,
        report_md=row.report_md,
        closed_at=row.closed_at,
        items=tuple(
            CloseoutItem(
                id=i.id,
                item_id=i.item_id,
                text=i.text,
                owner=i.owner,
                position=i.position,
                done_at=i.done_at,
                done_by=i.done_by,
            )
            for i in sorted(items, key=lambda i: i.position)
        ),
    )


def closeout_of(tx: Transaction, client_id: int) -> Closeout | None:
    row = tx.scalars(select(m.Closeout).where(m.Closeout.client_id == client_id)).first()
    if row is None:
        return None
    items = tx.scalars(select(m.CloseoutItem).where(m.CloseoutItem.closeout_id == row.id)).all()
    return _closeout(row, items)


def start_closeout(
    tx: Transaction,
    *,
    client_id: int,
    items: Sequence[CloseoutItemSpec],
    by: str,
    now: datetime,
    report_md: str,
    case_study_note: str | None,
) -> tuple[Closeout, bool]:
    """The client's close-out, started once (its report redrafted on a second call)."""
    row = tx.scalars(select(m.Closeout).where(m.Closeout.client_id == client_id)).first()
    new = row is None
    if row is None:
        row = m.Closeout(
            client_id=client_id,
            started_at=now,
            started_by=by,
            case_study_candidate=True,
            case_study_note=case_study_note,
            report_md=report_md,
        )
        tx.add(row)
        tx.flush()
        for position, spec in enumerate(items):
            tx.add(
                m.CloseoutItem(
                    closeout_id=row.id,
                    item_id=spec.id,
                    text=spec.text,
                    owner=spec.owner,
                    position=position,
                )
            )
        tx.flush()
    else:
        row.report_md = report_md
    found = closeout_of(tx, client_id)
    assert found is not None
    return found, new


def closeout_item(tx: Transaction, item_id: int) -> tuple[int, CloseoutItem] | None:
    """(client id, item) of a close-out item."""
    row = tx.get(m.CloseoutItem, item_id)
    if row is None:
        return None
    parent = tx.get(m.Closeout, row.closeout_id)
    assert parent is not None
    return parent.client_id, CloseoutItem(
        id=row.id,
        item_id=row.item_id,
        text=row.text,
        owner=row.owner,
        position=row.position,
        done_at=row.done_at,
        done_by=row.done_by,
    )


def tick_closeout_item(tx: Transaction, item_id: int, *, by: str, now: datetime) -> bool:
    row = tx.get(m.CloseoutItem, item_id, with_for_update=True)
    if row is None or row.done_at is not None:
        return False
    row.done_at, row.done_by = now, by
    parent = tx.get(m.Closeout, row.closeout_id)
    assert parent is not None
    tx.flush()
    open_left = tx.scalar(
        select(func.count())
        .select_from(m.CloseoutItem)
        .where(m.CloseoutItem.closeout_id == parent.id, m.CloseoutItem.done_at.is_(None))
    )
    if not open_left:
        parent.closed_at = now
    return True


def closed_clients(tx: Transaction, client_ids: Sequence[int]) -> set[int]:
    if not client_ids:
        return set()
    return set(
        tx.scalars(
            select(m.Closeout.client_id).where(
                m.Closeout.client_id.in_(id_list(client_ids)), m.Closeout.closed_at.is_not(None)
            )
        )
    )


def first_wins(tx: Transaction, client_ids: Sequence[int]) -> dict[int, datetime]:
    """Each client's first win recorded with /win (time to value)."""
    if not client_ids:
        return {}
    rows = tx.execute(
        select(m.Win.client_id, func.min(m.Win.created_at))
        .where(m.Win.client_id.in_(id_list(client_ids)))
        .group_by(m.Win.client_id)
    )
    return {cid: at for cid, at in rows if at is not None}


def wins_of(tx: Transaction, client_id: int) -> list[str]:
    """The client's wins, oldest first, with their week ("2026-W47: Cut report time…")."""
    rows = tx.execute(
        select(m.Win.iso_week, m.Win.text)
        .where(m.Win.client_id == client_id)
        .order_by(m.Win.created_at, m.Win.id)
    )
    return [f"{week}: {text}" for week, text in rows]


def stages_as_of(tx: Transaction, day: date) -> dict[int, tuple[str, date]]:
    """Each active client's stage on `day`, from the recorded stage changes."""
    rows = tx.execute(
        select(
            m.LifecycleStageRecord.client_id,
            m.LifecycleStageRecord.stage,
            m.LifecycleStageRecord.since,
        )
        .join(m.Client, m.Client.id == m.LifecycleStageRecord.client_id)
        .where(m.LifecycleStageRecord.since <= day, m.Client.active)
        .order_by(m.LifecycleStageRecord.since, m.LifecycleStageRecord.id)
    )
    out: dict[int, tuple[str, date]] = {}
    for cid, stage, since in rows:
        out[cid] = (stage, since)
    return out
