"""The rules of what counts as the day's touch (docs/process.md, "What counts")."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time

import pytest

from domain.org_settings import OrgSettingsError, parse_org_settings
from domain.touch_rules import (
    EOD_CUES,
    MORNING_CUES,
    KpiSettings,
    Touch,
    TouchRole,
    judge,
    message_verdict,
    permalink,
    update_slot,
    words_of,
)


def _touch(text: str, *, kind: str = "slack", source: str = "event") -> Touch:
    at = datetime(2026, 11, 20, 15, tzinfo=UTC)
    return Touch(kind=kind, source=source, author_id="U1", at=at, day=at.date(), text=text)


@pytest.mark.parametrize(
    ("text", "counts", "reason"),
    [
        ("ok", False, "an acknowledgement"),
        ("OK!!", False, "an acknowledgement"),
        ("thank you so much :pray:", False, "an acknowledgement"),
        ("<@U0EXT1> sounds good", False, "an acknowledgement"),
        ("👍", False, "emoji or mentions only"),
        ("<@U0EXT1>", False, "emoji or mentions only"),
        ("Shipping it today", False, "fewer than 5 words"),
        ("<https://x.io/deck|deck> for you", False, "fewer than 5 words"),
        ("Here is the deck for Thursday's review", True, None),
        ("Quick one: can we move the QBR to Friday?", True, None),
    ],
)
def test_messages(text: str, counts: bool, reason: str | None) -> None:
    verdict = message_verdict(text, 5)
    assert (verdict.counts, verdict.reason) == (counts, reason)


def test_words_leave_out_markup() -> None:
    assert words_of("<@U1> see <https://a.b/c|the deck> :tada: now") == ["see", "link", "now"]


def test_roles_and_logged_touchpoints() -> None:
    default = KpiSettings()
    assert judge(_touch("ok", kind="email", source="command"), TouchRole.CSO, default).counts
    assert judge(_touch("", kind="call", source="huddle"), TouchRole.CSO, default).counts
    sl = judge(_touch("Here is the deck for Thursday's review"), TouchRole.SERVICE_LEAD, default)
    assert sl.reason == "by the service lead (counted roles: cso)"
    wider = KpiSettings(touchpoint_roles=(TouchRole.CSO, TouchRole.SERVICE_LEAD), min_words=2)
    assert judge(_touch("Deck attached"), TouchRole.SERVICE_LEAD, wider).counts
    assert judge(_touch("Here is more"), None, wider).reason == "not on the client's team"
    no_comment = judge(_touch("", source="file_share"), TouchRole.CSO, default)
    assert no_comment.reason == "a file shared without a comment"


def test_settings_are_checked_on_import() -> None:
    s = parse_org_settings({"kpi": {"touchpoint_roles": ["cso", "engagement_partner"]}})
    assert s.kpi.touchpoint_roles == (TouchRole.CSO, TouchRole.ENGAGEMENT_PARTNER)
    with pytest.raises(OrgSettingsError, match=r"settings\.kpi\.touchpoint_roles"):
        parse_org_settings({"kpi": {"touchpoint_roles": ["founder"]}})
    with pytest.raises(OrgSettingsError, match=r"settings\.kpi\.min_words"):
        parse_org_settings({"kpi": {"min_words": 0}})


def test_permalinks() -> None:
    assert permalink("C1", "1795186800.000200") == "https://slack.com/archives/C1/p1795186800000200"
    assert permalink("C1", "2.0", "1.0") == "https://slack.com/archives/C1/p20?thread_ts=1.0&cid=C1"
    assert permalink(None, "1.0") is None


def _reads_like(text: str, cues: tuple[str, ...]) -> bool:
    """The rule as written: a cue is whole words of what the reader sees."""
    seen = f" {' '.join(words_of(text))} "
    return any(f" {cue} " in seen for cue in cues)


def test_update_slot_reads_cues_as_whole_words() -> None:
    """Random messages of cue words, their near misses and markup, in each window: the slot is
    the morning's when a morning cue reads in it, the evening's when an evening one does."""
    rng = random.Random(16)
    pieces = [
        *MORNING_CUES, *EOD_CUES, "doneness", "replan", "today's", "Today,", "WORKING", "on",
        "we", "the", "deck", "<@U0X>", "<https://x.io/done|done>", ":done:", "re-done",
        "plans", "end", "of", "day", "eod!", "TOMORROW.", "up", "next",
    ]  # fmt: skip
    settings = KpiSettings()
    hits = {"morning": 0, "eod": 0}
    for _ in range(3000):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randrange(5, 12)))
        touch = _touch(text)
        for local in (time(9), time(17)):
            want = None
            if local == time(9) and _reads_like(text, MORNING_CUES):
                want = "morning"
            elif local == time(17) and _reads_like(text, EOD_CUES):
                want = "eod"
            counts = judge(touch, TouchRole.CSO, settings).counts
            assert update_slot(touch, TouchRole.CSO, settings, local) == (want if counts else None)
            got = update_slot(touch, TouchRole.CSO, settings, local, counts=counts)
            assert got == (want if counts else None), text
            if want is not None:
                hits[want] += 1
    assert hits["morning"] > 100 and hits["eod"] > 100


def test_update_slot_needs_a_cso_a_window_and_a_touch_that_counts() -> None:
    settings = KpiSettings()
    plan = _touch("Today we are working on the export fix")
    assert update_slot(plan, TouchRole.CSO, settings, time(9)) == "morning"
    assert update_slot(plan, TouchRole.CSO, settings, time(13)) is None
    assert update_slot(plan, TouchRole.SERVICE_LEAD, settings, time(9)) is None
    assert update_slot(plan, TouchRole.CSO, settings, time(9), counts=False) is None
    drafted = _touch("Anything at all here", source="update-eod")
    assert update_slot(drafted, TouchRole.CSO, settings, time(3)) is None  # under 5 words
    assert update_slot(drafted, TouchRole.CSO, settings, time(3), counts=True) == "eod"
