"""Derived signals, composing inputs with overrides, the usage CSV, commands, the board rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.board import board_row, sort_rows, suggested_playbook
from domain.commands import CommandError
from domain.health import FIVE_CATEGORY, THREE_PILLAR, Band, HealthModelError
from domain.health_commands import parse_nps, parse_playbook, parse_qbr, parse_renewal
from domain.health_inputs import (
    SignalState,
    compose,
    meeting_attendance_signal,
    model_from_settings,
    nps_signal,
    parse_usage_csv,
    response_delays,
    response_time_signal,
)
from domain.renewals import Outcome

T = datetime(2026, 11, 20, 15, tzinfo=UTC)


def test_response_delays_pair_each_message_with_the_next_team_reply() -> None:
    asked = [T, T + timedelta(minutes=30), T + timedelta(hours=10)]
    answered = [T + timedelta(hours=1), T - timedelta(hours=1)]
    now = T + timedelta(hours=20)
    # the third is unanswered for 10 h: not counted yet (it may still be answered in time)
    assert response_delays(asked, answered, now) == [timedelta(hours=1), timedelta(minutes=30)]
    late = response_delays(asked, answered, T + timedelta(hours=60))
    assert late[-1] == timedelta(hours=50)


@pytest.mark.parametrize(
    ("hours", "signal"),
    [(0.5, 10.0), (1, 10.0), (3, 8.0), (8, 6.0), (20, 4.0), (48, 2.0), (49, 0.0)],
)
def test_response_time_steps(hours: float, signal: float) -> None:
    assert response_time_signal([timedelta(hours=hours)]) == signal


def test_response_time_uses_the_median_and_none_without_data() -> None:
    delays = [timedelta(hours=h) for h in (0.5, 3, 30)]
    assert response_time_signal(delays) == 8.0
    assert response_time_signal([]) is None


def test_nps_and_meeting_signals() -> None:
    assert nps_signal([9, 8, 10]) == 9.0
    assert nps_signal([]) is None
    assert meeting_attendance_signal(4) == 10.0  # 4 in 28 days: weekly
    assert meeting_attendance_signal(2) == 5.0
    assert meeting_attendance_signal(9) == 10.0  # capped


def test_an_override_keeps_the_derived_value_beside_it() -> None:
    state, changes = compose(SignalState(), derived={"nps": 6.0, "response_time": 8.0})
    assert state.values == {"nps": 6.0, "response_time": 8.0}
    state, changes = compose(state, manual={"nps": 9.0, "login_frequency": 7.0})
    assert state.values["nps"] == 9.0 and state.overrides == {"nps": 9.0}
    assert state.derived["nps"] == 6.0 and state.sources["nps"] == "override"
    assert {c.signal for c in changes} == {"nps", "login_frequency"}
    # a fresh derived value does not undo the person's override
    state, changes = compose(state, derived={"nps": 5.0})
    assert state.values["nps"] == 9.0 and state.derived["nps"] == 5.0 and changes == []
    # clearing the field gives the derived value back
    state, changes = compose(state, manual={"nps": None})
    assert state.values["nps"] == 5.0 and state.overrides == {}
    assert [(c.signal, c.before, c.after) for c in changes] == [("nps", 9.0, 5.0)]


def test_a_manual_value_stands_in_until_a_measurement_arrives() -> None:
    state, _ = compose(SignalState(), manual={"nps": 9.0})
    assert state.values == {"nps": 9.0} and state.overrides == {}
    state, changes = compose(state, derived={"nps": 6.0})
    assert state.values == {"nps": 6.0} and state.sources["nps"] == "derived"
    assert [(c.before, c.after) for c in changes] == [(9.0, 6.0)]


def test_giving_the_derived_value_back_is_not_an_override() -> None:
    state, _ = compose(SignalState(), derived={"response_time": 8.0})
    state, changes = compose(state, manual={"response_time": 8.0})
    assert state.overrides == {} and changes == []


def test_model_from_settings() -> None:
    assert model_from_settings({}) is THREE_PILLAR
    assert model_from_settings({"health_model": "five-category"}) is FIVE_CATEGORY
    with pytest.raises(HealthModelError, match="sum to"):
        model_from_settings(
            {
                "health_model": {
                    "id": "x",
                    "name": "X",
                    "pillars": [{"name": "a", "weight": 0.5, "signals": ["nps"]}],
                }
            }
        )


CSV = """client,date,signal,value
acme,2026-11-02,login_frequency,8
acme,2026-11-02,active_users,34
acmee,2026-11-02,login_frequency,8
globex,2026-13-02,login_frequency,8
globex,2026-11-02,login_frequncy,8
globex,2026-11-02,feature_adoption,12
globex,2026-11-02,new_department_interest,2

globex,2026-11-03,nps,seven
"""


def test_usage_csv_reports_bad_rows_with_line_numbers_and_keeps_good_ones() -> None:
    parsed = parse_usage_csv(CSV, ["acme", "globex"], THREE_PILLAR)
    assert [(r.line, r.client, r.signal, r.value) for r in parsed.rows] == [
        (2, "acme", "login_frequency", 8.0),
        (3, "acme", "active_users", 34.0),
    ]
    assert parsed.errors == [
        'line 4: unknown client "acmee" (did you mean acme?)',
        'line 5: "2026-13-02" is not a date like 2026-11-02',
        'line 6: unknown signal "login_frequncy" (did you mean login_frequency?)',
        "line 7: feature_adoption is 0–10, not 12",
        "line 8: new_department_interest is 0 or 1, not 2",
        'line 10: value "seven" is not a number',
    ]


def test_usage_csv_needs_its_header() -> None:
    parsed = parse_usage_csv("acme,2026-11-02,nps,8\n", ["acme"], THREE_PILLAR)
    assert parsed.rows == [] and "header client,date,signal,value" in parsed.errors[0]
    assert "empty" in parse_usage_csv("", ["acme"], THREE_PILLAR).errors[0]


def test_commands_parse_and_explain() -> None:
    assert parse_nps('acme 9 "Loved the demo"').model_dump() == {
        "slug": "acme",
        "score": 9,
        "comment": "Loved the demo",
    }
    with pytest.raises(CommandError, match="0 to 10"):
        parse_nps("acme 11")
    assert parse_playbook("acme low engagement").playbook_id == "low-engagement"
    with pytest.raises(CommandError, match="did you mean low-adoption"):
        parse_playbook("acme low-adoptoin")
    r = parse_renewal("acme extended 2028-03-31 arr 260k")
    assert (r.outcome, r.new_end, r.arr) == (Outcome.EXTENDED, date(2028, 3, 31), 260000)
    assert parse_renewal("acme churned").new_end is None
    with pytest.raises(CommandError, match="Add a date"):
        parse_renewal("acme signed")
    with pytest.raises(CommandError, match="did you mean signed"):
        parse_renewal("acme signd 2028-03-31")
    q = parse_qbr("acme Q4", date(2026, 11, 20))
    assert (q.quarter, q.start, q.end, q.delivered) == (
        "2026Q4",
        date(2026, 10, 1),
        date(2026, 12, 31),
        False,
    )
    assert parse_qbr("acme 2026Q3 delivered", date(2026, 11, 20)).delivered


def _row(history: list[tuple[date, float, str]], **kw: object) -> object:
    args: dict[str, object] = {
        "client_id": 1,
        "slug": "acme",
        "name": "Acme",
        "cso_id": "U1",
        "history": history,
        "last_check": None,
        "today": date(2026, 11, 20),
        "last_touchpoint": date(2026, 11, 18),
        "open_flags": 0,
        "contract_end": date(2027, 3, 31),
        "playbook": None,
    }
    args.update(kw)
    return board_row(**args)  # type: ignore[arg-type]


def test_board_row_and_its_action() -> None:
    hist = [(date(2026, 10, 15), 85.0, "green"), (date(2026, 11, 10), 55.0, "red")]
    row = _row(hist, last_check=date(2026, 11, 10))
    assert row.band is Band.RED and row.score == 55  # type: ignore[attr-defined]
    assert row.trend_delta == -30 and row.days_in_band == 10  # type: ignore[attr-defined]
    assert row.days_to_renewal == 131 and row.last_touchpoint_days == 2  # type: ignore[attr-defined]
    assert row.action == "health_start_playbook"  # type: ignore[attr-defined]
    with_plan = _row(hist, last_check=date(2026, 11, 10), playbook="low-engagement 1/5")
    assert with_plan.action == "health_edit"  # type: ignore[attr-defined]  # weekly check due
    green = _row([(date(2026, 11, 10), 90.0, "green")], last_check=date(2026, 11, 10))
    assert green.action == "health_view"  # type: ignore[attr-defined]
    assert _row([]).action == "health_edit"  # type: ignore[attr-defined]
    order = sort_rows([green, _row([]), row])  # type: ignore[list-item]
    assert [r.band for r in order] == [Band.RED, Band.GREEN, None]


def test_suggested_playbook() -> None:
    assert suggested_playbook(Band.RED, [("nps", 3.0)]) == "low-engagement"
    assert suggested_playbook(Band.YELLOW, [("feature_adoption", 6.0)]) == "low-adoption"
    assert suggested_playbook(Band.GREEN, [("nps", 8.0)]) is None
    assert suggested_playbook(Band.GREEN, [], ["competitor_mention"]) == "competitor-evaluation"
