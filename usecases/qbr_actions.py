"""The QBR, the EBR and the Value Realization Audit from the record
(docs/process.md, "QBR/EBR and the Value Realization Audit"): every section filled from data —
achievements from wins and finished work, usage active vs licensed, value delivered from the
outcomes recorded against the client's success criteria, next goals from the unmet criteria
and the health gaps; the EBR adds long-term ROI and the next roadmap increment from the board;
the audit marks each of the month's outputs "outcome" or "feature only". A section without data
says so, in words."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain import records
from domain.brief import BriefFacts, Fact, grounded
from domain.calendar import IsoWeek
from domain.delivery import Board
from domain.renewals import quarter_of
from domain.value import Marked, Output, mark_all, next_goals, value_lines
from llm.classifier import JsonCompleter
from llm.qbr_writer import llm_narrative
from prompts.qbr_chart import chart_svg
from prompts.qbr_views import (
    AuditData,
    AuditRow,
    Format,
    QbrData,
    QbrLine,
    QbrMetric,
    render_audit,
    render_ebr,
    render_qbr,
)
from prompts.render import plural
from prompts.story_views import freshness
from storage import connector_store, health_store, nps_store, playbook_store, qbr_store
from storage.db import Transaction
from storage.kpi_store import load_kpi
from storage.portfolio_store import timezone_of

logger = logging.getLogger(__name__)


def _bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(0), tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz),
    )


def _direction(first: float | None, last: float | None, step: float = 2) -> str:
    if first is None or last is None:
        return "no data"
    return "up" if last - first >= step else "down" if first - last >= step else "flat"


def outputs(
    tx: Transaction, client: records.Client, board: Board, t0: datetime, t1: datetime
) -> list[Output]:
    """What the period produced: wins, issues done, pull requests merged, releases."""
    out = [
        Output("win", f"win:{w.id}", w.text, w.at, w.link)
        for w in qbr_store.win_lines(tx, client.id, t0, t1)
    ]
    out += [
        Output("issue", i.identifier, f"{i.identifier} {i.title}", i.completed_at, i.url or None)
        for i in board.issues
        if i.completed_at is not None and t0 <= i.completed_at < t1 and i.state_type == "completed"
    ]
    out += [
        Output("pull", p.ref, f"PR #{p.number} {p.title}", p.merged_at, p.url or None)
        for p in board.pulls
        if p.merged_at is not None and t0 <= p.merged_at < t1
    ]
    out += [
        Output(
            "release", f"{r.repo}@{r.tag}", f"Release {r.name} ({r.repo})", r.published_at, r.url
        )
        for r in board.releases
        if r.published_at is not None and t0 <= r.published_at < t1
    ]
    return out


def _weeks(start: date, end: date) -> list[IsoWeek]:
    weeks: list[IsoWeek] = []
    day = start
    while day <= end:
        w = IsoWeek.of(day)
        if not weeks or weeks[-1] != w:
            weeks.append(w)
        day += timedelta(days=1)
    return weeks


def trend_points(
    tx: Transaction, client: records.Client, start: date, end: date, now: datetime
) -> tuple[list[str], list[float | None], list[float | None]]:
    """Per ISO week of the period: its label, the last health score, the consistency rate."""
    weeks = _weeks(start, min(end, now.date()))
    snaps = health_store.snapshots_between(tx, client.id, start, end)
    health: dict[str, float] = {}
    for s in snaps:
        health[str(IsoWeek.of(s.day))] = s.score  # the week's last score wins
    consistency: dict[str, float | None] = {}
    for kpi in load_kpi(tx, weeks, now):
        for cso in kpi.csos:
            for c in cso.clients:
                if c.slug == client.slug:
                    d = c.daily
                    consistency[kpi.week] = d.done / d.expected if d.expected else None
    labels = [str(w) for w in weeks]
    return (
        [f"W{w.week}" for w in weeks],
        [health.get(label) for label in labels],
        [consistency.get(label) for label in labels],
    )


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def qbr_data(
    tx: Transaction,
    client: records.Client,
    start: date,
    end: date,
    now: datetime,
    llm: JsonCompleter | None = None,
) -> QbrData:
    from usecases.health_actions import load_breakdown  # the health area's reader

    tz = timezone_of(tx, client)
    t0, t1 = _bounds(start, end, tz)
    board = connector_store.board(tx, client.id)
    criteria = qbr_store.success_criteria(tx, client.id)
    snaps = health_store.snapshots_between(tx, client.id, start, end)
    first = snaps[0].score if snaps else None
    last = snaps[-1].score if snaps else None
    if snaps:
        health_line = f"{last:g} {snaps[-1].band.value.capitalize()} at {snaps[-1].day}" + (
            f" (from {first:g} at {snaps[0].day}, {_direction(first, last)})"
            if len(snaps) > 1
            else ""
        )
    else:
        health_line = "not scored this quarter"
    wins = qbr_store.win_lines(tx, client.id, t0, t1)
    kinds = qbr_store.touchpoint_kinds(tx, client.id, start, end)
    answers = nps_store.nps_answers(tx, t0, t1, client_id=client.id)
    closed = playbook_store.completed_between(tx, client.id, t0, t1)
    facts = health_store.latest_facts(tx, [client.id], ["active_users"]).get(client.id, {})
    active = int(facts["active_users"]) if "active_users" in facts else None
    labels, health_pts, cons_pts = trend_points(tx, client, start, end, now)
    cons_known = [c for c in cons_pts if c is not None]
    marked = mark_all(outputs(tx, client, board, t0, t1), criteria)
    done_issues = [m for m in marked if m.output.kind == "issue"]
    merged = [m for m in marked if m.output.kind == "pull"]

    metrics = [
        QbrMetric(
            name="Health score",
            target="80+ (Green)",
            actual=f"{last:g}" if last is not None else "no data",
            trend=_direction(first, last),
        ),
        QbrMetric(
            name="Communication consistency (business days with a touchpoint)",
            target="100%",
            actual=f"{_mean(cons_known):.0%} over {plural(len(cons_known), 'week')}"
            if cons_known
            else "no data",
            trend=_direction(
                cons_known[0] * 100 if cons_known else None,
                cons_known[-1] * 100 if cons_known else None,
                5,
            ),
        ),
        QbrMetric(
            name="Active users / licensed seats",
            target="80%+ active",
            actual=(
                f"{active} / {client.licensed_seats} ({active / client.licensed_seats:.0%})"
                if active is not None and client.licensed_seats
                else f"{active} active"
                if active is not None
                else "no data"
            ),
            trend="n/a",
        ),
        QbrMetric(
            name="NPS answers (mean)",
            target="9+",
            actual=f"{sum(answers) / len(answers):.1f} ({len(answers)})" if answers else "no data",
            trend="n/a",
        ),
        QbrMetric(
            name="Weekly wins recorded",
            target=str(max(1, ((end - start).days + 1) // 7)),
            actual=str(len(wins)),
            trend="n/a",
        ),
        QbrMetric(
            name="Touchpoints",
            target="every business day",
            actual=str(sum(kinds.values())),
            trend="n/a",
        ),
    ]
    if board.states:
        metrics.append(
            QbrMetric(
                name="Work finished (issues done / PRs merged)",
                target="n/a",
                actual=f"{len(done_issues)} / {len(merged)}",
                trend="n/a",
            )
        )

    achievements = [QbrLine(text=w.text, link=w.link) for w in wins]
    for m in board.milestones:
        issues = board.milestone_issues(m.name)
        finished = [i.completed_at for i in issues if i.completed_at is not None]
        if issues and all(i.done for i in issues) and finished and t0 <= max(finished) < t1:
            achievements.append(
                QbrLine(text=f"Milestone {m.name} completed ({len(issues)} issues)", link=m.url)
            )
    if done_issues or merged:
        achievements.append(
            QbrLine(
                text=f"{plural(len(done_issues), 'issue')} done and "
                f"{plural(len(merged), 'pull request')} merged"
            )
        )
    achievements += [
        QbrLine(text=m.output.text, link=m.output.link)
        for m in marked
        if m.output.kind == "release"
    ]
    value = value_lines(marked) + [f"Closed the {p} playbook" for p in closed]

    b = load_breakdown(tx, client)
    weakest: list[tuple[str, float]] = []
    if b.result is not None:
        names = {s.name: s.label for p in b.model.pillars for s in p.signals}
        weakest = [(names.get(w.name, w.name), w.value) for w in b.result.weakest]
    data = QbrData(
        name=client.name,
        quarter=quarter_of(start),
        start=start,
        end=end,
        customer_since=client.contract_start.isoformat() if client.contract_start else None,
        arr=client.arr,
        active_users=active,
        licensed_seats=client.licensed_seats,
        health_line=health_line,
        wins=[w.text for w in wins],
        metrics=metrics,
        touchpoints=sorted(kinds.items()),
        value=value,
        goals=next_goals(criteria, marked, weakest),
        achievements=achievements,
        criteria=[c.label() for c in criteria],
        board_note=freshness(board.states, tz) or None,
        chart_svg=chart_svg(labels, health_pts, cons_pts)
        if any(v is not None for v in [*health_pts, *cons_pts])
        else "",
    )
    if llm is not None:
        data.narrative = narrative(llm, data, marked)
    return data


def narrative(llm: JsonCompleter, data: QbrData, marked: Sequence[Marked]) -> list[str]:
    """The model's summary, grounded: only sentences whose cited ids are all among the facts."""
    facts = BriefFacts(client_name=data.name, meeting="weekly")
    facts.facts.append(Fact("health", "health", f"Health: {data.health_line}"))
    for n, metric in enumerate(data.metrics, 1):
        line = f"{metric.name}: {metric.actual} (target {metric.target}, {metric.trend})"
        facts.facts.append(Fact(f"metric{n}", "health", line))
    for item in marked:
        line = f"{item.output.text} [{item.mark}]"
        facts.facts.append(Fact(item.output.ref, "done", line, item.output.link))
    for n, v in enumerate(data.value, 1):
        facts.facts.append(Fact(f"value{n}", "done", v))
    try:
        sentences = llm_narrative(llm, facts, data.quarter)
    except Exception as exc:  # the model failing never stops a document
        logger.warning("QBR narrative for %s failed (%s)", data.name, type(exc).__name__)
        return []
    kept, _ = grounded(sentences, facts.ids())
    return [s.text for s in kept]


def ebr_data(
    tx: Transaction,
    client: records.Client,
    start: date,
    end: date,
    now: datetime,
    llm: JsonCompleter | None = None,
) -> QbrData:
    """The QBR, plus long-term ROI since the contract began and the next roadmap increment."""
    data = qbr_data(tx, client, start, end, now, llm)
    tz = timezone_of(tx, client)
    board = connector_store.board(tx, client.id)
    criteria = qbr_store.success_criteria(tx, client.id)
    since = client.contract_start or start
    t0, t1 = _bounds(since, end, tz)
    marked = mark_all(outputs(tx, client, board, t0, t1), criteria)
    outcomes = [m for m in marked if m.mark == "outcome"]
    months = max(1, (end.year - since.year) * 12 + end.month - since.month)
    roi = [f"Customer since {since} ({months} months); ARR ${client.arr:,.0f}."]
    if outcomes:
        roi.append(
            f"{plural(len(outcomes), 'outcome')} recorded against the success criteria "
            f"since {since}: " + "; ".join(m.output.text for m in outcomes[-5:]) + "."
        )
    else:
        roi.append(f"No outcome recorded against the success criteria since {since}.")
    if criteria:
        met = {m.criterion.goal for m in outcomes if m.criterion is not None}
        roi.append(f"Success criteria with an outcome: {len(met)} of {len(criteria)}.")
    snaps = health_store.snapshots_between(tx, client.id, since, end)
    if len(snaps) > 1:
        roi.append(
            f"Health {snaps[0].score:g} ({snaps[0].day}) → {snaps[-1].score:g} ({snaps[-1].day})."
        )
    data.roi = roi
    today = now.astimezone(tz).date()
    ahead = [
        m
        for m in board.milestones
        if any(not i.done for i in board.milestone_issues(m.name))
        or (m.target is not None and m.target >= today)
    ]
    for m in sorted(ahead, key=lambda m: (m.target is None, m.target or today)):
        issues = board.milestone_issues(m.name)
        left = sum(1 for i in issues if not i.done)
        when = f"target {m.target}" if m.target else "no date"
        data.roadmap.append(
            QbrLine(
                text=f"{m.name} ({when}): {left} of {plural(len(issues), 'issue')} open", link=m.url
            )
        )
    return data


def audit_data(
    tx: Transaction, client: records.Client, start: date, end: date, now: datetime
) -> AuditData:
    tz = timezone_of(tx, client)
    t0, t1 = _bounds(start, end, tz)
    board = connector_store.board(tx, client.id)
    criteria = qbr_store.success_criteria(tx, client.id)
    marked = mark_all(outputs(tx, client, board, t0, t1), criteria)
    met = {m.criterion.goal for m in marked if m.mark == "outcome" and m.criterion is not None}
    labels, health_pts, cons_pts = trend_points(tx, client, start, end, now)
    return AuditData(
        name=client.name,
        month=f"{start:%Y-%m}",
        start=start,
        end=end,
        criteria=[c.label() for c in criteria],
        rows=[
            AuditRow(
                day=m.output.at.astimezone(tz).date(),
                kind=m.output.kind,
                text=m.output.text,
                link=m.output.link,
                mark=m.mark,
                criterion=m.criterion.goal if m.criterion is not None else None,
            )
            for m in marked
        ],
        outcomes=sum(1 for m in marked if m.mark == "outcome"),
        features=sum(1 for m in marked if m.mark == "feature only"),
        unmet=[c.label() for c in criteria if c.goal not in met],
        board_note=freshness(board.states, tz) or None,
        chart_svg=chart_svg(labels, health_pts, cons_pts)
        if any(v is not None for v in [*health_pts, *cons_pts])
        else "",
    )


def qbr_document(
    tx: Transaction,
    client: records.Client,
    start: date,
    end: date,
    fmt: Format,
    now: datetime,
    llm: JsonCompleter | None = None,
) -> str:
    return render_qbr(qbr_data(tx, client, start, end, now, llm), fmt)


def ebr_document(
    tx: Transaction,
    client: records.Client,
    start: date,
    end: date,
    fmt: Format,
    now: datetime,
    llm: JsonCompleter | None = None,
) -> str:
    return render_ebr(ebr_data(tx, client, start, end, now, llm), fmt)


def audit_document(
    tx: Transaction, client: records.Client, start: date, end: date, fmt: Format, now: datetime
) -> str:
    return render_audit(audit_data(tx, client, start, end, now), fmt)
