"""The weekly leadership digest: one message that says whether leadership is needed.

docs/process.md, "Leadership digest". Pure: everything here takes plain records and `now`/dates
as parameters. `usecases.digest_actions` loads the records — the consistency numbers always from
`storage.kpi_store.load_kpi`, so they match `csobot kpi --json` — and `prompts.digest_views`
renders the result.

The digest is a list of *sections*. A section without data says so in one line (`no_data`;
`not_tracked` for data not recorded at all) instead of showing an empty or made-up number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.cadence import Weekday, parse_duration, parse_hhmm
from domain.calendar import IsoWeek, local_datetime
from domain.expansion import pipeline_share
from domain.health import Band, HistoryItem, current_band, days_in_band
from domain.interventions import TARGET_PER_MONTH, TARGET_TEXT, InterventionRecord
from domain.kpi import Totals, WeekKpi, WeekRates
from domain.metrics import TARGETS, nps
from domain.renewals import days_to_renewal, renewal_stage

CADENCE_ID = "digest"


# -- settings: organization.settings["digest"] (parsed with the rest: domain/org_settings.py) ------
_WEEKDAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


class DigestSettings(BaseModel):
    """When the digest goes out and what counts as needing leadership (the process's numbers
    as defaults)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    enabled: bool = True
    day: Weekday = Weekday.MON
    at: time = Field(
        default=time(8, 0), alias="time", description="local time in the organization's zone"
    )
    grace: timedelta = Field(default=timedelta(hours=12), description="not sent later than this")
    consistency_attention_below: float = Field(default=0.9, ge=0, le=1)
    flag_attention_days: int = Field(default=2, ge=0)
    renewal_window_days: int = Field(default=120, ge=1)
    renewal_attention_days: int = Field(default=14, ge=0)
    red_attention_days: int = Field(default=14, ge=0)
    nps_window_days: int = Field(default=90, ge=1)
    history_weeks: int = Field(default=8, ge=1, le=26)

    @field_validator("day", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        if isinstance(value, str):
            word = value.strip().lower()
            return _WEEKDAYS.get(word, word[:3])
        return value

    @field_validator("at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return parse_hhmm(value)

    @field_validator("grace", mode="before")
    @classmethod
    def _grace(cls, value: Any) -> Any:
        return parse_duration(value)


# -- when ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DueDigest:
    week: IsoWeek
    due_at: datetime
    expires_at: datetime


def week_just_ended(now: datetime, tz: ZoneInfo) -> IsoWeek:
    """The last ISO week that has fully ended at `now` in `tz`."""
    return IsoWeek.of(now.astimezone(tz).date()).shift(-1)


def due_digest(now: datetime, tz: ZoneInfo, settings: DigestSettings) -> DueDigest | None:
    """The digest due at `now`: this week's scheduled moment has come and its grace has not
    passed. It covers the ISO week just ended (the one before the scheduled moment's week)."""
    if not settings.enabled:
        return None
    this_week = IsoWeek.of(now.astimezone(tz).date())
    day = this_week.monday + timedelta(days=settings.day.number)
    moment = local_datetime(day, settings.at, tz)
    if now < moment or now >= moment + settings.grace:
        return None
    return DueDigest(week=this_week.shift(-1), due_at=moment, expires_at=moment + settings.grace)


# -- the model ----------------------------------------------------------------------------------
SectionStatus = Literal["ok", "not_tracked", "no_data"]


class Item(BaseModel):
    text: str
    attention: bool = False


class Section(BaseModel):
    """One portfolio section. `not_tracked`: its data does not exist yet (a line says so)."""

    id: str
    title: str
    status: SectionStatus = "ok"
    summary: str = ""
    items: list[Item] = Field(default_factory=list)
    more: int = 0  # items left out for length, said as "…and N more"
    on_track: str | None = None  # a phrase for the one "on track" line

    @property
    def attention(self) -> list[Item]:
        return [i for i in self.items if i.attention]

    @property
    def attention_count(self) -> int:
        return len(self.attention) + self.attention_more

    attention_more: int = 0

    @classmethod
    def not_tracked(cls, id: str, title: str, why: str) -> Section:
        return cls(id=id, title=title, status="not_tracked", summary=why)


@dataclass(kw_only=True, slots=True)
class Miss:
    client: str
    slug: str
    days: list[date]


@dataclass(kw_only=True, slots=True)
class Exempt:
    client: str
    slug: str
    day: date
    reason: str


@dataclass(kw_only=True, slots=True)
class WinItem:
    client: str
    slug: str
    text: str


@dataclass(kw_only=True, slots=True)
class CsoDigest:
    slack_id: str
    name: str
    expected: int
    done: int
    rate: float | None
    daily_expected: int
    daily_done: int
    weekly_expected: int
    weekly_done: int
    clients: int
    misses: list[Miss] = field(default_factory=list)
    presentations_missing: list[str] = field(default_factory=list)
    exemptions: list[Exempt] = field(default_factory=list)
    wins: list[WinItem] = field(default_factory=list)
    # Presentations recorded with a win that reads as a list of activity, not an outcome.
    not_tangible: list[WinItem] = field(default_factory=list)
    attention: bool = False
    # The team's touches that did not count (docs/process.md, "What counts"): how many, and
    # the first as an example ("Acme Corp: “ok” — an acknowledgement").
    ignored: int = 0
    ignored_example: str | None = None
    # Update discipline (not in the rate): expected days, morning updates and recaps sent.
    updates_expected: int = 0
    morning_done: int = 0
    eod_done: int = 0

    @property
    def missed_days(self) -> int:
        return sum(len(m.days) for m in self.misses)

    @property
    def on_track(self) -> bool:
        return self.expected > 0 and self.done == self.expected


class ChartData(BaseModel):
    """What the PNG shows: consistency per CSO and the health-band mix, last N weeks."""

    weeks: list[str]
    overall: list[float | None]
    csos: dict[str, list[float | None]]  # name -> rate per week (None: nothing expected)
    bands: list[dict[str, int]] | None = None  # per week {"green": n, ...}; None: no data


class Digest(BaseModel):
    week: str
    organization: str
    generated_at: datetime
    has_data: bool
    overall: Totals
    daily_expected: int
    daily_done: int
    weekly_expected: int
    weekly_done: int
    csos: list[CsoDigest]
    sections: list[Section]
    updates_expected: int = 0
    morning_done: int = 0
    eod_done: int = 0
    chart: ChartData
    attention_items: list[str]
    attention_count: int
    on_track_line: str
    all_on_track: bool = False  # every CSO at 100%: the only time the line is shown in green

    @property
    def headline(self) -> str:
        n = self.attention_count
        if n == 0:
            return f"Nothing needs leadership this week ({self.week})."
        return f"{n} item{'s' * (n != 1)} need{'s' * (n == 1)} leadership this week ({self.week})."


# -- building it --------------------------------------------------------------------------------
def cso_digests(kpi: WeekKpi, settings: DigestSettings) -> list[CsoDigest]:
    """Per CSO, straight from the KPI (same numbers as `csobot kpi --json`)."""
    out = []
    for cso in kpi.csos:
        misses, exempt, wins, no_presentation = [], [], [], []
        not_tangible: list[WinItem] = []
        for c in cso.clients:
            if c.daily.missed:
                misses.append(
                    Miss(
                        client=c.name,
                        slug=c.slug,
                        days=[date.fromisoformat(d) for d in c.daily.missed],
                    )
                )
            for e in c.daily.exempt:
                exempt.append(
                    Exempt(
                        client=c.name,
                        slug=c.slug,
                        day=date.fromisoformat(e["date"]),
                        reason=e["reason"],
                    )
                )
            wp = c.weekly_presentation
            if wp.win is not None and wp.done and wp.tangible is False:
                not_tangible.append(WinItem(client=c.name, slug=c.slug, text=wp.win))
            elif wp.win is not None and wp.done:
                wins.append(WinItem(client=c.name, slug=c.slug, text=wp.win))
            elif wp.expected and not wp.done:
                no_presentation.append(c.name)
        ignored = [(c.name, i) for c in cso.clients for i in c.daily.ignored]
        example = (
            f"{ignored[0][0]}: “{ignored[0][1].excerpt[:60]}” — {ignored[0][1].reason}"
            if ignored
            else None
        )
        attention = (
            kpi.has_data
            and cso.rate is not None
            and cso.rate < settings.consistency_attention_below
        )
        out.append(
            CsoDigest(
                slack_id=cso.slack_id,
                name=cso.name,
                expected=cso.expected,
                done=cso.done,
                rate=cso.rate,
                daily_expected=sum(c.daily.expected for c in cso.clients),
                daily_done=sum(c.daily.done for c in cso.clients),
                weekly_expected=sum(c.weekly_presentation.expected for c in cso.clients),
                weekly_done=sum(c.weekly_presentation.done for c in cso.clients),
                clients=len(cso.clients),
                misses=misses,
                presentations_missing=no_presentation,
                exemptions=exempt,
                wins=wins,
                not_tangible=not_tangible,
                attention=attention,
                ignored=len(ignored),
                ignored_example=example,
                updates_expected=sum(c.updates.expected for c in cso.clients if c.updates),
                morning_done=sum(c.updates.morning.done for c in cso.clients if c.updates),
                eod_done=sum(c.updates.eod.done for c in cso.clients if c.updates),
            )
        )
    return out


def pct(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.1f}%"


def build_digest(
    kpi: WeekKpi,
    *,
    organization: str,
    sections: Sequence[Section],
    chart: ChartData,
    settings: DigestSettings,
    now: datetime,
) -> Digest:
    csos = cso_digests(kpi, settings)
    attention: list[str] = []
    for c in csos:
        if c.attention:
            parts = [f"{c.missed_days} missed day{'s' * (c.missed_days != 1)}"]
            if c.presentations_missing:
                n = len(c.presentations_missing)
                parts.append(f"{n} weekly presentation{'s' * (n != 1)} missing")
            attention.append(
                f"{c.name}: consistency {pct(c.rate)} ({c.done} of {c.expected}) — "
                + ", ".join(parts)
            )
    count = len(attention)
    for s in sections:
        attention.extend(f"{s.title}: {i.text}" for i in s.attention)
        if s.attention_more:
            attention.append(f"{s.title}: …and {s.attention_more} more")
        count += s.attention_count
    on_track: list[str] = []
    full = sum(1 for c in csos if c.on_track)
    if kpi.has_data:
        on_track.append(f"{full} of {len(csos)} CSO{'s' * (len(csos) != 1)} at 100% consistency")
    on_track.extend(s.on_track for s in sections if s.status == "ok" and s.on_track)
    line = "; ".join(on_track) if on_track else "nothing to report as on track yet"
    return Digest(
        week=kpi.week,
        organization=organization,
        generated_at=now,
        has_data=kpi.has_data,
        overall=kpi.overall,
        daily_expected=sum(c.daily_expected for c in csos),
        daily_done=sum(c.daily_done for c in csos),
        weekly_expected=sum(c.weekly_expected for c in csos),
        weekly_done=sum(c.weekly_done for c in csos),
        updates_expected=sum(c.updates_expected for c in csos),
        morning_done=sum(c.morning_done for c in csos),
        eod_done=sum(c.eod_done for c in csos),
        csos=csos,
        sections=list(sections),
        chart=chart,
        attention_items=attention,
        attention_count=count,
        on_track_line=f"On track: {line}.",
        all_on_track=kpi.has_data and bool(csos) and full == len(csos),
    )


def chart_data(
    kpis: Sequence[WeekKpi | WeekRates], bands: list[dict[str, int]] | None = None
) -> ChartData:
    """Oldest week first. A week without data is a gap (None), never 0%."""
    names: list[str] = []
    for k in kpis:
        for c in k.csos:
            if c.name not in names:
                names.append(c.name)
    series: dict[str, list[float | None]] = {n: [] for n in names}
    for k in kpis:
        rates = {c.name: c.rate for c in k.csos}
        for n in names:
            series[n].append(rates.get(n) if k.has_data else None)
    return ChartData(
        weeks=[k.week for k in kpis],
        overall=[k.overall.rate if k.has_data else None for k in kpis],
        csos=series,
        bands=bands,
    )


# -- portfolio sections (pure; storage hands in the records) -------------------------------------
LIST_LIMIT = 12


class HealthRecord(BaseModel):
    client: str
    cso: str
    history: list[tuple[date, float, str]]
    active_plan: bool | None = None  # None: intervention plans are not tracked


def band_counts(records: Sequence[HealthRecord], day: date) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for r in records:
        band = current_band(r.history, day)
        if band is not None:
            counts[band.value] += 1
    return {b.value: counts.get(b.value, 0) for b in Band}


def _history(r: HealthRecord) -> list[HistoryItem]:
    return [(d, s, b) for d, s, b in r.history]


def health_section(
    records: Sequence[HealthRecord], week: IsoWeek, settings: DigestSettings
) -> Section:
    title = "Health bands"
    end, before = week.sunday, week.shift(-1).sunday
    now_counts, prev_counts = band_counts(records, end), band_counts(records, before)
    if not any(now_counts.values()):
        return Section(id="health", title=title, status="no_data", summary="No health scores yet.")
    parts = []
    for band in Band:
        n, delta = now_counts[band.value], now_counts[band.value] - prev_counts[band.value]
        change = f" ({delta:+d})" if delta else ""
        parts.append(f"{band.value.capitalize()} {n}{change}")
    items: list[Item] = []
    reds = []
    for r in records:
        hist = _history(r)
        if current_band(hist, end) is Band.RED:
            reds.append((days_in_band(hist, end), r))
    reds.sort(key=lambda x: (-x[0], x[1].client))
    for days, r in reds:
        if r.active_plan is None:
            status = "intervention status not tracked"
        else:
            status = "intervention plan active" if r.active_plan else "no intervention plan"
        moved = " — moved to Red this week" if current_band(_history(r), before) != Band.RED else ""
        items.append(
            Item(
                text=f"{r.client} ({r.cso}): Red for {days} day{'s' * (days != 1)}, "
                f"{status}{moved}",
                attention=days > settings.red_attention_days and r.active_plan is not True,
            )
        )
    return _limited(
        Section(
            id="health",
            title=title,
            summary=" · ".join(parts) + " (change since last week)",
            items=items,
            on_track=f"{now_counts['green']} client{'s' * (now_counts['green'] != 1)} Green",
        )
    )


class FlagRecord(BaseModel):
    client: str
    kind: str
    opened: date
    excerpt: str = ""


def flags_section(records: Sequence[FlagRecord], today: date, settings: DigestSettings) -> Section:
    title = "Open flags"
    if not records:
        return Section(id="flags", title=title, summary="No open flags.", on_track="no open flags")
    ages = sorted(
        [((today - r.opened).days, r) for r in records], key=lambda x: (x[0], x[1].client)
    )
    buckets = Counter(
        "under 2 days" if a < 2 else "2–6 days" if a < 7 else "7 days or more" for a, _ in ages
    )
    summary = f"{len(records)} open — " + " · ".join(
        f"{k}: {buckets[k]}" for k in ("under 2 days", "2–6 days", "7 days or more") if buckets[k]
    )
    items = [
        Item(
            text=f"{r.client}: {r.kind.replace('_', ' ')}, open {a} day{'s' * (a != 1)}"
            + (f' — "{r.excerpt[:80]}"' if r.excerpt else ""),
            attention=a >= settings.flag_attention_days,
        )
        for a, r in reversed(ages)
    ]
    fresh = sum(1 for a, _ in ages if a < settings.flag_attention_days)
    return _limited(
        Section(
            id="flags",
            title=title,
            summary=summary,
            items=items,
            on_track=f"{fresh} fresh flag{'s' * (fresh != 1)} being handled" if fresh else None,
        )
    )


class RenewalRecord(BaseModel):
    client: str
    cso: str
    contract_end: date
    arr: float
    band: str | None = None
    outcome: str | None = None


def renewals_section(
    records: Sequence[RenewalRecord], today: date, settings: DigestSettings
) -> Section:
    window = settings.renewal_window_days
    title = f"Renewals in the next {window} days"
    upcoming = sorted(
        (r for r in records if 0 <= days_to_renewal(r.contract_end, today) <= window),
        key=lambda r: (r.contract_end, r.client),
    )
    if not upcoming:
        return Section(
            id="renewals", title=title, summary="None.", on_track=f"no renewals in {window} days"
        )
    items = []
    ok = 0
    for r in upcoming:
        left = days_to_renewal(r.contract_end, today)
        stage = renewal_stage(r.contract_end, today)
        stage_text = r.outcome or (stage.title if stage else "—")
        band = f", {r.band.capitalize()}" if r.band else ""
        attention = r.outcome is None and (
            left <= settings.renewal_attention_days or (r.band or "") == Band.RED.value
        )
        ok += 0 if attention or r.outcome else 1
        items.append(
            Item(
                text=f"{r.client} ({r.cso}): {r.contract_end.isoformat()}, in {left} days, "
                f"ARR {r.arr:,.0f}{band} — {stage_text}",
                attention=attention,
            )
        )
    total = sum(r.arr for r in upcoming)
    return _limited(
        Section(
            id="renewals",
            title=title,
            summary=f"{len(upcoming)} renewal{'s' * (len(upcoming) != 1)}, ARR {total:,.0f}",
            items=items,
            on_track=f"{ok} renewal{'s' * (ok != 1)} progressing" if ok else None,
        )
    )


def expansion_section(
    pipeline_value: float,
    portfolio_arr: float,
    *,
    recorded: bool = True,
    suggestions: Sequence[str] = (),
) -> Section:
    """The real pipeline (opportunities recorded with /expansion) against 15–20 % of managed
    ARR; clients with expansion signals are listed apart, as suggestions, never counted."""
    share = pipeline_share(pipeline_value, portfolio_arr)
    title = "Expansion pipeline"
    items = [
        Item(text=f"Signals suggest an opportunity (not counted): {name}") for name in suggestions
    ]
    if not recorded:
        return _limited(
            Section(
                id="expansion",
                title=title,
                status="no_data",
                summary='No expansion opportunities recorded (`/expansion acme add 30000 "what"`).',
                items=items,
            )
        )
    if share.share is None:
        return Section(id="expansion", title=title, status="no_data", summary="No ARR recorded.")
    text = (
        f"{pipeline_value:,.0f} open = {pct(share.share)} of managed ARR {portfolio_arr:,.0f} "
        f"(target {share.target_low:.0%}–{share.target_high:.0%}: {share.status})"
    )
    return _limited(
        Section(
            id="expansion",
            title=title,
            summary=text,
            items=items,
            on_track="expansion pipeline on target" if share.status != "below" else None,
        )
    )


def nps_section(scores: Sequence[int], settings: DigestSettings) -> Section:
    title = "NPS"
    window = settings.nps_window_days
    if not scores:
        return Section(
            id="nps", title=title, status="no_data", summary=f"No NPS answers in {window} days."
        )
    value = nps(scores)
    target = TARGETS["nps"]
    average = sum(scores) / len(scores)
    status = "on target" if value is not None and value >= target else "below target"
    return Section(
        id="nps",
        title=title,
        summary=f"NPS {value:g} from {len(scores)} answer{'s' * (len(scores) != 1)} in "
        f"{window} days, average {average:.1f} (target NPS {target:g}+ or average 8.5+: {status})",
        on_track=f"NPS {value:g}" if status == "on target" else None,
    )


class EscalationRecord(BaseModel):
    to: str
    role: str
    sent: datetime
    what: str
    open: bool


def escalations_section(records: Sequence[EscalationRecord], month: str) -> Section:
    """Escalations that reached head_of_delivery or a founder this month: the founder
    intervention KPI, under 1 a month (docs/process.md, "The other KPIs"). Open ones (no one
    closed them) need a decision."""
    title = "Escalations to leadership"
    founders = sum(1 for r in records if r.role == "founder")
    kpi = "on target" if founders < 1 else "above target"
    target = f"founder intervention target: under 1 a month — {kpi}"
    if records:
        summary = f"{len(records)} in {month}, {founders} reached a founder ({target})"
    else:
        summary = f"None in {month} ({target})"
    items = [
        Item(
            text=f"{r.what} → {r.to} ({r.role.replace('_', ' ')}), {r.sent.date().isoformat()}"
            + (", still open" if r.open else ", closed"),
            attention=r.open,
        )
        for r in sorted(records, key=lambda r: r.sent)
    ]
    return _limited(
        Section(
            id="escalations",
            title=title,
            summary=summary,
            items=items,
            on_track="no founder interventions" if founders == 0 else None,
        )
    )


def interventions_section(records: Sequence[InterventionRecord], month: str) -> Section:
    """The founder intervention KPI (docs/process.md, "Founder interventions"): this month's
    count against "< 1 a month", with who, which client and why."""
    n = len(records)
    status = "on target" if n < TARGET_PER_MONTH else "above target"
    return _limited(
        Section(
            id="interventions",
            title="Founder interventions",
            summary=f"{n} in {month} (target {TARGET_TEXT}: {status})",
            items=[Item(text=r.line(), attention=True) for r in records],
            on_track="no founder interventions this month" if n == 0 else None,
        )
    )


def _limited(section: Section, limit: int = LIST_LIMIT) -> Section:
    """Keep the attention items first, then the rest, up to `limit` lines."""
    ordered = [i for i in section.items if i.attention] + [
        i for i in section.items if not i.attention
    ]
    kept, dropped = ordered[:limit], ordered[limit:]
    section.items = kept
    section.more = len(dropped)
    section.attention_more = sum(1 for i in dropped if i.attention)
    return section


# -- gaps in the record: hours in which Slack told us it dropped our events ---------------------
def record_gaps_section(minutes: Sequence[int], tz: ZoneInfo) -> Section:
    """`minutes`: epoch seconds of each minute Slack rate-limited the app (`app_rate_limited`:
    it dropped the events of that minute). Said by the hour, in the organization's time."""
    hours = sorted(
        {datetime.fromtimestamp(m, tz).replace(minute=0, second=0, microsecond=0) for m in minutes}
    )
    title = "Record gaps"
    if not hours:
        return Section(id="gaps", title=title, summary="Slack delivered every event this week.")
    n = len(hours)
    items = [
        Item(text=f"{h:%a %d %b} {h:%H}:00–{h + timedelta(hours=1):%H}:00", attention=True)
        for h in hours
    ]
    return Section(
        id="gaps",
        title=title,
        summary=(
            f"Slack dropped some of our events in {n} hour{'s' * (n != 1)} (it rate-limited "
            "the app): touchpoints and client messages from then may be missing, so those "
            "days' numbers may be low."
        ),
        items=items[:LIST_LIMIT],
        more=max(0, n - LIST_LIMIT),
        attention_more=max(0, n - LIST_LIMIT),
    )
