"""Service facts shared by every process: Slack dropping our events, the token revoked, the app
uninstalled, and the write probe behind `/healthz`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ServiceStatus

RATE_LIMITED = "slack_rate_limited"  # {"minutes": [epoch seconds, ...]}
REVOKED = "slack_revoked"  # {"reason": "tokens_revoked" | "app_uninstalled", "at": iso}
PROBE = "health_probe"

KEEP_RATE_LIMITED = timedelta(days=35)  # long enough for the monthly leadership view


def get(session: Session, name: str) -> dict[str, Any] | None:
    row = session.get(ServiceStatus, name)
    return dict(row.value) if row is not None else None


def put(session: Session, name: str, value: dict[str, Any], now: datetime) -> None:
    row = session.get(ServiceStatus, name)
    if row is None:
        session.add(ServiceStatus(name=name, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now


def clear(session: Session, name: str) -> None:
    row = session.get(ServiceStatus, name)
    if row is not None:
        session.delete(row)


def probe(session: Session, now: datetime) -> None:
    """A real write: `/healthz` is healthy only when the database takes one."""
    put(session, PROBE, {"at": now.isoformat()}, now)


def add_rate_limited_minute(session: Session, minute: int, now: datetime) -> None:
    """Slack told us it dropped events in the minute starting at `minute` (epoch seconds)."""
    row = session.get(ServiceStatus, RATE_LIMITED, with_for_update=True)
    cutoff = (now - KEEP_RATE_LIMITED).timestamp()
    minutes = sorted(
        {m for m in ((row.value or {}).get("minutes", []) if row else []) if m >= cutoff} | {minute}
    )
    put(session, RATE_LIMITED, {"minutes": minutes}, now)


def rate_limited_minutes(session: Session, start: datetime, end: datetime) -> list[int]:
    value = get(session, RATE_LIMITED) or {}
    lo, hi = start.timestamp(), end.timestamp()
    return [int(m) for m in value.get("minutes", []) if lo <= m < hi]


def revoked(session: Session) -> dict[str, Any] | None:
    return get(session, REVOKED)


def all_status(session: Session) -> dict[str, dict[str, Any]]:
    return {row.name: dict(row.value) for row in session.scalars(select(ServiceStatus))}
