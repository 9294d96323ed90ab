"""The support rules, targets and figures (domain/support*.py), directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.commands.support_cli import support_report
from bot.settings import Settings
from domain.calendar import WorkCalendar
from domain.commands import CommandError
from domain.support import (
    FeedbackKind,
    RequestStatus,
    RuleSupportDetector,
    Severity,
    SupportKind,
    SupportRequest,
    SupportSettings,
    business_hours_between,
    deadlines,
    is_acknowledgement,
    support_signal,
)
from domain.support_commands import parse_support
from domain.support_evaluation import evaluate_support, load_support_labelled
from domain.support_stats import (
    escalations_over,
    first_contact_resolution,
    resolution_within,
    response_within,
    volume_trend,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "support_heldout_sample.jsonl"
DEV = Path(__file__).resolve().parents[1] / "data" / "support_dev.jsonl"
CHI = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("text", "kind", "severity", "feedback"),
    [
        ("How do I export the churn report?", SupportKind.QUESTION, Severity.QUESTION, "none"),
        ("The dashboard is down for everyone!", SupportKind.NOT_WORKING, Severity.BLOCKER, "bug"),
        ("Totals don't match Stripe", SupportKind.BUG, Severity.NORMAL, "bug"),
        ("Can you reset my password?", SupportKind.REQUEST, Severity.NORMAL, "none"),
        ("Can we move the call to 3pm?", SupportKind.NONE, None, "none"),
        ("Any update on the migration?", SupportKind.NONE, None, "none"),
        ("It would be great if it had dark mode", SupportKind.NONE, None, "feature_request"),
    ],
)
def test_the_rules_read_kind_severity_and_feedback(
    text: str, kind: SupportKind, severity: Severity | None, feedback: str
) -> None:
    reading = RuleSupportDetector().detect(text)
    assert (reading.kind, reading.severity, reading.feedback) == (
        kind,
        severity,
        FeedbackKind(feedback),
    )


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # questions without a question mark
        ("any idea why the churn chart is empty for march", "question"),
        ("where can I change my notification settings", "question"),
        ("is there a way to schedule the report for 7am", "question"),
        ("can you tell me what the retention metric counts", "question"),
        # problems said without "bug" or "error"
        ("hey, the revenue tab hasn't updated since friday", "normal"),
        ("numbers in the weekly email look inflated to me", "normal"),
        ("the connector keeps failing with a timeout", "normal"),
        # asks
        ("we need Ana added to the finance workspace", "normal"),
        ("could you please rerun yesterday's load", "normal"),
        # urgency
        ("all users are locked out of the portal, board meeting today", "blocker"),
        ("production is down and we're losing money every minute", "blocker"),
        # small talk that borrows the words, settled issues, FYIs
        ("The new export is twice as fast, great work", "none"),
        ("the old dashboard is dead to us now, everyone loves the new one", "none"),
        ("Stuck in traffic, will join 5 min late", "none"),
        ("we broke our sales record this month!!", "none"),
        ("Nothing is missing from the handover doc, thanks", "none"),
        ("Please find attached the signed order form", "none"),
        ("Just FYI the dashboard was slow yesterday but it's fine now", "none"),
        ("the error is gone after your fix, thanks", "none"),
    ],
)
def test_the_rules_generalise_beyond_their_examples(text: str, label: str) -> None:
    assert RuleSupportDetector().detect(text).label == label


@pytest.mark.parametrize(
    ("text", "ack"),
    [
        ("Thanks, looking into it!", True),
        ("on it", True),
        ("Hi Jo, thanks for flagging - will check and get back to you", True),
        ("Use Export → CSV on the report menu.", False),
        ("Can you send a screenshot?", False),
        ("Thanks! The fix is deployed, please refresh.", False),
    ],
)
def test_an_acknowledgement_is_no_first_response(text: str, ack: bool) -> None:
    assert is_acknowledgement(text) is ack


def test_the_targets_by_segment_and_their_overrides() -> None:
    default = SupportSettings.default()
    assert (
        default.sla("enterprise").response_hours,
        default.sla("enterprise").resolution_hours,
    ) == (1, 4)
    assert (
        default.sla("mid_market").response_hours == 4 and default.sla("smb").resolution_hours == 24
    )
    custom = SupportSettings.from_org_settings(
        {"support": {"slas": {"smb": {"response_hours": 6}}}}
    )
    assert custom.sla("smb").response_hours == 6 and custom.sla("smb").resolution_hours == 24
    broken = SupportSettings.from_org_settings(
        {"support": {"slas": {"smb": {"response_hours": 0}}}}
    )
    assert broken.sla("smb").response_hours == 8  # the defaults, said in the log


def test_deadlines_skip_nights_weekends_and_holidays() -> None:
    cal = WorkCalendar(tz=CHI, country="US")
    asked = datetime(2026, 12, 24, 16, 30, tzinfo=CHI)  # Thursday; Friday is Christmas
    due = deadlines(asked, "enterprise", cal, SupportSettings.default())
    assert due.response_due == datetime(2026, 12, 28, 9, 30, tzinfo=CHI)
    assert due.nudge_at == datetime(2026, 12, 28, 9, 15, tzinfo=CHI)
    assert due.resolution_due == datetime(2026, 12, 28, 12, 30, tzinfo=CHI)
    assert business_hours_between(asked, due.response_due, cal) == pytest.approx(1.0)


def test_the_support_signal() -> None:
    assert support_signal(0, 0, 0, 0) is None
    assert support_signal(1, 1, 0, 0) == 5.0
    assert support_signal(1, 4, 0, 0) == 8.8
    assert support_signal(1, 1, 1, 0) == 3.0
    assert support_signal(3, 1, 2, 2) == 0.0


def _req(i: int, **kw: object) -> SupportRequest:
    opened = datetime(2026, 11, 2, 15, tzinfo=UTC)
    base: dict[str, object] = dict(
        id=i,
        client_id=1,
        channel="C1",
        message_ts=f"{i}.0",
        thread_ts=None,
        asker="U1",
        excerpt="x",
        permalink=None,
        severity=Severity.NORMAL,
        kind=SupportKind.BUG,
        source="rules",
        status=RequestStatus.OPEN,
        opened_at=opened,
        response_due=opened + timedelta(hours=1),
        resolution_due=opened + timedelta(hours=4),
    )
    base.update(kw)
    return SupportRequest(**base)  # type: ignore[arg-type]


def test_the_figures_say_no_data_and_count_what_is_known() -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    opened = datetime(2026, 11, 2, 15, tzinfo=UTC)
    assert response_within([], now).value is None
    reqs = [
        _req(1, first_response_at=opened + timedelta(minutes=30)),
        _req(2, first_response_at=opened + timedelta(hours=2)),
        _req(3),  # unanswered past the target: a miss
        _req(4, opened_at=now, response_due=now + timedelta(hours=1)),  # not due yet
    ]
    assert response_within(reqs, now).hits == 1 and response_within(reqs, now).total == 3
    done = [
        _req(
            1,
            status=RequestStatus.RESOLVED,
            resolved_at=opened + timedelta(hours=1),
            team_replies=1,
        ),
        _req(
            2,
            status=RequestStatus.RESOLVED,
            resolved_at=opened + timedelta(hours=9),
            team_replies=3,
        ),
    ]
    assert resolution_within(done, now).value == 0.5
    assert first_contact_resolution(done).value == 0.5
    breached = [
        _req(1, response_breached_at=opened, resolved_at=opened + timedelta(hours=10)),
        _req(2, response_breached_at=opened),  # still open, weeks later
    ]
    assert escalations_over(breached, now, 48) == (1, 2)
    assert volume_trend(4, 5) == pytest.approx(-0.2) and volume_trend(3, 0) is None


def test_parse_support() -> None:
    assert parse_support("acme").action == "list"
    opened = parse_support('acme blocker "the export is failing"')
    assert (opened.action, opened.slug, opened.severity, opened.text) == (
        "open",
        "acme",
        Severity.BLOCKER,
        "the export is failing",
    )
    assert parse_support("resolve #12").request_id == 12
    for bad in ("", "resolve", "resolve x", 'acme ""'):
        with pytest.raises(CommandError):
            parse_support(bad)


def test_the_evaluation_reads_both_sets_and_says_when_the_held_out_one_is_missing(
    tmp_path: Path,
) -> None:
    report = evaluate_support(RuleSupportDetector(), load_support_labelled(FIXTURE))
    assert report.total == 4 and report.per_label["blocker"].support == 1
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    text = support_report(settings, dev=DEV, heldout=tmp_path / "absent.jsonl")
    assert "development set" in text and "held-out file missing" in text
    text = support_report(settings, dev=DEV, heldout=FIXTURE)
    squeezed = " ".join(text.split())  # a long path wraps within 80 columns
    assert "held-out set" in squeezed and "(4 messages)" in squeezed
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": "urgent"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        load_support_labelled(bad)


def test_a_usage_csv_value_overrides_the_derived_support_signal() -> None:
    from domain.health_inputs import SignalState, compose

    derived, _ = compose(SignalState(), derived={"support_tickets_inverse": 3.0})
    assert derived.values["support_tickets_inverse"] == 3.0
    assert derived.sources["support_tickets_inverse"] == "derived"
    given, _ = compose(derived, imported={"support_tickets_inverse": 8.0})
    assert given.values["support_tickets_inverse"] == 8.0  # the CSV wins where it is given
    assert given.derived["support_tickets_inverse"] == 3.0  # the measure is kept beside it
