"""What the health commands, buttons and the App Home do: score a client, show its breakdown,
record NPS answers and renewal outcomes, run playbooks, prepare QBRs, and the board.

Every function takes the caller's transaction (`tx`) and opens none of its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from domain import records
from domain.board import BoardRow, board_row, sort_rows, suggested_playbook
from domain.calendar import local_date
from domain.health import MODELS, SIGNAL_MAX, SIGNAL_MIN, HealthModel, HealthScore, score
from domain.health_commands import NpsRequest, QbrRequest, RenewalRequest
from domain.health_inputs import SignalState, parse_usage_csv
from domain.metrics import nps_category
from domain.playbooks import Run
from domain.portfolio import LEADERSHIP_ROLES, Role
from domain.renewals import (
    effective_contract_end,
    forecast_call,
    renewal_stage,
    renewal_target,
)
from prompts import blocks as bk
from prompts import health_views as views
from storage import health_store, nps_store, playbook_store, qbr_store, renewal_store
from storage.activity_store import last_touchpoints
from storage.db import Transaction
from storage.flag_store import open_flag_counts
from storage.health_store import all_clients, client_days, org_model
from storage.portfolio_store import (
    active_clients,
    client_by_id,
    clients_of,
    people_by_id,
    timezones_of,
)
from usecases.feedback_actions import add_nps_feedback
from usecases.lifecycle_actions import home_blocks as lifecycle_home_blocks
from usecases.lifecycle_actions import lifecycle_labels
from usecases.outbox import close

# -- the board and the breakdown ------------------------------------------------------------------


def run_summary(runs: Sequence[Run]) -> str | None:
    """ "low-engagement 2/5" for the board (several runs joined)."""
    if not runs:
        return None
    return ", ".join(f"{r.playbook_id} {r.progress.done}/{r.progress.total}" for r in runs)


def load_board(tx: Transaction, clients: Sequence[records.Client], now: datetime) -> list[BoardRow]:
    if not clients:
        return []
    ids = [c.id for c in clients]
    today = client_days(tx, clients, now)
    hist, started = health_store.board_points(tx, ids, today)
    checks = health_store.last_checks(tx, ids)
    zones = timezones_of(tx, clients)
    touched = last_touchpoints(tx, ids)
    flags = open_flag_counts(tx, ids)
    outcomes = renewal_store.outcomes_by_client(tx, ids)
    runs = playbook_store.active_runs(tx, ids)
    rows = []
    for c in clients:
        end, _ = effective_contract_end(c.contract_end, outcomes.get(c.id, {}))
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
                today=today[c.id],
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


def load_breakdown(tx: Transaction, client: records.Client) -> Breakdown:
    """The client's latest score re-read from its stored inputs, with its suggested playbook."""
    model = org_model(tx)
    snap = health_store.latest_snapshot(tx, client.id)
    state = health_store.state_of(snap)
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
            for r in playbook_store.active_runs(tx, [client.id]).get(client.id, [])
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


def breakdown(tx: Transaction, client: records.Client) -> tuple[list[bk.Block], str]:
    """/health <client>: the score, its pillars, the weakest signals, the suggested playbook."""
    b = load_breakdown(tx, client)
    return views.breakdown_blocks(
        name=client.name,
        slug=client.slug,
        model=b.model,
        result=b.result,
        state=b.state,
        day=b.day.isoformat() if b.day else None,
        changed_by=b.changed_by,
        suggestion=b.suggestion,
    )


def signals_form(tx: Transaction, client: records.Client) -> dict[str, Any]:
    """The signals modal, filled with the client's current values."""
    b = load_breakdown(tx, client)
    return views.signals_modal(name=client.name, slug=client.slug, model=b.model, state=b.state)


def board_view(tx: Transaction, user_id: str, now: datetime) -> dict[str, Any]:
    """The Internal Health Board: leadership sees every client grouped by CSO, a CSO theirs."""
    people = people_by_id(tx)
    viewer = people.get(user_id)
    leadership = viewer is not None and Role(viewer.role) in LEADERSHIP_ROLES
    clients = active_clients(tx) if leadership else clients_of(tx, user_id)
    stages = lifecycle_labels(tx, clients, now)
    rows = [
        r.model_copy(update={"stage": stages.get(r.slug)}) for r in load_board(tx, clients, now)
    ]
    names = {pid: p.name for pid, p in people.items()} if leadership else None
    view = views.home_view(rows, grouped=names, now=now)
    onboarding = lifecycle_home_blocks(tx, clients, now)  # above the board
    if onboarding:
        more = "…cut to fit Slack: `/onboarding` lists every onboarding."
        view["blocks"] = views.fit_home([*onboarding, *view["blocks"]], more)
    return view


# -- the signals modal ----------------------------------------------------------------------------


@dataclass
class SignalsForm:
    """A submitted modal read against the model: the values to save, or errors per field."""

    manual: dict[str, float | None]
    errors: dict[str, str]
    present: list[str]


def read_signals(model: HealthModel, given: dict[str, str | None]) -> SignalsForm:
    """Each field the form had: empty → None (not measured), else a number from 0 to 10."""
    manual: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    present = [n for n in model.signal_names if n in given]
    for name in present:
        raw = (given[name] or "").strip()
        if not raw:
            manual[name] = None
            continue
        try:
            value = float(raw)
        except ValueError:
            errors[name] = "Type a number from 0 to 10."
            continue
        if math.isnan(value) or not SIGNAL_MIN <= value <= SIGNAL_MAX:
            errors[name] = f"{value:g} is outside 0–10."
            continue
        manual[name] = value
    if not errors and present and not any(v is not None for v in manual.values()):
        errors[present[0]] = "Give at least one signal a value."
    return SignalsForm(manual=manual, errors=errors, present=present)


def save_signals(
    tx: Transaction,
    client: records.Client,
    manual: dict[str, float | None],
    *,
    by: str,
    now: datetime,
    request_key: str,
) -> str | None:
    """Save a person's signal values as a new score; the message for them (None: nothing to
    score)."""
    model = org_model(tx)
    day = client_days(tx, [client], now)[client.id]
    written = health_store.save_manual(
        tx, client, model, manual, by=by, now=now, day=day, dedupe_key=request_key
    )
    if written.result is None:
        return None
    return views.signals_saved_text(client.name, written.result, written.changes)


# -- /nps -----------------------------------------------------------------------------------------


def record_nps(
    tx: Transaction,
    client: records.Client,
    request: NpsRequest,
    *,
    by: str,
    now: datetime,
    request_key: str,
) -> str:
    new = nps_store.record_nps(
        tx,
        client_id=client.id,
        score=request.score,
        comment=request.comment,
        by=by,
        now=now,
        dedupe_key=request_key,
    )
    add_nps_feedback(tx, client, request.comment, key=request_key, by=by, now=now)  # themes
    tx.flush()
    written = health_store.refresh_derived(
        tx, [client], org_model(tx), now, client_days(tx, [client], now)
    )
    signal = health_store.derive_signals(tx, [client], now)[client.id]["nps"]
    return views.nps_text(
        name=client.name,
        score=request.score,
        kind=nps_category(request.score),
        comment=request.comment,
        signal=signal,
        health=written[0].result if written else None,
        new=new,
    )


# -- playbooks ------------------------------------------------------------------------------------


def start_playbook(
    tx: Transaction,
    client: records.Client,
    playbook_id: str,
    *,
    by: str,
    now: datetime,
    trigger: str | None,
) -> tuple[str, list[bk.Block]]:
    """Start a playbook's checklist for the client (already running → that one, said so)."""
    start = client_days(tx, [client], now)[client.id]
    run, created = playbook_store.start_playbook(
        tx, client, playbook_id, by=by, now=now, start=start, trigger=trigger
    )
    out, text = views.checklist_blocks(run, client.name)
    if not created:
        text = "Already running — " + text
        out = [bk.context("This playbook is already running for this client."), *out]
    return text, out


def suggested_or_default(tx: Transaction, client: records.Client | None) -> str:
    """The playbook a Start button without one means: the client's suggestion, else
    low-engagement."""
    suggestion = load_breakdown(tx, client).suggestion if client else None
    return suggestion or "low-engagement"


def running_checklists(tx: Transaction, client: records.Client) -> list[tuple[list[bk.Block], str]]:
    runs = playbook_store.active_runs(tx, [client.id]).get(client.id, [])
    return [views.checklist_blocks(r, client.name) for r in runs]


def client_of_step(tx: Transaction, step_id: int) -> records.Client | None:
    run = playbook_store.run_of_step(tx, step_id)
    return client_by_id(tx, run.client_id) if run else None


@dataclass
class Ticked:
    step_text: str
    blocks: list[bk.Block]
    text: str


def tick_step(tx: Transaction, step_id: int, *, by: str, now: datetime) -> Ticked | None:
    """Mark a checklist step done and close its nudge; the checklist as it is now."""
    ticked = playbook_store.tick_step(tx, step_id, by=by, now=now)
    if ticked is None:
        return None
    step, run = ticked
    client = client_by_id(tx, run.client_id)
    if client is None:
        return None
    close(tx, f"playbook_step:{client.cso_id}:{step.id}", by=by, now=now)
    out, text = views.checklist_blocks(run, client.name)
    return Ticked(step_text=step.text, blocks=out, text=text)


# -- renewals -------------------------------------------------------------------------------------


def record_renewal(
    tx: Transaction,
    client: records.Client,
    request: RenewalRequest,
    *,
    by: str,
    now: datetime,
    usage: str,
) -> str:
    outcomes = renewal_store.outcomes_by_client(tx, [client.id]).get(client.id, {})
    end = renewal_target(client.contract_end, outcomes, client_days(tx, [client], now)[client.id])
    if end is None:
        return views.NO_CONTRACT_END.format(name=client.name)
    if request.new_end is not None and request.new_end <= end:
        return views.NEW_END_TOO_EARLY.format(end=end, usage=usage)
    snap = health_store.latest_snapshot(tx, client.id)
    outcome, created = renewal_store.record_renewal(
        tx,
        client,
        contract_end=end,
        outcome=request.outcome,
        new_end=request.new_end,
        arr_after=request.arr,
        band=snap.band if snap else None,
        by=by,
        now=now,
    )
    renewal_store.drop_renewal_nudges(tx, client.id, end, by=by, now=now)
    return views.renewal_text(
        name=client.name,
        outcome=request.outcome,
        end=end,
        new_end=request.new_end,
        arr_after=outcome.arr_after,
        created=created,
    )


# -- QBRs -----------------------------------------------------------------------------------------


def qbr(
    tx: Transaction, client: records.Client, request: QbrRequest, *, by: str, now: datetime
) -> str | None:
    """/qbr: record the QBR as held (None), or prepare it (the Markdown document)."""
    if request.delivered:
        qbr_store.mark_qbr(tx, client.id, request.quarter, by=by, now=now, delivered=True)
        return None
    from usecases.qbr_actions import qbr_document  # the QBR's home; it reads the breakdown here

    document = qbr_document(tx, client, request.start, request.end, "md", now)
    qbr_store.mark_qbr(tx, client.id, request.quarter, by=by, now=now, delivered=False)
    return document


# -- the CLI reports ------------------------------------------------------------------------------


def import_usage_csv(
    tx: Transaction, text: str, *, source: str, now: datetime
) -> tuple[health_store.UsageResult, list[str]]:
    """`csobot health import`: keep the good rows, score each client and day; the bad rows'
    problems."""
    model = org_model(tx)
    slugs = [c.slug for c in active_clients(tx)]
    parsed = parse_usage_csv(text, slugs, model, today=now.date() + timedelta(days=1))
    result = health_store.import_usage(tx, parsed.rows, model, source=source, now=now)
    return result, list(parsed.errors)


def renewal_rows(tx: Transaction, start: date, end: date, now: datetime) -> list[dict[str, Any]]:
    """`csobot renewals`: each contract ending in [start, end] with its stage and call."""
    clients = all_clients(tx)
    ids = [c.id for c in clients]
    today = client_days(tx, clients, now)
    latest = health_store.latest_snapshots(tx, ids)
    flags = open_flag_counts(tx, ids)
    outcomes = renewal_store.outcomes_by_client(tx, ids)
    rows = []
    for c in clients:
        mine = outcomes.get(c.id, {})
        # the contracts of this client that end in the quarter: recorded ones and the open one
        ends = {e for e in mine if start <= e <= end}
        open_end, _ = effective_contract_end(c.contract_end, mine)
        if open_end is not None and start <= open_end <= end and c.active:
            ends.add(open_end)
        snap = latest.get(c.id)
        band = snap.band if snap else None
        for contract_end in sorted(ends):
            outcome = mine.get(contract_end)
            left = (contract_end - today[c.id]).days
            stage = renewal_stage(contract_end, today[c.id])
            call = forecast_call(
                outcome.band_at_renewal if outcome and outcome.band_at_renewal else band,
                left,
                outcome.outcome if outcome else None,
                flags.get(c.id, 0),
            )
            rows.append(
                {
                    "slug": c.slug,
                    "name": c.name,
                    "contract_end": contract_end.isoformat(),
                    "days_left": left,
                    "arr": outcome.arr_before if outcome else c.arr,
                    "band": band.value if band else None,
                    "stage": (
                        f"{outcome.outcome.value}"
                        if outcome
                        else stage.title
                        if stage
                        else "overdue"
                        if left < 0
                        else "not started (>120 days)"
                    ),
                    "call": call,
                }
            )
    return rows
