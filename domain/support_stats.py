"""Support figures from the request records (docs/process.md, "Support"), pure: response and
resolution within target, first-contact resolution, escalations over 48 hours, ticket volume.
A figure over nothing is None ("no data"), never 0 % or 100 %."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.support import RequestStatus, SupportRequest


@dataclass(frozen=True)
class Share:
    hits: int
    total: int

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None


def response_within(requests: Sequence[SupportRequest], now: datetime) -> Share:
    """Requests answered by their response target / requests whose answer is known (answered,
    or unanswered past the target). One still inside its target is not counted yet."""
    hits = total = 0
    for r in requests:
        if r.first_response_at is not None:
            total += 1
            hits += r.first_response_at <= r.response_due
        elif now > r.response_due:
            total += 1
    return Share(hits, total)


def resolution_within(requests: Sequence[SupportRequest], now: datetime) -> Share:
    """Requests resolved by their resolution target / requests resolved or past the target."""
    hits = total = 0
    for r in requests:
        if r.resolved_at is not None:
            total += 1
            hits += r.resolved_at <= r.resolution_due
        elif now > r.resolution_due:
            total += 1
    return Share(hits, total)


def first_contact_resolution(requests: Sequence[SupportRequest]) -> Share:
    """Resolved requests that took at most one substantive team reply / resolved requests."""
    resolved = [r for r in requests if r.status is RequestStatus.RESOLVED]
    return Share(sum(1 for r in resolved if r.team_replies <= 1), len(resolved))


def escalations_over(
    requests: Sequence[SupportRequest], now: datetime, hours: float
) -> tuple[int, int]:
    """(escalations resolved after `hours` or still open past them, escalations)."""
    limit = timedelta(hours=hours)
    escalated = [r for r in requests if r.escalated_at is not None]
    late = 0
    for r in escalated:
        assert r.escalated_at is not None
        end = r.resolved_at or now
        late += end - r.escalated_at > limit
    return late, len(escalated)


def volume_trend(current: int, previous: int) -> float | None:
    """Change in request count against the previous period (−0.2 = 20 % fewer); None when the
    previous period had none to compare with."""
    if previous == 0:
        return None
    return current / previous - 1
