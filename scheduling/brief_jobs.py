"""Briefs before the meetings (docs/process.md, "Meeting briefs"), through the tick: the weekly
presentation's brief with Thursday's preparation nudge (to the CSO), the Triangle Sync's two
hours before it (to the CSO, the SL and the EP); as a DM, once per person and occurrence (the
outbox key), batched with whatever else is due for that person at that moment."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.brief import MEETING_CADENCES
from domain.cadence_plan import catalogue_of, person_tz
from domain.cadence_schedule import occurrences_between
from llm.classifier import JsonCompleter
from prompts.brief_views import brief_blocks, brief_why
from storage.cadence_store import nudge_by_key
from storage.org_settings_store import org_settings
from storage.portfolio_store import active_clients, organization, people_by_id
from usecases import brief_actions
from usecases.deps import Deps
from usecases.outbox import NudgeSpec, enqueue

AHEAD = timedelta(minutes=15)  # written this long before it is due (a tick or two)
CADENCE = "meeting_brief"
GRACE = timedelta(hours=1)


def enqueue_meeting_briefs(deps: Deps, now: datetime) -> int:
    new = 0
    llm: JsonCompleter | None = deps.llm
    with deps.db.transaction() as tx:
        org = organization(tx)
        catalogue = catalogue_of(org_settings(tx))
        people = people_by_id(tx)
        for client in active_clients(tx):
            for cadence_id, (meeting, lead) in MEETING_CADENCES.items():
                try:
                    cadence = catalogue.get(cadence_id)
                except KeyError:
                    continue
                cso = people.get(client.cso_id)
                tz = person_tz(cso, org)
                occurrences = occurrences_between(
                    cadence,
                    tz,
                    now + lead,
                    now + lead + AHEAD,
                    holiday_country=org.holidays_country,
                    holiday_subdiv=org.holidays_subdiv,
                    contract_start=client.contract_start,
                    contract_end=client.contract_end,
                )
                if not occurrences:
                    continue
                occ = occurrences[0]
                team = [client.cso_id]
                if meeting == "triangle":
                    team += [p for p in (client.service_lead_id, client.engagement_partner_id) if p]
                keys = {p: f"meeting-brief:{meeting}:{client.id}:{p}:{occ.period}" for p in team}
                team = [p for p in team if nudge_by_key(tx, keys[p]) is None]
                if not team:
                    continue  # already written: the brief (and its model call) is not redone
                brief = brief_actions.build(tx, llm, client, meeting, now)
                text, blocks = brief_blocks(brief)
                blocks = [*blocks, brief_why(meeting, occ.due_at.astimezone(tz))]
                for person in team:
                    new += enqueue(
                        tx,
                        NudgeSpec(
                            cadence_id=CADENCE,
                            period=occ.period[:32],
                            target=person,
                            person_id=person,
                            client_id=client.id,
                            text=text,
                            blocks=blocks,
                            due_at=occ.due_at - lead,
                            expires_at=occ.due_at + GRACE,
                            key=keys[person],
                            data={"meeting": meeting},
                        ),
                        now,
                    )
    return new


ENQUEUERS = (("meeting_briefs", enqueue_meeting_briefs),)
