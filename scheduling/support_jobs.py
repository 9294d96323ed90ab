"""Support loops (docs/process.md, "Support"), as enqueuers for the tick, through the outbox:

(a) a blocker: the Service Lead at once, whatever the hour (once);
(b) before the response target runs out (by default at 75 % of it): the CSO and the SL, with
    the link, in their working hours;
(c) a missed target (first response or resolution): recorded, the CSO told at the breach and
    the Service Lead a business day later if the request is still open — like an undecided
    flag;
(d) product feedback: a theme reaching 3 accounts (then 6, 9, …) is posted to the product
    channel once per threshold, in the organization's working hours;
(e) the reference pipeline: a client Green for 60+ days with NPS ≥ 9 enters it.
Each nudge has a natural key, so ticking again (or in two processes) sends it once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.support import (
    BLOCKER_CADENCE,
    BREACH_CADENCE,
    NUDGE_CADENCE,
    Severity,
    SupportRequest,
    deadlines,
)
from prompts.support_views import breach_text, nudge_text, request_blocks
from storage.portfolio_store import active_clients
from storage.support_store import mark_breach, open_requests, support_calendar, support_settings
from usecases.advocacy_actions import enter_eligible
from usecases.deps import Deps
from usecases.feedback_actions import post_themes, theme_with_model
from usecases.outbox import NudgeSpec, enqueue

GRACE = timedelta(days=2)
LOOKBACK = timedelta(days=30)


def enqueue_support_loops(deps: Deps, now: datetime) -> int:
    new = 0
    with deps.db.transaction() as tx:
        clients = {c.id: c for c in active_clients(tx)}
        settings = support_settings(tx)
        for request in open_requests(tx):
            client = clients.get(request.client_id)
            if client is None or request.opened_at < now - LOOKBACK:
                continue
            cal = support_calendar(tx, client, settings)
            sla = settings.sla(client.segment)
            due = deadlines(request.opened_at, client.segment, cal, settings)
            team = [p for p in (client.cso_id, client.service_lead_id) if p]

            def spec(
                cadence: str, step: str, target: str, text: str, at: datetime, r: SupportRequest
            ) -> NudgeSpec:
                return NudgeSpec(
                    cadence_id=cadence,
                    period=f"{r.id}:{step}",
                    target=target,
                    person_id=target,
                    client_id=r.client_id,
                    text=text,
                    blocks=request_blocks(text, r),
                    due_at=at,
                    expires_at=at + GRACE,
                    batch=False,
                    key=f"{cadence}:{r.id}:{step}:{target}",
                    data={"support_request_id": r.id},
                )

            tz_name = str(cal.tz)
            unanswered = request.first_response_at is None
            if request.severity is Severity.BLOCKER and client.service_lead_id:
                text = nudge_text(
                    request,
                    client,
                    hours=sla.response_hours,
                    due=due.response_due.astimezone(cal.tz),
                    tz_name=tz_name,
                )
                new += enqueue(
                    tx,
                    spec(
                        BLOCKER_CADENCE,
                        "blocker",
                        client.service_lead_id,
                        text,
                        request.opened_at,
                        request,
                    ),
                    now,
                )
            if unanswered and due.nudge_at <= now < due.response_due:
                text = nudge_text(
                    request,
                    client,
                    hours=sla.response_hours,
                    due=due.response_due.astimezone(cal.tz),
                    tz_name=tz_name,
                )
                for person in team:
                    new += enqueue(
                        tx, spec(NUDGE_CADENCE, "nudge", person, text, due.nudge_at, request), now
                    )
            breaches = []
            if unanswered and now >= due.response_due:
                breaches.append(("response", due.response_due, sla.response_hours))
            if now >= due.resolution_due:
                breaches.append(("resolution", due.resolution_due, sla.resolution_hours))
            for which, at, hours in breaches:
                mark_breach(tx, request.id, which, at)
                sl_at = cal.add_days(at, settings.service_lead_after_days)
                steps = [("cso", client.cso_id, at)]
                if client.service_lead_id:
                    steps.append(("service_lead", client.service_lead_id, sl_at))
                for step, person, when in steps:
                    if when > now:
                        continue
                    text = breach_text(request, client, which=which, hours=hours, step=step)
                    new += enqueue(
                        tx,
                        spec(BREACH_CADENCE, f"{which}:{step}", person, text, when, request),
                        now,
                    )
    return new


def enqueue_product_feedback(deps: Deps, now: datetime) -> int:
    """(d) a product-feedback theme reaching a new threshold of accounts: one post to the
    product channel (checked: never a client or Slack Connect channel)."""
    if deps.llm is not None:  # the model clusters; the keyword rule when it fails
        from llm.feedback_clusterer import LLMThemeMatcher

        theme_with_model(deps.db, LLMThemeMatcher(deps.llm))
    web = deps.slack
    guard = deps.channel_guard(web) if web is not None else None

    def is_shared(channel: str, client_channels: set[str]) -> bool:
        assert guard is not None
        return guard.is_shared(channel, client_channels=client_channels)

    with deps.db.transaction() as tx:
        return post_themes(tx, now, is_shared if guard is not None else None)


def enqueue_reference_pipeline(deps: Deps, now: datetime) -> int:
    """(e) a client Green for 60+ days with NPS ≥ 9 enters the reference pipeline; its CSO is
    told once."""
    with deps.db.transaction() as tx:
        return enter_eligible(tx, now)


ENQUEUERS = (
    ("support_loops", enqueue_support_loops),
    ("product_feedback", enqueue_product_feedback),
    ("reference_pipeline", enqueue_reference_pipeline),
)
