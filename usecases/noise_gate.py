"""The noise budget: the outbox's gate for people. Quiet hours, out of office and holidays
(the person's `WorkCalendar`), a daily DM cap — the overdue-touchpoint DM and escalations are
never held back by the cap — and Slack Do Not Disturb. docs/process.md, "Cadences"."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.cadence_plan import CUTOFF, ESCALATIONS, person_calendar, person_tz
from domain.prefs import Prefs
from domain.support import IGNORES_QUIET_HOURS
from storage import cadence_store as store
from storage.cadence_store import GateFacts
from usecases.deps import Deps
from usecases.outbox import Gate

logger = logging.getLogger(__name__)

DND_RECHECK = timedelta(minutes=15)


@dataclass(frozen=True)
class Wait:
    """Why a person's nudges wait, in their words: "quiet hours", in their timezone."""

    reason: str  # quiet hours | out of office | a day off | the daily cap | Do Not Disturb
    tz: str


def make_gate(deps: Deps, slack: WebClient | None, *, waits: dict[str, Wait] | None = None) -> Gate:
    """Returns, per person, a later moment to postpone to (the outbox drops what passes its
    grace), or None to send now. What it reads (people, preferences, out-of-office, the last
    day's DMs) is read once per gate (one tick). Each postponement's reason goes into `waits`
    (by person), when given."""
    facts: list[GateFacts] = []
    told = waits if waits is not None else {}

    def load(now: datetime) -> GateFacts:
        if not facts:
            with deps.db.session() as tx:
                facts.append(store.gate_facts(tx, now))
        return facts[0]

    def gate(target: str, rows: list[Any], now: datetime) -> datetime | None:
        if not target.startswith(("U", "W")):
            return None  # channels are not people
        known = load(now)
        person = known.people.get(target)
        if person is None:
            return None
        prefs = known.prefs.get(target, Prefs())
        tz = person_tz(person, known.org)
        cal = person_calendar(tz, known.org, prefs, known.ooo.get(target, []))
        if all(r.cadence_id in IGNORES_QUIET_HOURS for r in rows):
            return None  # a blocker to the Service Lead: whatever the hour, once
        if not cal.is_open(now):
            today = now.astimezone(tz).date()
            if cal.is_workday(today):
                reason = "quiet hours"
            elif cal.is_business_day(today):
                reason = "out of office"
            else:
                reason = "a day off"
            told[target] = Wait(reason, str(tz))
            return cal.next_open(now)
        critical = any(r.cadence_id in (CUTOFF, *ESCALATIONS) for r in rows)
        if not critical:
            local_midnight = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
            sent_today = sum(
                1 for at in known.sent.get(target, {}).values() if at >= local_midnight
            )
            if sent_today >= prefs.daily_cap:
                logger.info("daily DM cap reached for %s; nudges wait for tomorrow", target)
                told[target] = Wait("the daily cap", str(tz))
                tomorrow = datetime.combine(
                    now.astimezone(tz).date() + timedelta(days=1), cal.start, tzinfo=tz
                )
                return cal.next_open(tomorrow)
        if slack is not None:
            ends = _dnd_ends(slack, target, now)
            if ends is not None:
                told[target] = Wait("Do Not Disturb", str(tz))
                # Check again when it ends, or sooner: people end Do Not Disturb early.
                return min(ends, now + DND_RECHECK)
        return None

    return gate


def _dnd_ends(slack: WebClient, user: str, now: datetime) -> datetime | None:
    """When the user's Do Not Disturb (snooze or schedule) ends, if it is on at `now`."""
    try:
        info = slack.dnd_info(user=user)
    except (SlackApiError, OSError):
        return None  # never let a DnD lookup block a reminder
    ts = now.timestamp()
    if info.get("snooze_enabled") and float(info.get("snooze_endtime") or 0) > ts:
        return datetime.fromtimestamp(float(info["snooze_endtime"]), UTC)
    if info.get("dnd_enabled"):
        start = float(info.get("next_dnd_start_ts") or 0)
        end = float(info.get("next_dnd_end_ts") or 0)
        if start <= ts < end:
            return datetime.fromtimestamp(end, UTC)
    return None
