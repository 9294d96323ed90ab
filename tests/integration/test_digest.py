"""The leadership digest end to end: the scheduled post through the tick and the outbox, the
chart upload and thread replies in the emulator, /digest over signed requests, and the
sections that light up when another feature's tables exist."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bench.digest import make_portfolio, record_activity
from devkit.emulator import Call
from domain.calendar import IsoWeek
from domain.kpi import kpi_json
from prompts import blocks as bk
from scheduling.engine import tick
from storage.activity_store import record_exemption, record_touchpoint, record_win
from storage.db import Database
from storage.kpi_store import load_kpi, load_week_kpi
from storage.models import DigestPart, HealthSnapshot, NpsResponse, Nudge
from storage.portfolio_store import client_by_slug, import_portfolio
from tests.conftest import NY, BotHarness, load_portfolio
from usecases.digest_actions import load_digest
from usecases.outbox import NudgeSpec, deliver_due, enqueue

MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=NY)
W47 = IsoWeek(2026, 47)


def _client(bot: BotHarness) -> WebClient:
    client = bot.web
    assert isinstance(client, WebClient)
    return client


def _tick(bot: BotHarness, at: datetime) -> None:
    bot.clock.set(at)
    report = tick(bot.deps, _client(bot), at, bot.jobs)
    assert report.errors == {}


def _record_week(db: Database) -> None:
    """Acme: Mon, Tue, Thu, Fri and a win; Globex: Monday; Initech: Friday skipped."""
    with db.transaction() as s:
        acme, globex, initech = (client_by_slug(s, x) for x in ("acme", "globex", "initech"))
        assert acme and globex and initech
        for client, days in ((acme, (16, 17, 19, 20)), (globex, (16,))):
            for d in days:
                at = datetime(2026, 11, d, 11, tzinfo=NY)
                record_touchpoint(
                    s,
                    client_id=client.id,
                    author_id="U0CSO1",
                    kind="slack",
                    source="event",
                    occurred_at=at,
                    tz=NY,
                    dedupe_key=f"t:{client.slug}:{d}",
                    now=at,
                    text="Shared the weekly attribution numbers with your team",
                )
        record_win(
            s,
            client_id=acme.id,
            week=W47,
            text="Demoed the new pipeline: reports 2 days faster",
            link=None,
            activity_list=False,
            by="U0CSO1",
            now=MONDAY_0800,
        )
        record_exemption(
            s,
            client_id=initech.id,
            day=date(2026, 11, 20),
            reason="client offsite",
            by="U0CSO2",
            now=MONDAY_0800,
        )


def _posts(bot: BotHarness, channel: str = "C0LEAD") -> list[Call]:
    return [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == channel]


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _blocks(call: Call) -> list[bk.Block]:
    blocks = call.get("blocks")
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks or [])


def _channel_posts(bot: BotHarness) -> list[Call]:
    """Posts to channels (the tick also sends people their own DMs: not the digest's)."""
    return [
        c for c in bot.emulator.calls("chat.postMessage") if not str(c["channel"]).startswith("U")
    ]


# -- the scheduled post
def test_posted_once_on_monday_at_eight_to_the_leadership_channel_for_last_week(
    bot: BotHarness,
) -> None:
    _record_week(bot.db)
    _tick(bot, MONDAY_0800 - timedelta(minutes=1))
    assert _channel_posts(bot) == []
    _tick(bot, MONDAY_0800)
    _tick(bot, MONDAY_0800 + timedelta(minutes=1))
    _tick(bot, MONDAY_0800 + timedelta(hours=3))
    [post] = _channel_posts(bot)
    assert post["channel"] == "C0LEAD"
    assert "2026-W47" in post["text"]
    blocks = _blocks(post)
    assert blocks[0]["text"]["text"] == "Leadership digest — 2026-W47"
    body = _dump(blocks)
    assert "*Dana Reyes* — 50.0% (6 of 12) · daily 5/10 · weekly presentation 1/2" in body
    assert "Exempt: Initech Fri 20 Nov (client offsite)" in body
    # With no health scores or flags recorded, those sections say so rather than show zeros.
    assert "No health scores yet" in body
    with bot.db.session() as s:
        [nudge] = s.scalars(select(Nudge).where(Nudge.cadence_id == "digest")).all()
    assert (nudge.key, nudge.status, nudge.batch) == ("digest:2026-W47", "sent", False)
    assert nudge.due_at == MONDAY_0800.astimezone(UTC)


def test_the_chart_is_uploaded_into_the_digests_thread_through_the_external_flow(
    bot: BotHarness,
) -> None:
    _record_week(bot.db)
    _tick(bot, MONDAY_0800)
    [post] = _posts(bot)
    [url_call] = bot.emulator.calls("files.getUploadURLExternal")
    assert url_call["filename"] == "digest-2026-W47.png" and int(url_call["length"]) > 10_000
    [upload] = bot.emulator.calls("upload")
    assert bot.emulator.state.uploads[upload["file_id"]][:8] == b"\x89PNG\r\n\x1a\n"
    [complete] = bot.emulator.calls("files.completeUploadExternal")
    assert complete["channel_id"] == "C0LEAD"
    assert post.at <= url_call.at  # the summary first, then the chart in its thread
    summary_ts = next(k[1] for k in bot.emulator.state.messages if k[0] == "C0LEAD")
    assert complete["thread_ts"] == summary_ts
    files = complete["files"]
    files = json.loads(files) if isinstance(files, str) else files
    assert files[0]["id"] == upload["file_id"]
    _tick(bot, MONDAY_0800 + timedelta(minutes=1))
    assert len(bot.emulator.calls("files.completeUploadExternal")) == 1
    with bot.db.session() as s:
        [part] = s.scalars(select(DigestPart)).all()
    assert (part.kind, part.status, part.file_id) == ("chart", "sent", upload["file_id"])


def test_a_shared_leadership_channel_is_refused_and_logged(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.emulator.set_shared("C0LEAD")
    with caplog.at_level(logging.ERROR, logger="scheduling.digest_jobs"):
        _tick(bot, MONDAY_0800)
        _tick(bot, MONDAY_0800 + timedelta(minutes=1))
    assert _channel_posts(bot) == []
    assert bot.emulator.calls("files.getUploadURLExternal") == []
    [line] = [r.getMessage() for r in caplog.records if "digest 2026-W47 not posted" in r.message]
    assert "C0LEAD" in line and "Slack Connect" in line
    with bot.db.session() as s:
        assert s.scalars(select(Nudge).where(Nudge.key.like("digest%"))).all() == []


def test_a_client_channel_as_leadership_channel_is_refused(bot: BotHarness) -> None:
    with bot.db.transaction() as s:
        from storage.models import Organization

        org = s.get(Organization, 1)
        assert org is not None
        org.leadership_channel = "C0ACME"
    _tick(bot, MONDAY_0800)
    assert _channel_posts(bot) == []


def test_day_and_time_come_from_the_organizations_settings(bot: BotHarness) -> None:
    with bot.db.transaction() as s:
        from storage.models import Organization

        org = s.get(Organization, 1)
        assert org is not None
        org.settings = {"digest": {"day": "tuesday", "time": "09:30"}}
    _tick(bot, MONDAY_0800)
    _tick(bot, datetime(2026, 11, 24, 9, 29, tzinfo=NY))
    assert _channel_posts(bot) == []
    _tick(bot, datetime(2026, 11, 24, 9, 30, tzinfo=NY))
    [post] = _channel_posts(bot)
    assert "2026-W47" in post["text"]


# -- a big organization
@pytest.fixture
def big_bot(bot: BotHarness) -> BotHarness:
    with bot.db.transaction() as s:
        import_portfolio(s, make_portfolio(csos=200, clients=400))
    record_activity(bot.db, weeks=2, rate=0.8)
    return bot


def test_200_csos_get_a_summary_and_per_cso_replies_in_its_thread_once_each(
    big_bot: BotHarness,
) -> None:
    bot = big_bot
    bot.emulator.fail_next("files.completeUploadExternal", error="internal_error")
    _tick(bot, MONDAY_0800)
    posts = _posts(bot)
    assert len(posts) == 1  # the chart failed, so the replies wait: order is kept
    _tick(bot, MONDAY_0800 + timedelta(minutes=1))
    _tick(bot, MONDAY_0800 + timedelta(minutes=2))
    posts = _posts(bot)
    summary, replies = posts[0], posts[1:]
    assert summary.get("thread_ts") is None
    summary_ts = next(k[1] for k in bot.emulator.state.messages if k[0] == "C0LEAD")
    assert replies and all(r["thread_ts"] == summary_ts for r in replies)
    assert len(bot.emulator.calls("files.completeUploadExternal")) == 2  # failed, then once
    chart_done = max(c.at for c in bot.emulator.calls("files.completeUploadExternal"))
    assert all(r.at >= chart_done for r in replies)
    names: list[str] = []
    for call in posts:
        blocks = _blocks(call)
        assert len(blocks) <= bk.MAX_BLOCKS
        assert len(call["text"]) <= bk.MAX_TEXT_FALLBACK
        for b in blocks:
            if b["type"] == "section":
                assert len(b["text"]["text"]) <= bk.MAX_SECTION_TEXT
        if call is not summary:
            names += [
                b["text"]["text"].split("*")[1]
                for b in blocks
                if b["type"] == "section" and b["text"]["text"].startswith("*CSO ")
            ]
    with bot.db.session() as s:
        kpi = load_week_kpi(s, W47, MONDAY_0800)
    assert names == [c.name for c in kpi.csos if c.name.startswith("CSO ")]
    assert len(names) == 200
    summary_text = _dump(_blocks(summary))
    assert "Per-CSO detail for 202 CSOs follows in this thread" in summary_text  # +Dana, Sam


# -- /digest
@pytest.mark.parametrize("user", ["U0HOD", "U0FND"])
def test_digest_command_shows_it_to_head_of_delivery_and_founders(
    bot: BotHarness, user: str
) -> None:
    _record_week(bot.db)
    bot.clock.set(MONDAY_0800 + timedelta(hours=2))
    status, body = bot.command("/digest", "2026-W47", user=user)
    assert status == 200 and body == ""
    bot.wait_response()
    [call] = bot.emulator.calls("response_url")
    assert call["response_type"] == "ephemeral"
    blocks = call["blocks"]
    assert blocks[0]["text"]["text"] == "Leadership digest — 2026-W47"
    assert "*Dana Reyes* — 50.0% (6 of 12)" in _dump(blocks)
    assert _channel_posts(bot) == []  # on demand posts nothing


def test_digest_command_defaults_to_the_week_just_ended(bot: BotHarness) -> None:
    bot.command("/digest", "", user="U0HOD")  # the clock says Friday 2026-11-20 (W47)
    bot.wait_response()
    assert "Leadership digest — 2026-W46" in _dump(bot.emulator.calls("response_url")[0]["blocks"])


@pytest.mark.parametrize("user", ["U0CSO1", "U0SL1", "U0NOBODY"])
def test_digest_command_politely_refuses_everyone_else_and_leaks_nothing(
    bot: BotHarness, user: str
) -> None:
    _record_week(bot.db)
    bot.command("/digest", "2026-W47", user=user)
    reply = bot.wait_response()
    if user == "U0NOBODY":  # outside the portfolio: refused before the digest is even looked at
        assert reply.startswith("Sorry — csobot's commands are for the delivery team")
    else:
        assert reply.startswith("Sorry — only the head of delivery and founders can see that")
    [call] = bot.emulator.calls("response_url")
    assert call["response_type"] == "ephemeral" and not call.get("blocks")
    assert "Dana" not in reply and "%" not in reply and "W47" not in reply


def test_digest_command_explains_a_bad_week(bot: BotHarness) -> None:
    status, ack = bot.command("/digest", "week 47", user="U0FND")  # answered with the ack
    assert status == 200
    assert '"week 47" is not an ISO week' in ack and "`/digest 2026-W47`" in ack
    assert bot.emulator.calls("response_url") == []


# -- sections that appear with their tables; escalations from the outbox
def test_health_and_nps_sections_and_the_band_chart_appear_with_their_data(db: Database) -> None:
    load_portfolio(db)
    with db.transaction() as s:
        ids = {
            slug: c.id for slug in ("acme", "globex", "initech") if (c := client_by_slug(s, slug))
        }
        rows = [
            (ids["acme"], date(2026, 10, 1), 50, "red"),
            (ids["globex"], date(2026, 11, 2), 84, "green"),
            (ids["globex"], date(2026, 11, 18), 70, "yellow"),
            (ids["initech"], date(2026, 11, 2), 90, "green"),
        ]
        for n, (cid, day, score, band) in enumerate(rows):
            s.add(
                HealthSnapshot(
                    client_id=cid,
                    taken_at=datetime(2026, 11, 1, tzinfo=UTC),
                    day=day,
                    model_id="three_pillar",
                    score=score,
                    band=band,
                    band_since=day,
                    source="modal",
                    changed_by="U0CSO1",
                    dedupe_key=f"t{n}",
                )
            )
        for n, score in enumerate((10, 9, 6)):
            s.add(
                NpsResponse(
                    client_id=ids["acme"],
                    score=score,
                    recorded_by="U0CSO1",
                    recorded_at=datetime(2026, 11, 10, 12, tzinfo=UTC),
                    dedupe_key=f"nps{n}",
                )
            )
    with db.session() as s:
        d = load_digest(s, W47, MONDAY_0800)
    health = next(x for x in d.sections if x.id == "health")
    assert health.status == "ok"
    assert health.summary == "Green 1 (-1) · Yellow 1 (+1) · Red 1 (change since last week)"
    assert health.items[0].text.startswith("Acme Corp (Dana Reyes): Red for 52 days")
    assert health.items[0].attention
    assert "Health bands: Acme Corp" in " ".join(d.attention_items)
    nps = next(x for x in d.sections if x.id == "nps")
    assert nps.summary.startswith("NPS 33.3 from 3 answers")
    assert d.chart.bands is not None and d.chart.bands[-1] == {"green": 1, "yellow": 1, "red": 1}
    flags = next(x for x in d.sections if x.id == "flags")
    assert flags.status != "not_tracked"  # flags are recorded


def test_escalations_that_reached_leadership_this_month_come_from_the_outbox(
    bot: BotHarness,
) -> None:
    sent_at = datetime(2026, 11, 18, 15, tzinfo=NY)
    with bot.db.transaction() as s:
        enqueue(
            s,
            NudgeSpec(
                cadence_id="overdue_escalation",
                period="2026-11-18",
                target="U0HOD",
                person_id="U0HOD",
                text="Acme missed 3 days",
                due_at=sent_at,
                expires_at=sent_at + timedelta(hours=2),
            ),
            sent_at,
        )
    deliver_due(bot.db, _client(bot), sent_at)
    with bot.db.session() as s:
        d = load_digest(s, W47, MONDAY_0800)
    esc = next(x for x in d.sections if x.id == "escalations")
    assert esc.summary.startswith("1 in November 2026, 0 reached a founder")
    assert esc.items[0].attention and "overdue escalation → Morgan Blake" in esc.items[0].text
    assert any(i.startswith("Escalations to leadership:") for i in d.attention_items)


def test_the_charts_history_equals_the_kpi_week_by_week(bot: BotHarness) -> None:
    _record_week(bot.db)
    weeks = [W47.shift(-i) for i in range(3, -1, -1)]
    with bot.db.session() as s:
        many = load_kpi(s, weeks, MONDAY_0800)
        one_by_one = [load_week_kpi(s, w, MONDAY_0800) for w in weeks]
    assert [kpi_json(k) for k in many] == [kpi_json(k) for k in one_by_one]


def test_a_failure_while_writing_the_digest_leaves_nothing_half_written(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary and its parts are written in the job's one transaction: the database
    breaking after the summary's write leaves neither, and the next tick writes both once."""
    from storage import digest_store

    def broken(tx: object, rows: object) -> None:
        raise RuntimeError("the database went away")

    _record_week(bot.db)
    with monkeypatch.context() as m:
        m.setattr(digest_store, "add_parts", broken)
        bot.clock.set(MONDAY_0800)
        report = tick(bot.deps, _client(bot), MONDAY_0800, bot.jobs)
        assert report.errors == {"digest": "RuntimeError"}
    with bot.db.session() as s:
        assert s.scalars(select(Nudge).where(Nudge.cadence_id == "digest")).all() == []
        assert s.scalars(select(DigestPart)).all() == []
    assert _channel_posts(bot) == []
    _tick(bot, MONDAY_0800 + timedelta(minutes=1))
    [post] = _channel_posts(bot)
    assert "2026-W47" in post["text"]
    with bot.db.session() as s:
        [part] = s.scalars(select(DigestPart)).all()
    assert part.status == "sent"
