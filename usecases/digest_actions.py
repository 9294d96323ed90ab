"""The leadership digest: build a week's digest, write it to the outbox once, post its parts.

docs/process.md, "Leadership digest". The consistency numbers come from
`storage.kpi_store` — the same counts as `csobot kpi --json`, for the week and for the chart's
past weeks alike. Each caller hands in its one transaction (`tx`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from domain import records
from domain.calendar import IsoWeek
from domain.digest import (
    CADENCE_ID,
    ChartData,
    Digest,
    DigestSettings,
    HealthRecord,
    Item,
    RenewalRecord,
    Section,
    band_counts,
    build_digest,
    chart_data,
    due_digest,
    escalations_section,
    expansion_section,
    flags_section,
    health_section,
    interventions_section,
    nps_section,
    record_gaps_section,
    renewals_section,
)
from domain.expansion import open_pipeline
from domain.extras import missing_extra
from domain.metric import Metric, Period, month_reviewed_by
from prompts.digest_views import DigestMessages, slack_messages
from prompts.metrics_views import grouped, line
from storage import digest_store
from storage.db import Transaction
from storage.expansion_store import opportunities_of
from storage.kpi_store import count_ahead, load_kpi_and_rates
from storage.org_settings_store import org_settings
from storage.portfolio_store import active_clients, organization, people_by_id
from storage.status import rate_limited_minutes
from usecases.intervention_actions import month_records
from usecases.metric_sources import MetricSource, collect
from usecases.outbox import NudgeSpec, enqueue
from usecases.privacy import ChannelGuard

logger = logging.getLogger(__name__)


class DigestRefused(Exception):
    """The digest cannot go to the leadership channel (unset, a client or Slack Connect
    channel, or unreadable). The message says which and what to do."""


def digest_key(week: IsoWeek | str) -> str:
    return digest_store.digest_key(str(week))


# -- building it ---------------------------------------------------------------------------------
def load_digest(
    tx: Transaction,
    week: IsoWeek,
    now: datetime,
    settings: DigestSettings | None = None,
    sources: Sequence[MetricSource] = (),
) -> Digest:
    """The week's digest; its chart covers the `history_weeks` weeks up to it. The first
    digest of a month also carries every metric source's figures for the month just ended."""
    org = organization(tx)
    if settings is None:
        settings = org_settings(tx).digest
    weeks = [week.shift(-i) for i in range(settings.history_weeks - 1, -1, -1)]
    counts = count_ahead(tx, weeks)  # the database counts while the rest is read
    people = people_by_id(tx)
    clients = active_clients(tx)
    names = {p.slack_id: p.name for p in people.values()}
    health = digest_store.health_records(tx, clients, names, week.sunday)
    sections = _sections(tx, week, settings, org, people, clients, health)
    # The digest's numbers: exactly `csobot kpi`'s; its chart's past weeks from the same counts.
    kpi, rates = load_kpi_and_rates(
        tx, week, weeks[:-1], now, people=people, clients=clients, counts=counts
    )
    month = month_reviewed_by(week)
    if month is not None:
        sections += leadership_sections(month, collect(sources, tx, month, now))
    bands = [band_counts(health, w.sunday) for w in weeks] if health else None
    return build_digest(
        kpi,
        organization=org.name,
        sections=sections,
        chart=chart_data([*rates, kpi], bands),
        settings=settings,
        now=now,
    )


def _sections(
    tx: Transaction,
    week: IsoWeek,
    settings: DigestSettings,
    org: records.Organization,
    people: dict[str, records.Person],
    clients: list[records.Client],
    health: list[HealthRecord],
) -> list[Section]:
    day_after = week.sunday + timedelta(days=1)  # "the next 120 days" count from here
    end = datetime.combine(day_after, time(0), tzinfo=UTC)

    def cso(slack_id: str) -> str:
        p = people.get(slack_id)
        return p.name if p else slack_id

    # Health bands
    out = [health_section(health, week, settings)]
    # Open flags
    flags = digest_store.open_flag_records(tx, clients, end)
    out.append(flags_section(flags, week.sunday, settings))
    # Renewals
    outcomes = digest_store.renewal_outcomes(tx)
    bands = {r.client: r.history[-1][2] for r in health if r.history}
    renewals = [
        RenewalRecord(
            client=c.name,
            cso=cso(c.cso_id),
            contract_end=c.contract_end,
            arr=c.arr,
            band=bands.get(c.name),
            outcome=outcomes.get((c.id, c.contract_end)),
        )
        for c in clients
        if c.contract_end is not None
        and 0 <= (c.contract_end - day_after).days <= settings.renewal_window_days
    ]
    out.append(renewals_section(renewals, day_after, settings))
    # Expansion pipeline: the opportunities recorded with /expansion; signals only suggest
    opportunities = [o for o in opportunities_of(tx) if o.client_id in {c.id for c in clients}]
    signalled = digest_store.signalled_clients(tx, clients, end) if health else []
    out.append(
        expansion_section(
            open_pipeline(opportunities),
            sum(c.arr for c in clients),
            recorded=bool(opportunities),
            suggestions=signalled,
        )
    )
    # NPS
    since = end - timedelta(days=settings.nps_window_days)
    out.append(nps_section(digest_store.nps_scores(tx, clients, since, end), settings))
    # Escalations to leadership, in the week's month up to its end
    month_start = week.sunday.replace(day=1)
    start = datetime.combine(month_start, time(0), tzinfo=UTC)
    found = digest_store.escalations(tx, people.values(), clients, start, end)
    out.append(escalations_section(found, month_start.strftime("%B %Y")))
    # Founder interventions this month (to the week's end), with who, which client and why
    month = Period(month_start, week.sunday, month_start.strftime("%Y-%m"))
    founders = month_records(tx, month, people=people, clients=clients)
    out.append(interventions_section(founders, month_start.strftime("%B %Y")))
    # Record gaps
    tz = ZoneInfo(org.timezone or "UTC")
    local_start = datetime.combine(week.monday, time(0), tzinfo=tz)
    minutes = rate_limited_minutes(tx, local_start, local_start + timedelta(days=7))
    out.append(record_gaps_section(minutes, tz))
    return out


def leadership_sections(period: Period, metrics: Sequence[Metric]) -> list[Section]:
    """The monthly leadership review: one section per heading, every figure with its target
    ("no data" where nothing was recorded)."""
    name = date(int(period.label[:4]), int(period.label[5:7]), 1).strftime("%B %Y")
    if not metrics:
        return [Section.not_tracked("metrics", f"{name} review", "no metric sources configured")]
    return [
        Section(
            id=f"metrics:{group}",
            title=f"{name} — {group}",
            summary=f"monthly review, {len(items)} figure{'s' * (len(items) != 1)}",
            items=[Item(text=line(metric)) for metric in items],
        )
        for group, items in grouped(metrics)
    ]


# -- where it goes ------------------------------------------------------------------------------
def leadership_channel(tx: Transaction, guard: ChannelGuard) -> str:
    """The organization's leadership channel, if the digest may be posted there."""
    channel = organization(tx).leadership_channel
    if not channel:
        raise DigestRefused(
            "no leadership_channel is set: add `leadership_channel: C…` under organization "
            "in the portfolio file and import it"
        )
    if guard.is_shared(channel, client_channels=digest_store.client_channels(tx)):
        raise DigestRefused(
            f"the leadership channel {channel} is a client channel, a Slack Connect channel or "
            "cannot be read, so the digest was not posted there: set an internal channel as "
            "leadership_channel"
        )
    return channel


def _parts(
    digest: Digest, messages: DigestMessages, channel: str, now: datetime
) -> list[dict[str, Any]]:
    week = digest.week
    rows: list[dict[str, Any]] = [
        {
            "key": f"{digest_key(week)}:0",
            "week": week,
            "position": 0,
            "kind": "chart",
            "channel": channel,
            "text": f"Consistency per CSO and the health-band mix, the {len(digest.chart.weeks)} "
            f"weeks to {week}",
            "blocks": None,
            "data": {"chart": digest.chart.model_dump(mode="json"), "title": digest.organization},
        }
    ]
    for i, reply in enumerate(messages.replies, 1):
        rows.append(
            {
                "key": f"{digest_key(week)}:{i}",
                "week": week,
                "position": i,
                "kind": "reply",
                "channel": channel,
                "text": reply.text,
                "blocks": reply.blocks,
                "data": {},
            }
        )
    for row in rows:
        row.update(status="pending", created_at=now, attempts=0)
    return rows


def write_digest(
    tx: Transaction,
    digest: Digest,
    channel: str,
    now: datetime,
    *,
    due_at: datetime,
    expires_at: datetime,
) -> bool:
    """The summary nudge and its parts. False if the week's digest is already there."""
    messages = slack_messages(digest)
    spec = NudgeSpec(
        cadence_id=CADENCE_ID,
        period=digest.week,
        target=channel,
        text=messages.summary.text,
        blocks=messages.summary.blocks,
        due_at=due_at,
        expires_at=expires_at,
        batch=False,
        key=digest_key(digest.week),
        data={"week": digest.week, "replies": len(messages.replies)},
    )
    if not enqueue(tx, spec, now):
        return False
    digest_store.add_parts(tx, _parts(digest, messages, channel, now))
    return True


@dataclass(frozen=True)
class Scheduled:
    """What the schedule did at a tick: `new` if it wrote a week's digest; `problem` (with
    `problem_key`, for saying it once) if it could not."""

    new: bool = False
    week: str | None = None
    channel: str | None = None
    problem: str | None = None
    problem_key: str | None = None


def schedule_digest(
    tx: Transaction, guard: ChannelGuard, now: datetime, sources: Sequence[MetricSource] = ()
) -> Scheduled:
    """At the organization's digest moment, write the week just ended's digest, once."""
    settings = org_settings(tx)
    problem = settings.problem("digest")
    if problem:
        return Scheduled(problem=f"digest not scheduled: {problem}", problem_key="settings")
    org = organization(tx)
    due = due_digest(now, ZoneInfo(org.timezone or "UTC"), settings.digest)
    if due is None or digest_store.digest_written(tx, str(due.week)):
        return Scheduled()
    try:
        channel = leadership_channel(tx, guard)
    except DigestRefused as err:
        return Scheduled(
            week=str(due.week),
            problem=f"digest {due.week} not posted: {err}",
            problem_key=f"{due.week}:refused",
        )
    digest = load_digest(tx, due.week, now, settings.digest, sources)
    new = write_digest(tx, digest, channel, now, due_at=due.due_at, expires_at=due.expires_at)
    return Scheduled(new=new, week=str(due.week), channel=channel)


# -- posting a part ------------------------------------------------------------------------------
def post_part(
    client: WebClient, part: digest_store.Part, thread_ts: str
) -> tuple[str | None, str | None]:
    """Post one part in the summary's thread: (message ts, file id)."""
    if part.kind == "chart":
        try:
            from prompts.digest_chart import render_chart  # matplotlib loads only to draw a chart
        except ModuleNotFoundError as exc:
            line = missing_extra(exc)
            if line is None:
                raise
            logger.warning("%s; the chart's description is posted instead", line)
            resp = client.chat_postMessage(
                channel=part.channel, thread_ts=thread_ts, text=part.text
            )
            return resp.get("ts"), None

        chart = ChartData.model_validate(part.data["chart"])
        png = render_chart(chart, title=f"{part.data.get('title', '')} — {part.week}".strip(" —"))
        resp = client.files_upload_v2(
            channel=part.channel,
            thread_ts=thread_ts,
            file=png,
            filename=f"digest-{part.week}.png",
            title=f"Leadership digest {part.week}",
            alt_txt=part.text,
            initial_comment=part.text,
        )
        file = resp.get("file") or {}
        return None, str(file.get("id") or "") or None
    resp = client.chat_postMessage(
        channel=part.channel, thread_ts=thread_ts, text=part.text, blocks=part.blocks
    )
    return resp.get("ts"), None
