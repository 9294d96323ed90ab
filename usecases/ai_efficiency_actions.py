"""AI efficiency as a leadership metric (docs/process.md, "AI efficiency"): per CSO and month,
the process tasks the bot did and those done by hand; the manual share and its change against
the CSO's first full month (target −20 %)."""

from __future__ import annotations

from datetime import date, datetime

from domain.ai_efficiency import (
    MANUAL,
    ORGANIZATION,
    TARGET_CHANGE,
    TARGET_TEXT,
    Task,
    efficiency,
    manual_share,
)
from domain.metric import Metric, Period
from domain.portfolio import Role
from domain.touch_rules import HUDDLE, Touch, role_of, update_slot
from storage import ai_efficiency_store as store
from storage.db import Transaction
from storage.org_settings_store import org_settings
from storage.portfolio_store import active_clients, client_timezone, organization, people_by_id
from usecases.metric_sources import with_formulas

GROUP = "AI efficiency"
FORMULA = (
    "Manual share = tasks done by hand / all process tasks, per CSO and month. By the bot: "
    "touchpoints recorded from Slack, drafted updates sent with /update, suggested flags "
    "accepted, QBRs generated (credited to the client's CSO), weekly leadership digests "
    "generated (the organization's line: in the overall share, in no CSO's). By hand: "
    "touchpoints logged with /touchpoint, flags raised with a reaction, updates written by hand "
    "(a CSO message recognised as the morning update or the recap). Change = manual share / "
    "the share in the CSO's first full month − 1; target −20 % or better"
)
SLACK_SOURCES = ("event", "me_message", "file_share", HUDDLE)


def tasks(tx: Transaction, start: date, end: date) -> list[Task]:
    """Every CSO's process tasks in [start, end], as the bot's or by hand."""
    people = people_by_id(tx)
    csos = {p for p, person in people.items() if person.role == Role.CSO.value}
    clients = {c.id: c for c in active_clients(tx)}
    org = organization(tx)
    settings = org_settings(tx).kpi
    out: list[Task] = []
    for t in store.touchpoints_between(tx, start, end):
        client = clients.get(t.client_id)
        if t.author_id not in csos or client is None:
            continue
        if t.source.startswith("update"):
            out.append(Task(t.author_id, t.day, "drafted_update"))
        elif t.source in ("command", "modal"):
            out.append(Task(t.author_id, t.day, "logged_touchpoint"))
        elif t.source in SLACK_SOURCES:
            out.append(Task(t.author_id, t.day, "touchpoint_from_slack"))
            touch = Touch(t.kind, t.source, t.author_id, t.occurred_at, t.day, t.text)
            local = t.occurred_at.astimezone(client_timezone(client, people, org)).time()
            if update_slot(touch, role_of(client, t.author_id), settings, local):
                out.append(Task(t.author_id, t.day, "handwritten_update"))
    for by, source, day in store.flags_between(tx, start, end):
        if by in csos:
            out.append(Task(by, day, "manual_flag" if source == "reaction" else "accepted_flag"))
    for client_id, by, day in store.qbrs_between(tx, start, end):
        qbr_client = clients.get(client_id)
        owner = qbr_client.cso_id if qbr_client and qbr_client.cso_id in csos else by
        if owner in csos:  # the CSO whose QBR it was, whoever asked for it
            out.append(Task(owner, day, "generated_qbr"))
    out.extend(
        Task(ORGANIZATION, day, "generated_digest") for day in store.digests_between(tx, start, end)
    )
    return out


@with_formulas(("AI efficiency", FORMULA))
def ai_efficiency_metrics(tx: Transaction, period: Period, now: datetime) -> list[Metric]:
    del now
    people = people_by_id(tx)
    firsts = store.first_touch_days(tx)
    csos = sorted(p for p, person in people.items() if person.role == Role.CSO.value)
    earliest = min([firsts[p] for p in csos if p in firsts] + [period.start])
    found = tasks(tx, earliest.replace(day=1), period.end)
    in_period = [t for t in found if period.start <= t.day <= period.end]
    rows = [efficiency(found, p, period.start, period.end, firsts.get(p)) for p in csos]
    changes = [r.change for r in rows if r.change is not None]
    change = round(sum(changes) / len(changes), 4) if changes else None
    share = manual_share(in_period)
    evidence = tuple(
        f"{people[r.person].name}: manual share "
        + ("no data" if r.share is None else f"{r.share:.0%}")
        + (
            f", first full month {r.baseline_month} {r.baseline:.0%}"
            if r.baseline is not None
            else ""
        )
        + ("" if r.change is None else f", change {r.change:+.0%}")
        for r in rows
    )
    manual = sum(1 for t in in_period if t.kind in MANUAL)
    digests = sum(1 for t in in_period if t.person == ORGANIZATION)
    if digests:
        evidence += (f"Organization: {digests} leadership digest{'s' if digests != 1 else ''} "
                     "generated (not a CSO's task)",)  # fmt: skip
    return [
        Metric(
            key="ai.manual_share",
            label="Manual share of CSO process tasks",
            group=GROUP,
            value=share,
            unit="ratio",
            formula=FORMULA,
            evidence=(f"{manual} of {len(in_period)} tasks by hand",) if in_period else (),
        ),
        Metric(
            key="ai.manual_change",
            label="Change in manual share vs each CSO's first full month (average)",
            group=GROUP,
            value=change,
            unit="ratio",
            target=TARGET_TEXT,
            on_target=None if change is None else change <= TARGET_CHANGE,
            formula=FORMULA,
            evidence=evidence,
        ),
    ]
