"""What the cadences do: plan and write a tick's nudges, render a person's nudges as one message
(the outbox's batcher), the reminder buttons (Skip today, Snooze 1h, Done), and `/cso prefs` and
`/cso ooo`. Every function that writes takes the caller's transaction (`tx`); what talks to
Slack (updating a sent message, the heads-up) runs after the commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.cadence_plan import (
    catalogue_of,
    escalation_window,
    escalations,
    person_tz,
    plan,
    touchpoint_closers,
)
from domain.calendar import holidays_between
from domain.nudge import split_line_key
from domain.prefs import Prefs, SetPref
from domain.records import Person
from prompts import blocks as bk
from prompts import cadence_views as views
from storage import cadence_store as store
from storage import outbox_store
from storage.activity_store import record_exemption
from storage.cadence_store import Message, NudgeRecord
from storage.db import Database, Transaction
from storage.org_settings_store import org_settings
from storage.portfolio_store import organization, people_by_id, person_by_slack_id
from usecases.deps import Deps
from usecases.noise_gate import make_gate
from usecases.outbox import (
    NudgeSpec,
    default_batcher,
    default_lines,
    deliver_due,
    enqueue,
    message_rows,
    overfull,
    summary_blocks,
    text_blocks,
)

logger = logging.getLogger(__name__)

SNOOZE = timedelta(hours=1)
HEADS_UP = "ooo-heads-up"
CLICKABLE = ("sent", "pending")  # a reminder a button can still act on


# -- the tick -------------------------------------------------------------------------------------
def enqueue_due(tx: Transaction, now: datetime) -> int:
    """Write the nudges due at `now` (and the escalations of a missed cutoff): how many."""
    snap = store.load_snapshot(tx, now)
    due, missed = plan(snap, now)
    if missed:
        first, last = escalation_window(missed)
        org = snap.org
        holidays = set(
            holidays_between(org.holidays_country or "", first, last, org.holidays_subdiv)
        )
        history = store.escalation_history(tx, first, last, {c.id for c, _ in missed})
        due += [
            n
            for n in escalations(snap, missed, history, holidays)
            if n.natural_key() not in snap.existing
        ]
    return outbox_store.enqueue_many(tx, due, now)


# -- rendering: one readable message per person and slot ------------------------------------------
def render_summary(rows: Sequence[views.NudgeLike]) -> list[bk.Block]:
    """The reorganised message: one line per client, then *See the full list*."""
    s = views.summary(rows)
    return summary_blocks(s.header, s.lines, line_blocks=s.line_blocks, footer=s.footer)


def render_batch(rows: list[Any]) -> tuple[str, list[bk.Block]]:
    """The outbox's batcher: one person's nudges (outbox rows) as one message. Too much for one
    Slack message (50 blocks, 3,000 characters a section): one line per client with its count
    and a button to the full list, never cut."""
    if not any(views.is_cadence(r) for r in rows):
        return default_batcher(rows)
    text, blocks = views.message(rows)
    if overfull(blocks):
        return text, render_summary(rows)
    return text, blocks


def list_blocks(rows: list[Any]) -> list[bk.Block]:
    """Every nudge of a message, in full, for the *See the full list* modal."""
    if not any(views.is_cadence(r) for r in rows):
        return text_blocks(default_lines(rows))
    out: list[bk.Block] = []
    for lines, blocks in views.full_list(rows):
        out.extend(text_blocks(lines))
        out.extend(blocks)
    return out


def refresh_messages(db: Database, slack: WebClient | None, messages: Iterable[Message]) -> None:
    """Done is done: re-render sent messages from their nudges' state (after the commit)."""
    if slack is None:
        return
    for channel, ts in sorted(messages):
        rows = message_rows(db, channel, ts)
        if not rows:
            continue
        text, blocks = render_batch(rows)
        try:
            slack.chat_update(channel=channel, ts=ts, text=bk.fallback(text), blocks=blocks)
        except SlackApiError as exc:
            logger.warning("could not update reminder %s (%s)", ts, exc.response.get("error"))


# -- the buttons ----------------------------------------------------------------------------------
def find_nudge(tx: Transaction, key: str | None) -> NudgeRecord | None:
    """The reminder a click or a form is about, whatever its state."""
    return store.nudge_by_key(tx, key) if key else None


def nudge_key(tx: Transaction, nudge_id: int) -> str | None:
    """The key of a reminder named by its id (an overflow menu's option)."""
    return store.nudge_key_by_id(tx, nudge_id)


def open_nudge(tx: Transaction, key: str | None) -> NudgeRecord | None:
    """The reminder a click is about, if a button can still act on it."""
    nudge = store.nudge_by_key(tx, key) if key else None
    return nudge if nudge is not None and nudge.status in CLICKABLE else None


def skip_day(
    tx: Transaction, nudge: NudgeRecord, *, by: str, reason: str, now: datetime
) -> set[Message]:
    """Skip today: no touchpoint is expected from the client that day (an exemption, with its
    reason), and that day's reminders close."""
    assert nudge.client_id is not None
    day = date.fromisoformat(str(nudge.data.get("day")))
    record_exemption(tx, client_id=nudge.client_id, day=day, reason=reason, by=by, now=now)
    closers = touchpoint_closers(catalogue_of(org_settings(tx)))
    _, messages = store.close_for_client(
        tx,
        nudge.client_id,
        closers,
        period=day.isoformat(),
        by=by,
        outcome=views.skipped_outcome(day, by, reason),
        now=now,
    )
    return messages


def snooze(tx: Transaction, nudge: NudgeRecord, *, by: str, now: datetime) -> set[Message] | None:
    """Snooze 1h: the reminder again in an hour (once), this one closed. None when it is not
    sent (nothing to snooze)."""
    if nudge.status != "sent" or split_line_key(nudge.key) is not None:
        return None  # a checklist's line is closed by Done, never snoozed
    tz = person_tz(person_by_slack_id(tx, nudge.target), organization(tx))
    due = now + SNOOZE
    data = dict(nudge.data)
    root = str(data.get("snoozed_from") or nudge.key)
    count = int(data.get("snoozes", 0)) + 1
    enqueue(
        tx,
        NudgeSpec(
            cadence_id=nudge.cadence_id,
            period=nudge.period,
            target=nudge.target,
            person_id=nudge.person_id,
            client_id=nudge.client_id,
            text=nudge.text,
            due_at=due,
            expires_at=due + timedelta(hours=1),
            data={**data, "snoozed_from": root, "snoozes": count},
            key=f"{root}:snooze{count}",
        ),
        now,
    )
    return store.close_nudge(tx, nudge.key, by=by, outcome=views.snoozed_outcome(due, tz), now=now)


def mark_done(tx: Transaction, nudge: NudgeRecord, *, by: str, now: datetime) -> set[Message]:
    """Done: record who closed the occurrence and when; it closes for everyone nudged."""
    tz = person_tz(person_by_slack_id(tx, by), organization(tx))
    _, messages = store.mark_done(
        tx, nudge, by=by, outcome=views.done_outcome(by, now, tz), now=now
    )
    return messages


# -- /cso prefs | ooo -----------------------------------------------------------------------------
def person_zone(tx: Transaction, slack_id: str) -> tuple[Person | None, ZoneInfo]:
    person = person_by_slack_id(tx, slack_id)
    return person, person_tz(person, organization(tx))


def prefs(tx: Transaction, slack_id: str, change: SetPref | None, now: datetime) -> Prefs:
    """A person's nudge settings, after `change` if one is given."""
    if change is not None:
        return store.set_pref(tx, slack_id, change, now)
    return store.prefs_of(tx, slack_id)


def cancel_ooo(tx: Transaction, slack_id: str, today: date, now: datetime) -> str:
    return views.ooo_cancelled(store.cancel_ooo(tx, slack_id, today, now))


def show_ooo(tx: Transaction, slack_id: str, today: date) -> str:
    spans = store.current_ooo(tx, slack_id, today)
    return views.ooo_shown([(s.start_day, s.end_day) for s in spans])


@dataclass(frozen=True)
class OooSet:
    reply: str
    heads_up: bool  # heads-ups were queued: deliver them after the commit


def set_ooo(tx: Transaction, person: Person, start: date, end: date, now: datetime) -> OooSet:
    """Time out of office; each of the CSO's Service Leads gets a heads-up (they are Plan B)."""
    period = f"{start}..{end}"
    store.add_ooo(tx, person.slack_id, start, end, by=person.slack_id, now=now)
    people = people_by_id(tx)
    by_sl = store.clients_by_service_lead(tx, person.slack_id)
    for sl, clients in by_sl.items():
        text, blocks = views.heads_up(person.name, start, end, [c.name for c in clients])
        enqueue(
            tx,
            NudgeSpec(
                cadence_id=HEADS_UP,
                period=period,
                target=sl,
                person_id=sl,
                text=text,
                due_at=now,
                expires_at=now + timedelta(days=1),
                batch=False,
                key=f"{HEADS_UP}:{sl}:{person.slack_id}:{period}",
                blocks=blocks,
            ),
            now,
        )
    told = [people[sl].name if sl in people else sl for sl in by_sl]
    return OooSet(views.ooo_set(start, end, told), bool(by_sl))


def deliver_heads_up(deps: Deps, slack: WebClient, now: datetime) -> None:
    """Send the out-of-office heads-ups now (after the commit), through the noise gate."""
    deliver_due(
        deps.db,
        slack,
        now,
        gate=make_gate(deps, slack),
        batcher=render_batch,
        cadences={HEADS_UP},
    )
