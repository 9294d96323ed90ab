"""The weekly Client Health Report on its cadence (docs/process.md, "Client Health Report"):
when the client's `client-health-report` cadence is due (Friday 14:00 for the CSO by default),
the week's draft is written and sent to the CSO to edit and post internally; once per client
and week."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.cadence_plan import catalogue_of, person_tz
from domain.cadence_schedule import occurrences_between
from domain.calendar import IsoWeek
from prompts.report_views import draft_blocks
from storage.cadence_store import nudge_by_key
from storage.org_settings_store import org_settings
from storage.portfolio_store import active_clients, organization, people_by_id
from usecases import report_actions
from usecases.deps import Deps
from usecases.outbox import NudgeSpec, enqueue

CADENCE_ID = "client-health-report"
AHEAD = timedelta(minutes=15)
GRACE = timedelta(hours=4)


def enqueue_health_reports(deps: Deps, now: datetime) -> int:
    new = 0
    with deps.db.transaction() as tx:
        org = organization(tx)
        try:
            cadence = catalogue_of(org_settings(tx)).get(CADENCE_ID)
        except KeyError:
            return 0
        people = people_by_id(tx)
        for client in active_clients(tx):
            tz = person_tz(people.get(client.cso_id), org)
            occurrences = occurrences_between(
                cadence,
                tz,
                now,
                now + AHEAD,
                holiday_country=org.holidays_country,
                holiday_subdiv=org.holidays_subdiv,
                contract_start=client.contract_start,
                contract_end=client.contract_end,
            )
            if not occurrences:
                continue
            occ = occurrences[0]
            week = IsoWeek.of(occ.local_day)
            key = f"health-report-draft:{client.id}:{week}"
            if nudge_by_key(tx, key) is not None:
                continue
            report = report_actions.draft(tx, client, week, now)
            new += enqueue(
                tx,
                NudgeSpec(
                    cadence_id="health_report_draft",
                    period=str(week),
                    target=client.cso_id,
                    person_id=client.cso_id,
                    client_id=client.id,
                    text=f"Client Health Report {week} for {client.name}: edit it, post it",
                    blocks=draft_blocks(report.text, report.id, client.internal_channel),
                    due_at=occ.due_at,
                    expires_at=occ.due_at + GRACE,
                    batch=False,
                    key=key,
                ),
                now,
            )
    return new


ENQUEUERS = (("health_report", enqueue_health_reports),)
