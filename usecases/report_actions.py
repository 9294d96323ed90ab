"""The weekly Client Health Report (docs/process.md, "Client Health Report"): gathered from the
record (communication consistency, health and its pillars, NPS, milestones and ticket status
from the cached Linear board, risks and asks, the week's win), drafted for the team to edit,
posted once to the client's internal channel — never to a client or Slack Connect channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from slack_sdk import WebClient

from domain import records
from domain.calendar import IsoWeek
from domain.delivery import Board, Milestone
from domain.metric import Metric, Period
from prompts import report_views as views
from prompts.render import plural
from prompts.report_views import Format, MilestoneRow, ReportData, ReportLine
from prompts.story_views import freshness
from storage import health_store, nps_store, report_store
from storage.activity_store import latest_win_of_week
from storage.db import Transaction
from storage.flag_store import client_channels, open_flags, recent_questions
from storage.kpi_store import load_week_kpi
from usecases.deps import Deps
from usecases.health_actions import load_breakdown
from usecases.outbox import NudgeSpec, enqueue
from usecases.story_actions import story_of

NPS_DAYS = 90
POST_GRACE = timedelta(days=2)


def _pct(done: int, expected: int) -> str:
    if not expected:
        return "no data"
    return f"{done} of {expected} business days ({done / expected:.0%})"


def milestone_status(m: Milestone, board: Board, today: date) -> MilestoneRow:
    issues = board.milestone_issues(m.name)
    done = sum(1 for i in issues if i.done)
    if issues and done == len(issues):
        status = "done"
    elif m.target is None:
        status = "no date"
    elif m.target < today:
        status = "late"
    elif any(i.blocked for i in issues if not i.done):
        status = "at risk (blocked work)"
    else:
        status = "on track"
    return MilestoneRow(name=m.name, target=m.target, done=done, total=len(issues), status=status)


def report_data(
    tx: Transaction, client: records.Client, week: IsoWeek, now: datetime
) -> ReportData:
    cs = story_of(tx, client, now)
    tz, board = cs.tz, cs.board
    today = now.astimezone(tz).date()
    start = datetime.combine(week.monday, time(0), tzinfo=tz)
    end = start + timedelta(days=7)

    consistency = "no data"
    kpi = load_week_kpi(tx, week, now)
    for cso in kpi.csos:
        for c in cso.clients:
            if c.slug == client.slug:
                consistency = _pct(c.daily.done, c.daily.expected)

    b = load_breakdown(tx, client)
    latest = health_store.latest_snapshot(tx, client.id, today)
    if latest is None:
        health = "not scored"
    else:
        health = f"{latest.score:g} {latest.band.value.capitalize()} ({latest.day:%b %-d})"
        before = health_store.latest_snapshot(tx, client.id, today - timedelta(days=7))
        if before is not None and before.day != latest.day:
            health += f", {latest.score - before.score:+g} since {before.day:%b %-d}"
    pillars = (
        [(p.label, "no data" if p.mean is None else f"{p.mean:.1f}/10") for p in b.result.pillars]
        if b.result is not None
        else []
    )
    answers = nps_store.nps_answers(tx, now - timedelta(days=NPS_DAYS), now, client_id=client.id)
    nps = (
        f"mean {sum(answers) / len(answers):.1f} from {plural(len(answers), 'answer')}"
        if answers
        else "no data"
    )

    issues = board.issues
    tickets: list[tuple[str, int]] = []
    if issues or "linear" in board.states:
        tickets = [
            (
                "Done this week",
                sum(1 for i in issues if i.completed_at and start <= i.completed_at < end),
            ),
            ("In progress", sum(1 for i in issues if i.state_type == "started" and not i.blocked)),
            ("Blocked", sum(1 for i in issues if i.blocked and not i.done)),
            ("Past due", sum(1 for i in issues if i.overdue(today))),
            (
                "Not started",
                sum(1 for i in issues if i.state_type in ("unstarted", "backlog", "triage")),
            ),
        ]
    risks = [
        ReportLine(text=f"{i.identifier} {i.title} is blocked", link=i.url or None)
        for i in issues
        if i.blocked and not i.done
    ]
    risks += [
        ReportLine(
            text=f"{i.identifier} {i.title} is past due ({i.due:%b %-d})", link=i.url or None
        )
        for i in issues
        if i.overdue(today) and not i.blocked and i.due is not None
    ]
    risks += [
        ReportLine(text=f"Open flag: {f.kind.replace('_', ' ')} — {f.excerpt}", link=f.permalink)
        for f in open_flags(tx, client.id)
    ]
    if cs.result.mismatches:
        risks.append(
            ReportLine(text=f"{len(cs.result.mismatches)} story-vs-board mismatch(es): see /health")
        )
    asks = [
        ReportLine(text=f"Client asked: {q.excerpt}", link=q.permalink)
        for q in recent_questions(tx, start)
        if q.client_id == client.id
    ]
    win_text = latest_win_of_week(tx, client.id, week)
    return ReportData(
        name=client.name,
        week=str(week),
        start=week.monday,
        end=week.sunday,
        consistency=consistency,
        health=health,
        pillars=pillars,
        nps=nps,
        milestones=[milestone_status(m, board, today) for m in board.milestones],
        tickets=tickets,
        board_note=freshness(board.states, tz) or None,
        risks=risks[:20],
        asks=asks[:20],
        win=ReportLine(text=win_text) if win_text else None,
    )


def export(
    tx: Transaction, client: records.Client, week: IsoWeek, now: datetime, fmt: Format
) -> str:
    return views.render_report(report_data(tx, client, week, now), fmt)


def draft(
    tx: Transaction, client: records.Client, week: IsoWeek, now: datetime
) -> report_store.ReportDraft:
    """The week's draft (written once; the team's edits are kept)."""
    text = views.render_report(report_data(tx, client, week, now), "slack").strip()
    return report_store.draft(tx, client.id, str(week), text, now)


@dataclass(frozen=True)
class Posted:
    ok: bool
    text: str  # what the person who clicked reads


def post(
    tx: Transaction,
    deps: Deps,
    web: WebClient,
    client: records.Client,
    report_id: int,
    *,
    by: str,
    now: datetime,
    text: str | None = None,
) -> Posted:
    """Post the draft (edited first when `text` is given) to the internal channel, once,
    through the outbox. Refused when the internal channel is unset, a client channel, or
    shared with another organization (or its status cannot be read)."""
    found = report_store.get(tx, report_id, lock=True)
    if found is None or found.client_id != client.id:
        return Posted(False, "That report is gone.")
    if found.status == "posted":
        return Posted(False, views.already_posted(found.channel, found.week))
    channel = client.internal_channel
    if not channel or deps.channel_guard(web).is_shared(
        channel, client_channels=client_channels(tx)
    ):
        return Posted(False, views.refused_channel(client.name, channel))
    if text is not None:
        report_store.edit(tx, report_id, text, by=by, now=now)
        found = report_store.get(tx, report_id)
        assert found is not None
    if not report_store.mark_posted(tx, report_id, channel, by=by, now=now):
        return Posted(False, views.already_posted(found.channel, found.week))
    enqueue(
        tx,
        NudgeSpec(
            cadence_id="health_report",
            period=found.week,
            target=channel,
            client_id=client.id,
            text=found.text,
            due_at=now,
            expires_at=now + POST_GRACE,
            batch=False,
            key=f"health-report:{client.id}:{found.week}",
        ),
        now,
    )
    return Posted(True, views.posted(channel, client.name, found.week))


def report_metrics(tx: Transaction, period: Period, now: datetime) -> list[Metric]:
    """Leadership figure: weekly Client Health Reports posted internally / drafted (the
    cadence fired) in the period; no draft: no data."""
    start = datetime.combine(period.start, time(0), tzinfo=UTC)
    end = datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=UTC)
    drafted, posted, evidence = report_store.counts_between(tx, start, end)
    value = posted / drafted if drafted else None
    return [
        Metric(
            key="reporting.health_reports_posted",
            label="Client Health Reports posted",
            group="Reporting",
            value=round(value, 4) if value is not None else None,
            unit="ratio",
            target="100 %",
            on_target=None if value is None else value >= 1.0,
            formula="weekly Client Health Reports posted to the internal channel / reports "
            "drafted on their cadence in the period",
            evidence=tuple(evidence),
        )
    ]
