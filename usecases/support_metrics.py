"""The support figures for `csobot metrics` and the monthly leadership section (a metric
source, docs/process.md, "Support")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from domain.metric import Metric, Period
from domain.portfolio import Segment
from domain.support_stats import (
    escalations_over,
    first_contact_resolution,
    resolution_within,
    response_within,
    volume_trend,
)
from storage.db import Transaction
from storage.portfolio_store import active_clients
from storage.support_store import requests_opened, support_settings

GROUP = "Support"


def _bounds(period: Period) -> tuple[datetime, datetime]:
    start = datetime.combine(period.start, time(0), tzinfo=UTC)
    return start, datetime.combine(period.end, time(0), tzinfo=UTC) + timedelta(days=1)


def _evidence(n: int, what: str) -> tuple[str, ...]:
    return (f"{n} {what}",) if n else ()


def support_metrics(tx: Transaction, period: Period, now: datetime) -> Sequence[Metric]:
    start, end = _bounds(period)
    settings = support_settings(tx)
    clients = active_clients(tx)
    segment_of = {c.id: c.segment for c in clients}
    requests = requests_opened(tx, start, end)
    out: list[Metric] = []
    for segment in Segment:
        mine = [r for r in requests if segment_of.get(r.client_id) == segment.value]
        sla = settings.sla(segment.value)
        name = segment.value.replace("_", "-")
        resp = response_within(mine, now)
        res = resolution_within(mine, now)
        out.append(
            Metric(
                key=f"support.response_within_sla.{segment.value}",
                label=f"First response within SLA ({name}, {sla.response_hours:g} business h)",
                group=GROUP,
                value=resp.value,
                unit="ratio",
                target="100 %",
                on_target=None if resp.value is None else resp.value >= 1.0,
                formula=(
                    "requests opened in the period first answered by their response target"
                    " / those answered, or unanswered past the target (business hours of the"
                    " client)"
                ),
                evidence=_evidence(resp.total, "support requests"),
            )
        )
        out.append(
            Metric(
                key=f"support.resolution_within_sla.{segment.value}",
                label=f"Resolved within SLA ({name}, {sla.resolution_hours:g} business h)",
                group=GROUP,
                value=res.value,
                unit="ratio",
                target="100 %",
                on_target=None if res.value is None else res.value >= 1.0,
                formula=(
                    "requests opened in the period resolved by their resolution target"
                    " / those resolved, or open past the target"
                ),
                evidence=_evidence(res.total, "support requests"),
            )
        )
    fcr = first_contact_resolution(requests)
    out.append(
        Metric(
            key="support.first_contact_resolution",
            label="First-contact resolution",
            group=GROUP,
            value=fcr.value,
            unit="ratio",
            target="> 70 %",
            on_target=None if fcr.value is None else fcr.value > 0.7,
            formula=(
                "resolved requests (opened in the period) resolved with at most one"
                " substantive team reply / resolved requests"
            ),
            evidence=_evidence(fcr.total, "resolved requests"),
        )
    )
    late, escalated = escalations_over(requests, now, settings.escalation_hours)
    out.append(
        Metric(
            key="support.escalations_over_48h",
            label=f"Escalations open over {settings.escalation_hours:g} h",
            group=GROUP,
            value=float(late) if requests else None,
            unit="count",
            target="0",
            on_target=None if not requests else late == 0,
            formula=(
                "breached requests (opened in the period) resolved more than"
                f" {settings.escalation_hours:g} hours after the breach, or still open past it"
            ),
            evidence=_evidence(escalated, "escalations"),
        )
    )
    length = end - start
    previous = requests_opened(tx, start - length, start)
    trend = volume_trend(len(requests), len(previous))
    per_client = len(requests) / len(clients) if clients and (requests or previous) else None
    out.append(
        Metric(
            key="support.volume_per_client",
            label="Support requests per client",
            group=GROUP,
            value=per_client,
            unit="count",
            target="decreasing",
            on_target=None,
            formula="requests opened in the period / active clients",
            evidence=_evidence(len(requests), "support requests"),
        )
    )
    out.append(
        Metric(
            key="support.volume_trend",
            label="Ticket volume against the previous period",
            group=GROUP,
            value=trend,
            unit="ratio",
            target="decreasing (< 0)",
            on_target=None if trend is None else trend < 0,
            formula="requests opened in the period / requests opened in the period before − 1",
            evidence=_evidence(len(previous), "requests the period before"),
        )
    )
    return out
