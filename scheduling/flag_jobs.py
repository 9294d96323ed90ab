"""Loops that must close (docs/process.md, "Flags"), as enqueuers for the tick, through the
outbox:

(a) an open flag with no decision: the CSO after 1 business day, the Service Lead after 2;
(b) a client question with no team reply within 4 business hours: the CSO, with the link;
(c) an internal question that was answered but never acknowledged by the asker within
    1 business day: the asker (an orphaned thread).
Each nudge has a natural key, so ticking again (or in two processes) sends it once. Each
enqueuer runs in one transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.flag_loops import ThreadMessage, flag_escalations, lookback, orphaned_answer
from prompts.flag_views import flag_reminder, question_unanswered, thread_orphaned
from storage.flag_store import (
    flag_settings,
    open_flags,
    open_internal_questions,
    recent_questions,
    team_replied,
    work_calendar,
)
from storage.portfolio_store import active_clients
from usecases.deps import Deps
from usecases.outbox import NudgeSpec, enqueue

GRACE = timedelta(days=2)


def enqueue_flag_reminders(deps: Deps, now: datetime) -> int:
    new = 0
    with deps.db.transaction() as tx:
        clients = {c.id: c for c in active_clients(tx)}
        settings = flag_settings(tx)
        for flag in open_flags(tx):
            client = clients.get(flag.client_id)
            if client is None or flag.flagged_at is None:
                continue
            cal = work_calendar(tx, client, settings)
            for step in flag_escalations(flag.flagged_at, cal, settings, now):
                target = client.cso_id if step.step == "cso" else client.service_lead_id
                if not target:
                    continue
                days = (
                    settings.remind_cso_after_days
                    if step.step == "cso"
                    else settings.remind_service_lead_after_days
                )
                text, blocks = flag_reminder(flag, client, step=step.step, days=days)
                new += enqueue(
                    tx,
                    NudgeSpec(
                        cadence_id="flag_reminder",
                        period=f"{flag.id}:{step.step}",
                        target=target,
                        person_id=target,
                        client_id=client.id,
                        text=text,
                        blocks=blocks,
                        due_at=step.due_at,
                        expires_at=step.due_at + GRACE,
                        key=f"flag-reminder:{flag.id}:{step.step}",
                        data={"flag_id": flag.id},
                    ),
                    now,
                )
    return new


def enqueue_unanswered_questions(deps: Deps, now: datetime) -> int:
    new = 0
    with deps.db.transaction() as tx:
        clients = {c.id: c for c in active_clients(tx)}
        settings = flag_settings(tx)
        for question in recent_questions(tx, lookback(now, settings)):
            client = clients.get(question.client_id)
            if client is None:
                continue
            cal = work_calendar(tx, client, settings)
            due = cal.add_hours(question.asked_at, settings.reply_within_hours)
            if due > now or team_replied(tx, question, client):
                continue
            text = question_unanswered(
                author=question.author_id,
                client=client,
                hours=settings.reply_within_hours,
                excerpt=question.excerpt,
                permalink=question.permalink,
            )
            new += enqueue(
                tx,
                NudgeSpec(
                    cadence_id="client_question",
                    period=question.message_ts,
                    target=client.cso_id,
                    person_id=client.cso_id,
                    client_id=client.id,
                    text=text,
                    due_at=due,
                    expires_at=due + GRACE,
                    key=f"client-question:{question.channel}:{question.message_ts}",
                ),
                now,
            )
    return new


def enqueue_orphaned_threads(deps: Deps, now: datetime) -> int:
    new = 0
    with deps.db.transaction() as tx:
        clients = {c.id: c for c in active_clients(tx)}
        settings = flag_settings(tx)
        for question, replies in open_internal_questions(tx, lookback(now, settings)):
            client = clients.get(question.client_id)
            if client is None:
                continue
            answer = orphaned_answer(
                question.author_id,
                question.occurred_at,
                [ThreadMessage(author=r.author_id, at=r.occurred_at) for r in replies],
                acknowledged=question.acknowledged_at is not None,
            )
            if answer is None:
                continue
            due = work_calendar(tx, client, settings).add_days(
                answer.at, settings.acknowledge_within_days
            )
            if due > now:
                continue
            text = thread_orphaned(
                answerer=answer.author, channel=question.channel, excerpt=question.excerpt
            )
            new += enqueue(
                tx,
                NudgeSpec(
                    cadence_id="orphaned_thread",
                    period=question.message_ts,
                    target=question.author_id,
                    person_id=question.author_id,
                    client_id=client.id,
                    text=text,
                    due_at=due,
                    expires_at=due + GRACE,
                    key=f"orphaned-thread:{question.channel}:{question.message_ts}",
                ),
                now,
            )
    return new


ENQUEUERS = [
    ("flag_reminders", enqueue_flag_reminders),
    ("client_questions", enqueue_unanswered_questions),
    ("orphaned_threads", enqueue_orphaned_threads),
]
