"""The leadership digest's pure parts: settings, when it is due, sections, Slack limits, chart."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import IsoWeek
from domain.digest import (
    ChartData,
    DigestSettings,
    EscalationRecord,
    FlagRecord,
    HealthRecord,
    RenewalRecord,
    build_digest,
    chart_data,
    due_digest,
    escalations_section,
    flags_section,
    health_section,
    nps_section,
    renewals_section,
)
from domain.kpi import KpiClient, KpiPerson, WeekKpi, week_kpi
from domain.org_settings import OrgSettingsError, parse_org_settings
from prompts import blocks as bk
from prompts.digest_chart import render_chart
from prompts.digest_views import ephemeral, html, markdown, slack_messages

NY = ZoneInfo("America/New_York")
W47 = IsoWeek(2026, 47)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=NY)
DEFAULTS = parse_org_settings(None).digest


def parse_settings(data: dict[str, object]) -> DigestSettings:
    return parse_org_settings({"digest": data}).digest


# -- settings and schedule -------------------------------------------------------------------------
def test_settings_default_to_monday_0800_and_read_the_portfolio_words() -> None:
    assert (DEFAULTS.day.value, DEFAULTS.at) == ("mon", time(8, 0))
    custom = parse_settings({"day": "Friday", "time": "17:30", "grace": "2h"})
    assert (custom.day.value, custom.at, custom.grace) == ("fri", time(17, 30), timedelta(hours=2))


def test_a_bad_setting_is_named() -> None:
    with pytest.raises(OrgSettingsError, match=r"settings\.digest\.time"):
        parse_settings({"time": "8am"})
    with pytest.raises(OrgSettingsError, match=r"settings\.digest\.colour"):
        parse_settings({"colour": "red"})


@pytest.mark.parametrize(
    ("local", "due"),
    [
        (datetime(2026, 11, 23, 7, 59, tzinfo=NY), False),
        (datetime(2026, 11, 23, 8, 0, tzinfo=NY), True),
        (datetime(2026, 11, 23, 8, 1, tzinfo=NY), True),
        (datetime(2026, 11, 23, 19, 59, tzinfo=NY), True),
        (datetime(2026, 11, 23, 20, 0, tzinfo=NY), False),  # past the 12 h grace
        (datetime(2026, 11, 22, 8, 0, tzinfo=NY), False),  # Sunday
        (datetime(2026, 11, 24, 8, 0, tzinfo=NY), False),  # Tuesday
    ],
)
def test_due_on_monday_at_eight_local_for_the_week_just_ended(local: datetime, due: bool) -> None:
    found = due_digest(local.astimezone(UTC), NY, DEFAULTS)
    assert (found is not None) == due
    if found is not None:
        assert found.week == W47
        assert found.due_at == datetime(2026, 11, 23, 8, 0, tzinfo=NY)


def test_the_moment_follows_the_organizations_timezone_and_settings() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    settings = parse_settings({"day": "tuesday", "time": "09:15"})
    at = datetime(2026, 11, 24, 9, 15, tzinfo=tokyo)  # Monday 19:15 in New York
    found = due_digest(at, tokyo, settings)
    assert found is not None and found.week == W47
    assert due_digest(at - timedelta(minutes=1), tokyo, settings) is None
    assert due_digest(at, tokyo, parse_settings({"enabled": False})) is None


# -- building it
def _kpi(
    csos: int = 2,
    clients_each: int = 2,
    *,
    touched: float = 1.0,
    week: IsoWeek = W47,
    all_wins: bool = False,
) -> WeekKpi:
    people = [KpiPerson(slack_id=f"U{i:04d}", name=f"CSO {i:04d}") for i in range(csos)]
    clients = [
        KpiClient(slug=f"c{i:04d}-{j}", name=f"Client {i}-{j}", cso=f"U{i:04d}", timezone="UTC")
        for i in range(csos)
        for j in range(clients_each)
    ]
    days = [d for d in week.days() if d.weekday() < 5]
    touch = {c.slug: set(days[: round(len(days) * touched)]) for c in clients}
    wins = {
        c.slug: "Demoed the new pipeline: reports 2 days faster " * 8
        for c in clients[:: 1 if all_wins else 2]
    }
    exemptions = {clients[1].slug: {days[-1]: "client offsite"}} if len(clients) > 1 else {}
    return week_kpi(
        week,
        datetime.combine(week.sunday + timedelta(days=1), time(13), tzinfo=UTC),
        people=people,
        clients=clients,
        holiday_country="",
        touchpoint_days=touch if touched else {},
        exemptions=exemptions if touched else {},
        wins=wins if touched else {},
    )


def _digest(kpi: WeekKpi, sections=()):  # type: ignore[no-untyped-def]
    return build_digest(
        kpi,
        organization="Org",
        sections=list(sections),
        chart=chart_data([kpi]),
        settings=DEFAULTS,
        now=NOW,
    )


def test_a_week_without_data_says_so_instead_of_a_percentage() -> None:
    d = _digest(_kpi(touched=0))
    assert not d.has_data and d.attention_count == 0
    md = markdown(d)
    assert "no touchpoints, wins or exemptions were recorded for 2026-W47" in md
    assert "no data this week" in md
    assert "0.0%" not in md and "100.0%" not in md
    text = slack_messages(d).summary.text
    assert "No touchpoints, wins or exemptions were recorded" in text and "%" not in text


def test_headline_counts_what_needs_leadership_and_one_line_says_what_is_on_track() -> None:
    kpi = _kpi(csos=3, touched=0.4)
    flags = flags_section(
        [FlagRecord(client="Acme", kind="scope_creep", opened=date(2026, 11, 16))],
        W47.sunday,
        DEFAULTS,
    )
    d = _digest(kpi, [flags])
    assert d.attention_count == 4  # three CSOs under 90%, one flag open 6 days
    assert d.headline == "4 items need leadership this week (2026-W47)."
    assert d.attention_items[0].startswith("CSO 0000: consistency 45.5% (5 of 11) — 5 missed days")
    assert d.on_track_line == "On track: 0 of 3 CSOs at 100% consistency."
    assert not d.all_on_track
    assert '<p class="muted">On track: 0 of 3' in html(d, b"")  # never green when it isn't
    good = _digest(_kpi(csos=3, all_wins=True))
    assert good.headline == "Nothing needs leadership this week (2026-W47)."
    assert good.on_track_line == "On track: 3 of 3 CSOs at 100% consistency."
    assert good.all_on_track and '<p class="ontrack">On track: 3 of 3' in html(good, b"")


def test_per_cso_consistency_has_daily_and_weekly_parts_misses_exemptions_and_wins() -> None:
    d = _digest(_kpi(csos=1, touched=0.6))
    [c] = d.csos
    assert (c.daily_done, c.daily_expected) == (6, 9)  # 3 of 5 days on two clients, 1 exempt
    assert (c.weekly_done, c.weekly_expected) == (1, 2)
    md = markdown(d)
    assert "**CSO 0000** — 63.6% (7 of 11) · daily 6/9 · weekly presentation 1/2" in md
    assert "Missed: Client 0-0 Thu 19 Nov, Fri 20 Nov · Client 0-1 Thu 19 Nov" in md
    assert "Exempt: Client 0-1 Fri 20 Nov (client offsite)" in md
    assert "No weekly presentation: Client 0-1" in md
    assert "Wins presented: Client 0-0 — “Demoed the new pipeline" in md


# -- sections
def _history(*points: tuple[date, float, str]) -> list[tuple[date, float, str]]:
    return list(points)


def test_health_section_counts_bands_with_changes_and_lists_red_clients() -> None:
    records = [
        HealthRecord(
            client="Acme",
            cso="Dana",
            history=_history((date(2026, 10, 1), 50, "red")),
            active_plan=False,
        ),
        HealthRecord(
            client="Globex",
            cso="Dana",
            history=_history((date(2026, 11, 10), 85, "green"), (date(2026, 11, 18), 55, "red")),
            active_plan=None,
        ),
        HealthRecord(
            client="Initech", cso="Sam", history=_history((date(2026, 11, 1), 90, "green"))
        ),
    ]
    s = health_section(records, W47, DEFAULTS)
    assert s.summary == "Green 1 (-1) · Yellow 0 · Red 2 (+1) (change since last week)"
    assert s.items[0].text == "Acme (Dana): Red for 52 days, no intervention plan"
    assert s.items[0].attention
    assert "moved to Red this week" in s.items[1].text and not s.items[1].attention
    assert "intervention status not tracked" in s.items[1].text
    assert s.on_track == "1 client Green"


def test_renewals_in_the_window_with_stage_and_the_urgent_ones_flagged() -> None:
    today = date(2026, 11, 23)
    records = [
        RenewalRecord(client="Soon", cso="Dana", contract_end=date(2026, 12, 1), arr=50_000),
        RenewalRecord(
            client="Later", cso="Sam", contract_end=date(2027, 2, 20), arr=90_000, band="green"
        ),
        RenewalRecord(client="Far", cso="Sam", contract_end=date(2027, 9, 1), arr=10_000),
    ]
    s = renewals_section(records, today, DEFAULTS)
    assert s.summary == "2 renewals, ARR 140,000"
    assert s.items[0].attention and "Soon (Dana): 2026-12-01, in 8 days" in s.items[0].text
    assert s.items[0].text.endswith("Escalation")
    assert not s.items[1].attention and s.items[1].text.endswith("Outreach")


def test_nps_and_escalation_sections() -> None:
    s = nps_section([10, 9, 9, 7, 3], DEFAULTS)
    assert s.summary.startswith("NPS 40 from 5 answers in 90 days, average 7.6")
    assert "below target" in s.summary
    assert nps_section([], DEFAULTS).status == "no_data"
    e = escalations_section(
        [
            EscalationRecord(
                to="Jo", role="founder", sent=NOW, what="health red — Acme", open=True
            ),
        ],
        "November 2026",
    )
    assert "1 in November 2026, 1 reached a founder" in e.summary and "above target" in e.summary
    assert e.attention_count == 1


# -- Slack limits --------------------------------------------------------------------------------
def _check_limits(message_blocks: list[bk.Block]) -> None:
    assert len(message_blocks) <= bk.MAX_BLOCKS
    for block in message_blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= bk.MAX_SECTION_TEXT
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= bk.MAX_HEADER


def test_200_csos_fit_a_summary_and_thread_replies_in_a_stable_order() -> None:
    kpi = _kpi(csos=200, clients_each=5, touched=0.4)
    many_flags = [
        FlagRecord(
            client=f"Client {i}", kind="scope_creep", opened=date(2026, 11, 2), excerpt="x" * 300
        )
        for i in range(300)
    ]
    d = _digest(kpi, [flags_section(many_flags, W47.sunday, DEFAULTS)])
    messages = slack_messages(d)
    assert messages.threaded
    _check_limits(messages.summary.blocks)
    assert len(messages.summary.text) <= bk.MAX_TEXT_FALLBACK
    assert d.attention_count == 500 and "500 items need leadership" in messages.summary.text
    names = []
    for reply in messages.replies:
        _check_limits(reply.blocks)
        assert len(reply.text) <= bk.MAX_TEXT_FALLBACK
        names += [b["text"]["text"].split("*")[1] for b in reply.blocks if b["type"] == "section"]
    assert names == [f"CSO {i:04d}" for i in range(200)]
    assert slack_messages(d).replies == messages.replies  # same input, same split
    _check_limits(ephemeral(d).blocks)


def test_a_small_org_gets_one_message() -> None:
    messages = slack_messages(_digest(_kpi(csos=3)))
    assert not messages.threaded
    _check_limits(messages.summary.blocks)


def test_a_cso_with_very_long_lists_is_shortened_not_cut() -> None:
    kpi = _kpi(csos=1, clients_each=60, touched=0.2)
    d = _digest(kpi)
    [block] = [
        b
        for b in slack_messages(d).summary.blocks
        if str(b.get("text", {}).get("text", "")).startswith("*CSO 0000*")
    ]
    text = block["text"]["text"]
    assert len(text) <= bk.MAX_SECTION_TEXT and "more client" in text


# -- the chart
def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_chart_is_a_png_sized_for_slacks_preview_with_or_without_health_data() -> None:
    kpis = [
        _kpi(csos=200, clients_each=1, touched=t, week=W47.shift(-i))
        for i, t in enumerate([1, 0.8, 0.6, 0])
    ]
    chart = chart_data(list(reversed(kpis)))
    assert chart.overall[0] is None  # the week without data is a gap, not 0%
    png = render_chart(chart, title="Org — 2026-W47")
    assert _png_size(png) == (960, 540)
    with_bands = ChartData(
        weeks=chart.weeks,
        overall=chart.overall,
        csos={"Dana": [0.5, 0.7, 1.0, None]},
        bands=[{"green": 5, "yellow": 2, "red": 1}] * 4,
    )
    assert _png_size(render_chart(with_bands)) == (960, 540)
