"""Renewal outcomes recorded with /renewal (the chain rules are in domain.renewals)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select, update

from domain import records
from domain.health import Band
from domain.renewals import Outcome, RenewalOutcome, arr_after_renewal
from storage.db import Transaction, id_list
from storage.models import Nudge, RenewalOutcomeRecord
from storage.upsert import insert_ignore


def _outcome(row: RenewalOutcomeRecord) -> RenewalOutcome:
    return RenewalOutcome(
        client_id=row.client_id,
        contract_end=row.contract_end,
        outcome=Outcome(row.outcome),
        new_end=row.new_end,
        arr_before=row.arr_before,
        arr_after=row.arr_after,
        band_at_renewal=Band(row.band_at_renewal) if row.band_at_renewal else None,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def outcomes_by_client(
    tx: Transaction, client_ids: Sequence[int]
) -> dict[int, dict[date, RenewalOutcome]]:
    out: dict[int, dict[date, RenewalOutcome]] = defaultdict(dict)
    if not client_ids:
        return out
    for r in tx.scalars(
        select(RenewalOutcomeRecord).where(RenewalOutcomeRecord.client_id.in_(id_list(client_ids)))
    ):
        out[r.client_id][r.contract_end] = _outcome(r)
    return out


def record_renewal(
    tx: Transaction,
    client: records.Client,
    *,
    contract_end: date,
    outcome: Outcome,
    new_end: date | None,
    arr_after: float | None,
    band: Band | None,
    by: str,
    now: datetime,
) -> tuple[RenewalOutcome, bool]:
    """Record (or correct) the outcome of the contract ending on `contract_end`."""
    values = {
        "client_id": client.id,
        "contract_end": contract_end,
        "outcome": outcome.value,
        "new_end": new_end,
        "arr_before": float(client.arr),
        "arr_after": arr_after_renewal(outcome, arr_after, client.arr),
        "band_at_renewal": band.value if band else None,
        "recorded_by": by,
        "recorded_at": now,
    }
    created = insert_ignore(tx, RenewalOutcomeRecord, values)
    row = tx.scalars(
        select(RenewalOutcomeRecord).where(
            RenewalOutcomeRecord.client_id == client.id,
            RenewalOutcomeRecord.contract_end == contract_end,
        )
    ).one()
    if not created:
        for key in ("outcome", "new_end", "arr_after", "recorded_by", "recorded_at"):
            setattr(row, key, values[key])
        tx.flush()
    return _outcome(row), created


def outcomes_between(tx: Transaction, start: date, end: date) -> list[RenewalOutcome]:
    return [
        _outcome(r)
        for r in tx.scalars(
            select(RenewalOutcomeRecord).where(
                RenewalOutcomeRecord.contract_end >= start,
                RenewalOutcomeRecord.contract_end <= end,
            )
        )
    ]


def drop_renewal_nudges(
    tx: Transaction, client_id: int, contract_end: date, *, by: str, now: datetime
) -> None:
    """An outcome is recorded: pending renewal nudges for that contract are not sent."""
    tx.execute(
        update(Nudge)
        .where(
            Nudge.cadence_id == "renewal",
            Nudge.client_id == client_id,
            Nudge.period.like(f"{contract_end}:%"),
            Nudge.status == "pending",
        )
        .values(status="dropped", closed_at=now, closed_by=by)
    )
