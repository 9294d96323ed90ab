"""Founder interventions (docs/process.md, "Founder interventions"): recorded from what a
founder posts about a client, by hand with /intervention, or when an escalation reaches a
founder; dismissable; counted each month against "< 1 a month"."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from domain import records
from domain.calendar import local_date, slack_ts_to_datetime
from domain.interventions import (
    DM_CADENCE,
    SOURCES,
    TARGET_PER_MONTH,
    TARGET_TEXT,
    InterventionRecord,
    per_month,
)
from domain.metric import Metric, Period, below
from domain.nudge import NudgeSpec
from domain.portfolio import Role
from domain.touch_rules import permalink
from domain.touchpoint import ChannelMessage
from prompts.intervention_views import recorded_dm
from storage import digest_store
from storage.db import Transaction
from storage.flag_store import client_by_internal_channel, open_flag_counts
from storage.intervention_store import (
    intervention_by_key,
    interventions_between,
    record_intervention,
)
from storage.portfolio_store import (
    active_clients,
    client_by_channel,
    people_by_id,
    person_by_slack_id,
    timezone_of,
)
from usecases.metric_sources import with_formulas
from usecases.outbox import enqueue

CADENCE_ID = DM_CADENCE
GROUP = "Leadership"
FORMULA = (
    "Founder interventions a month = (interventions recorded, not dismissed + escalations that "
    "reached a founder) / months in the period; an intervention is a founder posting in a "
    "client channel, or in its internal channel while a flag or an escalation is open (once per "
    "client and day), or one recorded with /intervention"
)


def note_founder_message(tx: Transaction, msg: ChannelMessage, now: datetime) -> bool:
    """A founder's message about a client: an intervention, once per client and day, and a DM
    to the founder to dismiss it if it was not one. True when recorded now."""
    person = person_by_slack_id(tx, msg.user)
    if person is None or person.role != Role.FOUNDER.value:
        return False
    client = client_by_channel(tx, msg.channel)
    source = "channel"
    if client is None:
        client = client_by_internal_channel(tx, msg.channel)
        if client is None or not _something_open(tx, client.id):
            return False
        source = "internal"
    at = slack_ts_to_datetime(msg.ts)
    day = local_date(at, timezone_of(tx, client))
    key = f"auto:{client.id}:{day.isoformat()}"
    new = record_intervention(
        tx,
        client_id=client.id,
        founder_id=msg.user,
        day=day,
        source=source,
        reason=msg.text[:200],
        link=permalink(msg.channel, msg.ts, msg.thread_ts),
        dedupe_key=key,
        by="csobot",
        now=now,
        posted_at=at,
    )
    if new:
        _tell_founder(tx, client, msg.user, key, source, day.isoformat(), now)
    return new


def _something_open(tx: Transaction, client_id: int) -> bool:
    """An open flag or an open escalation about the client: a founder in its internal channel
    then is stepping in."""
    if open_flag_counts(tx, [client_id])[client_id]:
        return True
    return digest_store.open_escalation(tx, people_by_id(tx).values(), client_id)


def _tell_founder(
    tx: Transaction,
    client: records.Client,
    founder: str,
    key: str,
    source: str,
    day: str,
    now: datetime,
) -> None:
    """The founder, and each head of delivery, may say it was not an intervention: a DM each,
    with *Not an intervention*."""
    row = intervention_by_key(tx, key)
    assert row is not None
    people = people_by_id(tx)
    heads = [
        p.slack_id
        for p in people.values()
        if p.role == Role.HEAD_OF_DELIVERY.value and p.active and p.slack_id != founder
    ]
    who = people.get(founder)
    for target in (founder, *heads):
        text, blocks = recorded_dm(
            client_name=client.name,
            how=SOURCES[source],
            day=day,
            intervention_id=row.id,
            founder_name=None if target == founder else (who.name if who else founder),
        )
        enqueue(
            tx,
            NudgeSpec(
                cadence_id=CADENCE_ID,
                period=day,
                target=target,
                person_id=target,
                client_id=client.id,
                text=text,
                blocks=blocks,
                due_at=now,
                expires_at=now + timedelta(days=2),
                batch=False,
                key=f"{CADENCE_ID}:{row.id}" + ("" if target == founder else f":{target}"),
            ),
            now,
        )


def record_by_hand(
    tx: Transaction,
    client: records.Client,
    reason: str,
    *,
    by: str,
    now: datetime,
    request_key: str | None,
) -> bool:
    """`/intervention acme "reason"`: the founder is the one typing, else the first founder."""
    people = people_by_id(tx)
    founders = [p.slack_id for p in people.values() if p.role == Role.FOUNDER.value]
    founder = by if by in founders else (founders[0] if founders else by)
    return record_intervention(
        tx,
        client_id=client.id,
        founder_id=founder,
        day=local_date(now, timezone_of(tx, client)),
        source="command",
        reason=reason,
        link=None,
        dedupe_key=request_key or f"command:{client.id}:{now.isoformat()}",
        by=by,
        now=now,
    )


def month_records(
    tx: Transaction,
    period: Period,
    *,
    people: dict[str, records.Person] | None = None,
    clients: list[records.Client] | None = None,
) -> list[InterventionRecord]:
    """Every intervention in the period, with the escalations that reached a founder.
    `people` and `clients`: as `people_by_id` and `active_clients` read them in this
    transaction, when the caller has them already."""
    people = people_by_id(tx) if people is None else people
    clients = active_clients(tx) if clients is None else clients
    names = {c.id: c.name for c in clients}
    out = [
        InterventionRecord(
            client=names.get(r.client_id, str(r.client_id)),
            founder=people[r.founder_id].name if r.founder_id in people else r.founder_id,
            day=r.day,
            source=r.source,
            reason=r.reason,
        )
        for r in interventions_between(tx, period.start, period.end)
    ]
    start = datetime.combine(period.start, time(0), tzinfo=UTC)
    end = datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=UTC)
    for e in digest_store.escalations(tx, people.values(), clients, start, end):
        if e.role == Role.FOUNDER.value:
            out.append(InterventionRecord(e.what, e.to, e.sent.date(), "escalation", ""))
    return sorted(out, key=lambda r: (r.day, r.client))


@with_formulas(("Founder interventions", FORMULA))
def intervention_metrics(tx: Transaction, period: Period, now: datetime) -> list[Metric]:
    del now
    found = month_records(tx, period)
    value = per_month(len(found), period.start, period.end)
    return [
        Metric(
            key="leadership.founder_interventions",
            label="Founder interventions a month",
            group=GROUP,
            value=value,
            unit="count",
            target=TARGET_TEXT,
            on_target=below(value, TARGET_PER_MONTH),
            formula=FORMULA,
            evidence=tuple(r.line() for r in found),
        )
    ]
