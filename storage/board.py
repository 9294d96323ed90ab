"""Assemble the Internal Health Board for a set of clients with a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from domain import records
from domain.board import BoardRow, board_row, sort_rows, suggested_playbook
from domain.calendar import local_date
from domain.health import MODELS, HealthModel, HealthScore, score
from domain.health_inputs import SignalState, model_from_settings
from storage.activity import last_touchpoints
from storage.health import (
    active_runs,
    board_points,
    count_open_flags,
    effective_contract_end,
    last_checks,
    latest_snapshot,
    outcomes_by_client,
    run_summary,
    state_of,
)
from storage.portfolio import client_timezone, organization, people_by_id


def org_model(session: Session) -> HealthModel:
    return model_from_settings(organization(session).settings or {})


def client_days(
    session: Session, clients: Sequence[records.Client], now: datetime
) -> dict[int, date]:
    """Today in each client's timezone."""
    org = organization(session)
    people = people_by_id(session)
    return {c.id: local_date(now, client_timezone(c, people, org)) for c in clients}


def client_zones(session: Session, clients: Sequence[records.Client]) -> dict[int, ZoneInfo]:
    org = organization(session)
    people = people_by_id(session)
    return {c.id: client_timezone(c, people, org) for c in clients}


def load_board(
    session: Session, clients: Sequence[records.Client], now: datetime
) -> list[BoardRow]:
    if not clients:
        return []
    ids = [c.id for c in clients]
    today = client_days(session, clients, now)
    hist, started = board_points(session, ids, today)
    checks = last_checks(session, ids)
    zones = client_zones(session, clients)
    touched = last_touchpoints(session, ids)
    flags = count_open_flags(session, ids)
    outcomes = outcomes_by_client(session, ids)
    runs = active_runs(session, ids)
    rows = []
    for c in clients:
        day = today[c.id]
        end, _ = effective_contract_end(c, outcomes.get(c.id, {}))
        last = touched.get(c.id)
        rows.append(
            board_row(
                client_id=c.id,
                slug=c.slug,
                name=c.name,
                cso_id=c.cso_id,
                history=hist[c.id],
                band_started=started.get(c.id),
                last_check=checks.get(c.id),
                today=day,
                last_touchpoint=local_date(last, zones[c.id]) if last else None,
                open_flags=flags.get(c.id, 0),
                contract_end=end,
                playbook=run_summary(runs.get(c.id, [])),
            )
        )
    return sort_rows(rows)


@dataclass
class Breakdown:
    client: records.Client
    model: HealthModel
    result: HealthScore | None
    state: SignalState
    day: date | None
    changed_by: str | None
    suggestion: str | None


def load_breakdown(session: Session, client: records.Client) -> Breakdown:
    """The client's latest score re-read from its stored inputs, with its suggested playbook."""
    model = org_model(session)
    snap = latest_snapshot(session, client.id)
    state = state_of(snap)
    if snap is not None and snap.model_id != model.id and snap.model_id in MODELS:
        model = MODELS[snap.model_id]
    known = set(model.signal_names)
    values = {k: v for k, v in state.values.items() if k in known}
    result = score(model, values, client.segment) if values else None
    suggestion = None
    if result is not None:
        weakest = [(w.name, w.value) for w in result.weakest]
        suggestion = suggested_playbook(result.band, weakest)
        if suggestion and any(
            r.playbook_id == suggestion
            for r in active_runs(session, [client.id]).get(client.id, [])
        ):
            suggestion = None
    return Breakdown(
        client=client,
        model=model,
        result=result,
        state=state,
        day=snap.day if snap else None,
        changed_by=snap.changed_by if snap else None,
        suggestion=suggestion,
    )
