"""Risk playbooks and the renewal timeline, forecast call and quarters."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.health import Band
from domain.playbooks import (
    PlaybookError,
    default_playbooks,
    instantiate,
    parse_playbooks,
    playbook_ids,
    progress,
    suggest_playbook,
)
from domain.renewals import (
    Outcome,
    forecast_call,
    milestones_due,
    parse_quarter,
    quarter_of,
    renewal_schedule,
    renewal_stage,
)

START = date(2026, 3, 2)
END = date(2027, 3, 31)


def test_the_four_shipped_playbooks_ship() -> None:
    assert playbook_ids() == [
        "low-engagement",
        "low-adoption",
        "executive-change",
        "competitor-evaluation",
    ]
    assert all(len(book.steps) == 5 for book in default_playbooks().values())


def test_low_engagement_due_dates_from_start() -> None:
    steps = instantiate("low-engagement", START)
    assert [s.index for s in steps] == [0, 1, 2, 3, 4]
    assert steps[0].text == "Reach out to primary contact within 48 hours."
    assert steps[0].due == date(2026, 3, 4)  # +2 days
    assert steps[-1].text.startswith("Escalate to executive sponsor")
    assert steps[-1].due == date(2026, 3, 16)  # +14 days
    assert steps[-1].escalation
    assert [s.due for s in steps] == sorted(s.due for s in steps)


def test_executive_change_first_week_and_weekly_check_ins() -> None:
    intro = instantiate("Executive Change", START)[0]
    assert "within the first week" in intro.text
    assert intro.due == START + timedelta(days=7)
    adoption = instantiate("low_adoption", START)
    check_ins = [s for s in adoption if s.text.startswith("Check in weekly")]
    assert [s.due - START for s in check_ins] == [timedelta(days=d) for d in (21, 28, 35, 42)]
    assert check_ins[0].text.endswith("(1/4)")
    assert len(adoption) == 8


def test_unknown_playbook_lists_valid_ids() -> None:
    with pytest.raises(
        PlaybookError, match=r'unknown playbook "churn".*low-engagement.*competitor'
    ):
        instantiate("churn", START)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("competitor_mention", "competitor-evaluation"),
        ("stakeholder_change", "executive-change"),
        ("executive change", "executive-change"),
        ("negative_sentiment", "low-engagement"),
        ("low engagement", "low-engagement"),
        ("low_adoption", "low-adoption"),
        ("scope_creep", None),
        ("deadline_change", None),
    ],
)
def test_suggest_playbook(kind: str, expected: str | None) -> None:
    assert suggest_playbook(kind) == expected


def test_progress() -> None:
    assert str(progress(2, 5)) == "2/5 (40%)"
    assert progress(5, 5).complete
    assert progress(0, 0).ratio is None and not progress(0, 0).complete
    with pytest.raises(ValueError, match="impossible"):
        progress(6, 5)


def test_custom_playbook_file_is_validated() -> None:
    with pytest.raises(PlaybookError, match="repeat_times needs repeat_every_days"):
        parse_playbooks(
            "playbooks:\n  - id: x\n    name: X\n    steps:\n"
            "      - {text: Call, due_days: 1, repeat_times: 3}\n"
        )
    with pytest.raises(PlaybookError, match=r"due_days"):
        parse_playbooks("playbooks:\n  - {id: x, name: X, steps: [{text: Call, due_days: -1}]}\n")


@pytest.mark.parametrize(
    ("days_before", "stage"),
    [
        (121, None),
        (120, "risk_assessment"),
        (91, "risk_assessment"),
        (90, "outreach"),
        (61, "outreach"),
        (60, "proposal"),
        (46, "proposal"),
        (45, "negotiation"),
        (31, "negotiation"),
        (30, "contract_sent"),
        (15, "contract_sent"),
        (14, "escalation"),
        (0, "escalation"),
        (-1, None),
    ],
)
def test_renewal_stage_at_each_boundary(days_before: int, stage: str | None) -> None:
    found = renewal_stage(END, END - timedelta(days=days_before))
    assert (found.id if found else None) == stage


def test_milestones_due() -> None:
    assert milestones_due(END, END - timedelta(days=121)) == []
    due = milestones_due(END, END - timedelta(days=60))
    assert [m.stage.id for m in due] == ["risk_assessment", "outreach", "proposal"]
    assert due[0].due == date(2026, 12, 1)  # 2027-03-31 − 120 days
    assert [m.stage.days_before for m in renewal_schedule(END)] == [120, 90, 60, 45, 30, 14]


@pytest.mark.parametrize(
    ("band", "days", "outcome", "flags", "call"),
    [
        (Band.RED, 10, Outcome.SIGNED, 3, "likely"),
        (Band.GREEN, 100, Outcome.CHURNED, 0, "churn"),
        (Band.GREEN, 100, "extended", 0, "likely"),
        (Band.GREEN, 20, None, 0, "likely"),
        (Band.GREEN, 20, None, 1, "at risk"),
        (Band.GREEN, -5, None, 0, "at risk"),
        (Band.YELLOW, 100, None, 0, "at risk"),
        (Band.YELLOW, 30, None, 2, "churn"),
        (Band.YELLOW, 31, None, 2, "at risk"),
        (None, 60, None, 0, "at risk"),
        (Band.RED, 90, None, 0, "at risk"),
        (Band.RED, 30, None, 0, "churn"),
        (Band.RED, 90, None, 1, "churn"),
    ],
)
def test_forecast_rule(
    band: Band | None, days: int, outcome: Outcome | str | None, flags: int, call: str
) -> None:
    assert forecast_call(band, days, outcome, flags) == call


@pytest.mark.parametrize("text", ["2027Q1", "2027-Q1", "Q1 2027", "2027q1", " q1-2027 "])
def test_parse_quarter_forms(text: str) -> None:
    assert parse_quarter(text) == (date(2027, 1, 1), date(2027, 3, 31))


def test_parse_quarter_bounds_and_errors() -> None:
    assert parse_quarter("2026Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert parse_quarter("2028-Q1")[1] == date(2028, 3, 31)
    assert parse_quarter("Q4", today=date(2027, 1, 15)) == parse_quarter("2026Q4")
    assert parse_quarter("Q1", today=date(2027, 1, 15)) == parse_quarter("2027Q1")
    assert quarter_of(date(2026, 11, 20)) == "2026Q4"
    with pytest.raises(ValueError, match="no quarter 5"):
        parse_quarter("2027Q5")
    with pytest.raises(ValueError, match="write it like 2027Q1"):
        parse_quarter("next quarter")
    with pytest.raises(ValueError, match="write it like"):
        parse_quarter("Q1")  # a bare quarter needs today


def _outcome(end: date, outcome: Outcome, new_end: date | None = None) -> object:
    from datetime import UTC, datetime

    from domain.renewals import RenewalOutcome

    return RenewalOutcome(
        client_id=1,
        contract_end=end,
        outcome=outcome,
        new_end=new_end,
        arr_before=100.0,
        arr_after=0.0 if outcome is Outcome.CHURNED else 100.0,
        band_at_renewal=None,
        recorded_by="U1",
        recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_the_renewal_chain_follows_recorded_outcomes() -> None:
    from domain.renewals import effective_contract_end, renewal_target

    first, second, third = date(2026, 3, 31), date(2027, 3, 31), date(2028, 3, 31)
    chain = {
        first: _outcome(first, Outcome.SIGNED, second),
        second: _outcome(second, Outcome.EXTENDED, third),
    }
    assert effective_contract_end(first, chain) == (third, chain[second])  # type: ignore[arg-type]
    assert effective_contract_end(None, chain) == (None, None)  # type: ignore[arg-type]
    churned = {first: _outcome(first, Outcome.CHURNED)}
    assert effective_contract_end(first, churned) == (None, churned[first])  # type: ignore[arg-type]
    # /renewal is about the contract running today: recording again before it ends corrects it
    assert renewal_target(first, chain, date(2026, 2, 1)) == first  # type: ignore[arg-type]
    assert renewal_target(first, chain, date(2027, 6, 1)) == third  # type: ignore[arg-type]
    assert renewal_target(first, churned, date(2026, 6, 1)) == first  # type: ignore[arg-type]


def test_arr_after_a_renewal() -> None:
    from domain.renewals import arr_after_renewal

    assert arr_after_renewal(Outcome.CHURNED, 500.0, 100.0) == 0.0
    assert arr_after_renewal(Outcome.SIGNED, None, 100.0) == 100.0
    assert arr_after_renewal(Outcome.EXTENDED, 120.0, 100.0) == 120.0
