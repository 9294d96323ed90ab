"""The weekly Client Health Report drafts (docs/process.md, "Client Health Report"): one per
client and ISO week, edited by the team, posted once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.db import Transaction
from storage.models import HealthReport
from storage.upsert import insert_ignore


@dataclass(frozen=True)
class ReportDraft:
    id: int
    client_id: int
    week: str
    text: str
    status: str
    posted_at: datetime | None
    channel: str | None


def _record(row: HealthReport) -> ReportDraft:
    return ReportDraft(
        row.id, row.client_id, row.week, row.text, row.status, row.posted_at, row.channel
    )


def _row(tx: Transaction, client_id: int, week: str, *, lock: bool = False) -> HealthReport | None:
    q = select(HealthReport).where(HealthReport.client_id == client_id, HealthReport.week == week)
    if lock:
        q = q.with_for_update()
    return tx.scalars(q).first()


def draft(tx: Transaction, client_id: int, week: str, text: str, now: datetime) -> ReportDraft:
    """The week's draft (written once: an existing draft, edited or posted, is kept)."""
    insert_ignore(
        tx,
        HealthReport,
        {"client_id": client_id, "week": week, "text": text, "status": "draft", "created_at": now},
    )
    row = _row(tx, client_id, week)
    assert row is not None
    return _record(row)


def get(tx: Transaction, report_id: int, *, lock: bool = False) -> ReportDraft | None:
    q = select(HealthReport).where(HealthReport.id == report_id)
    if lock:
        q = q.with_for_update()
    row = tx.scalars(q).first()
    return _record(row) if row is not None else None


def edit(
    tx: Transaction, report_id: int, text: str, *, by: str, now: datetime
) -> ReportDraft | None:
    row = tx.get(HealthReport, report_id)
    if row is None or row.status != "draft":
        return _record(row) if row is not None else None
    row.text, row.edited_by, row.edited_at = text, by, now
    tx.flush()
    return _record(row)


def mark_posted(tx: Transaction, report_id: int, channel: str, *, by: str, now: datetime) -> bool:
    """True the first time (the caller writes the post to the outbox); False once posted."""
    row = tx.scalars(
        select(HealthReport).where(HealthReport.id == report_id).with_for_update()
    ).first()
    if row is None or row.status == "posted":
        return False
    row.status, row.posted_by, row.posted_at, row.channel = "posted", by, now, channel
    tx.flush()
    return True


def counts_between(tx: Transaction, start: datetime, end: datetime) -> tuple[int, int, list[str]]:
    """(drafted, posted, evidence) for the reports drafted in [start, end)."""
    rows = list(
        tx.scalars(
            select(HealthReport).where(
                HealthReport.created_at >= start, HealthReport.created_at < end
            )
        )
    )
    posted = [r for r in rows if r.status == "posted"]
    evidence = [f"client {r.client_id} {r.week}: {r.status}" for r in rows[:20]]
    return len(rows), len(posted), evidence
