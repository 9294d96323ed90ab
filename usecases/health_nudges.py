"""Band-driven nudges (docs/process.md, "Health model"), renewal milestones ("Renewal
timeline") and playbook steps ("Playbooks"), written to the outbox in the job's transaction.
Natural keys make each nudge go out once:

* health check due: `health_check:<client>:<due day>` — Red weekly, Yellow biweekly, Green
  monthly after the last check (a person setting the signals); unscored clients: once; only
  clients in `organization.settings.health_checks.stages` when set (their lifecycle stage today);
* alert: `health_alert:<kind>:<client>:<day>` — a fall of ≥ 15 points within 7 days or a band
  change, to the CSO the same day, with the signals that moved;
* escalation: `health_escalation:<person>:<client>:<day the Red run began>` — Red > 14 days
  with no active playbook, to each head_of_delivery (founders when there is none), once a run;
* renewal: `renewal:<person>:<client>:<contract end>:<stage>` — the current stage at −120,
  −90, −60, −45, −30 and −14 days, to the CSO (−14 also to the head_of_delivery);
* playbook step: `playbook_step:<person>:<step id>` — a step that has come due.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.health import (
    CHECK_CADENCE,
    HealthModelError,
    band_since,
    detect_change,
    needs_escalation,
    next_check_due,
    signals_moved,
)
from domain.portfolio import Role
from domain.records import Client, Person
from domain.renewals import effective_contract_end, milestones_due
from prompts import blocks as bk
from prompts import health_views as views
from storage.db import Transaction
from storage.health_store import (
    client_days,
    history,
    last_checks,
    latest_snapshots,
    org_model,
    refresh_derived,
    values_on,
)
from storage.org_settings_store import org_settings
from storage.playbook_store import active_runs
from storage.portfolio_store import active_clients, people_by_id
from storage.renewal_store import outcomes_by_client
from usecases.lifecycle_actions import stages
from usecases.outbox import NudgeSpec, enqueue

logger = logging.getLogger(__name__)

MORNING = time(9, 0)
GRACE = timedelta(days=2)


def _morning(day: date, tz: ZoneInfo, now: datetime) -> datetime:
    at = datetime.combine(day, MORNING, tzinfo=tz)
    return max(at, now)


def _tz(person: Person | None) -> ZoneInfo:
    return ZoneInfo(person.timezone) if person and person.timezone else ZoneInfo("UTC")


def escalation_targets(people: dict[str, Person]) -> list[str]:
    heads = [p.slack_id for p in people.values() if p.role == Role.HEAD_OF_DELIVERY and p.active]
    return heads or [p.slack_id for p in people.values() if p.role == Role.FOUNDER and p.active]


def write_due(session: Transaction, now: datetime) -> int:
    """Write every health, renewal and playbook nudge due at `now`; returns how many are new."""
    n = 0
    clients = active_clients(session)
    if not clients:
        return 0
    people = people_by_id(session)
    today = client_days(session, clients, now)
    try:
        model = org_model(session)
    except HealthModelError as err:
        logger.warning("health model not valid, health nudges skipped: %s", err)
        model = None
    if model is not None:
        refresh_derived(session, clients, model, now, today)
        session.flush()
        n += _health_nudges(session, clients, people, today, now)
    n += _renewal_nudges(session, clients, people, today, now)
    n += _step_nudges(session, clients, people, today, now)
    return n


def _health_nudges(
    session: Transaction,
    clients: list[Client],
    people: dict[str, Person],
    today: dict[int, date],
    now: datetime,
) -> int:
    ids = [c.id for c in clients]
    hist = history(session, ids)
    checks = last_checks(session, ids)
    latest = latest_snapshots(session, ids)
    runs = active_runs(session, ids)
    heads = escalation_targets(people)
    checked = org_settings(session).health_checks
    stage = stages(session, clients, today) if checked.stages is not None else {}
    n = 0
    for c in clients:
        day, points, cso = today[c.id], hist[c.id], people.get(c.cso_id)
        tz = _tz(cso)
        snap = latest.get(c.id)
        band = snap.band if snap else None
        button = bk.actions(bk.button("Update signals", views.EDIT_ACTION, c.slug))
        # 1. the health check, on the band's cadence
        last = checks.get(c.id)
        due = next_check_due(band, last) if band and last else day if not last else None
        if due is not None and due <= day and checked.applies(stage.get(c.id)):
            cadence = CHECK_CADENCE[band] if band else "first"
            text = views.health_check_text(c.name, band, cadence, last)
            period = due.isoformat() if last else "first"
            due_at = _morning(day, tz, now)
            n += enqueue(
                session,
                NudgeSpec(
                    cadence_id="health_check",
                    period=period,
                    target=c.cso_id,
                    person_id=c.cso_id,
                    client_id=c.id,
                    text=text,
                    blocks=[bk.section(text), button, views.why("health_check")],
                    due_at=due_at,
                    expires_at=due_at + GRACE,
                    key=f"health_check:{c.id}:{period}",
                ),
                now,
            )
        # 2. alerts: a fall of 15+ points in 7 days, a band change — the same day
        for alert in detect_change(points, day):
            if alert.on < day - timedelta(days=1):
                continue
            before = values_on(session, c.id, alert.since)
            after = dict(snap.values) if snap else {}
            text = views.alert_text(c.name, alert.message, signals_moved(before, after))
            n += enqueue(
                session,
                NudgeSpec(
                    cadence_id="health_alert",
                    period=f"{alert.on}:{alert.kind}",
                    target=c.cso_id,
                    person_id=c.cso_id,
                    client_id=c.id,
                    text=text,
                    blocks=[bk.section(text), button, views.why("health_alert")],
                    due_at=now,
                    expires_at=now + timedelta(days=1),
                    key=f"health_alert:{alert.kind}:{c.id}:{alert.on}",
                    batch=False,
                ),
                now,
            )
        # 3. Red for more than 14 days with no active playbook → head of delivery, once
        if needs_escalation(points, day, has_active_plan=bool(runs.get(c.id))):
            since = band_since(points, day)
            owner = cso.name if cso else c.cso_id
            text = views.escalation_text(c.name, since, day, owner, points[-8:])
            for head in heads:
                n += enqueue(
                    session,
                    NudgeSpec(
                        cadence_id="health_escalation",
                        period=str(since),
                        target=head,
                        person_id=head,
                        client_id=c.id,
                        text=text,
                        blocks=[
                            bk.section(text),
                            bk.actions(bk.button("Start playbook", views.START_ACTION, c.slug)),
                            views.why("health_escalation"),
                        ],
                        due_at=now,
                        expires_at=now + timedelta(days=3),
                        key=f"health_escalation:{head}:{c.id}:{since}",
                        batch=False,
                    ),
                    now,
                )
    return n


def _renewal_nudges(
    session: Transaction,
    clients: list[Client],
    people: dict[str, Person],
    today: dict[int, date],
    now: datetime,
) -> int:
    outcomes = outcomes_by_client(session, [c.id for c in clients])
    heads = escalation_targets(people)
    n = 0
    for c in clients:
        end, _ = effective_contract_end(c.contract_end, outcomes.get(c.id, {}))
        if end is None or end in outcomes.get(c.id, {}):
            continue
        day = today[c.id]
        if day > end:
            continue
        due = milestones_due(end, day)
        if not due:
            continue
        stage = due[-1].stage
        left = (end - day).days
        text = views.renewal_nudge_text(c.name, c.slug, left, end, stage.title, stage.activity)
        targets = [c.cso_id] + (heads if stage.id == "escalation" else [])
        for person in dict.fromkeys(targets):
            due_at = _morning(day, _tz(people.get(person)), now)
            n += enqueue(
                session,
                NudgeSpec(
                    cadence_id="renewal",
                    period=f"{end}:{stage.id}",
                    target=person,
                    person_id=person,
                    client_id=c.id,
                    text=text,
                    blocks=[bk.section(text), views.why("renewal")],
                    due_at=due_at,
                    expires_at=due_at + GRACE,
                    key=f"renewal:{person}:{c.id}:{end}:{stage.id}",
                ),
                now,
            )
    return n


def _step_nudges(
    session: Transaction,
    clients: list[Client],
    people: dict[str, Person],
    today: dict[int, date],
    now: datetime,
) -> int:
    runs = active_runs(session, [c.id for c in clients])
    by_id = {c.id: c for c in clients}
    n = 0
    for cid, client_runs in runs.items():
        c = by_id[cid]
        for run in client_runs:
            for step in run.steps:
                if step.done_at is not None or step.due > today[cid]:
                    continue
                text = views.step_due_text(c.name, run.playbook_id, step.due, step.text)
                due_at = _morning(today[cid], _tz(people.get(c.cso_id)), now)
                n += enqueue(
                    session,
                    NudgeSpec(
                        cadence_id="playbook_step",
                        period=str(step.id),
                        target=c.cso_id,
                        person_id=c.cso_id,
                        client_id=cid,
                        text=text,
                        blocks=[
                            bk.section(
                                text,
                                accessory=bk.button("Done", views.STEP_ACTION, f"{step.id}:nudge"),
                            )
                        ],
                        due_at=due_at,
                        expires_at=due_at + GRACE,
                        key=f"playbook_step:{c.cso_id}:{step.id}",
                    ),
                    now,
                )
    return n
