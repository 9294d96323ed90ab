"""The rules of what counts as the day's touch (docs/process.md, "What counts")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.org_settings import OrgSettingsError, parse_org_settings
from domain.touch_rules import (
    KpiSettings,
    Touch,
    TouchRole,
    judge,
    message_verdict,
    permalink,
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
