"""The flag process as data: settings, business time, escalations, orphaned threads, /update."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.client_update import Slot, parse_update_command, placeholder_warning
from domain.commands import CommandError
from domain.flag_loops import (
    FlagSettings,
    ThreadMessage,
    WorkCalendar,
    flag_escalations,
    orphaned_answer,
)
from domain.flags import FlagKind

CHI = ZoneInfo("America/Chicago")
CAL = WorkCalendar(tz=CHI, country="US")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CHI)


def test_settings_default_to_the_seed_and_read_the_organization() -> None:
    s = FlagSettings.from_org_settings({})
    assert (s.remind_cso_after_days, s.remind_service_lead_after_days) == (1, 2)
    assert s.reply_within_hours == 4 and s.acknowledge_within_days == 1
    assert s.vocabulary.kind_for(":warning:") is FlagKind.RISK
    custom = FlagSettings.from_org_settings(
        {"flags": {"reactions": {"eyes": "scope"}, "reply_within_hours": 2}}
    )
    assert custom.vocabulary.kind_for("eyes") is FlagKind.SCOPE_CREEP
    assert custom.vocabulary.kind_for("warning") is None
    assert custom.reply_within_hours == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"reply_within_hours": -1},
        {"remind_cso_after_days": 3, "remind_service_lead_after_days": 2},
        {"reactions": {"eyes": "nonsense"}},
        {"unknown": 1},
    ],
)
def test_malformed_settings_fall_back_to_the_defaults(bad: dict[str, object]) -> None:
    assert FlagSettings.from_org_settings({"flags": bad}) == FlagSettings()


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    assert CAL.add_hours(at(20, 10), 4) == at(20, 14)
    assert CAL.add_hours(at(20, 15), 4) == at(23, 11)  # Friday 15:00 -> Monday 11:00
    assert CAL.add_hours(at(21, 12), 4) == at(23, 13)  # asked on Saturday
    assert CAL.add_hours(at(20, 7), 1) == at(20, 10)  # before opening
    assert CAL.add_hours(at(25, 16), 2) == at(27, 10)  # Thanksgiving Thursday is off


def test_business_days_keep_the_time_of_day() -> None:
    assert CAL.add_days(at(20, 10), 1) == at(23, 10)
    assert CAL.add_days(at(25, 10), 1) == at(27, 10)
    assert CAL.add_days(at(21, 10), 1) == at(24, 9)  # Saturday counts from Monday's opening
    custom = WorkCalendar(tz=CHI, country="", start=time(8), end=time(18))
    assert custom.add_hours(at(26, 17), 2) == at(27, 9)


def test_flag_escalations_are_due_in_order() -> None:
    s = FlagSettings()
    assert flag_escalations(at(20, 10), CAL, s, at(23, 9)) == []
    assert [e.step for e in flag_escalations(at(20, 10), CAL, s, at(23, 10))] == ["cso"]
    steps = flag_escalations(at(20, 10), CAL, s, at(24, 10))
    assert [e.step for e in steps] == ["cso", "service_lead"]


def test_orphaned_answer() -> None:
    q = at(20, 10)
    answer = ThreadMessage(author="SL", at=q + timedelta(hours=1))
    ack = ThreadMessage(author="CSO", at=q + timedelta(hours=2))
    assert orphaned_answer("CSO", q, [answer], acknowledged=False) == answer
    assert orphaned_answer("CSO", q, [answer, ack], acknowledged=False) is None
    assert orphaned_answer("CSO", q, [answer], acknowledged=True) is None
    assert orphaned_answer("CSO", q, [ack], acknowledged=False) is None  # only the asker


def test_update_command_parsing() -> None:
    assert parse_update_command("Acme EOD").slot is Slot.EOD
    assert parse_update_command("acme morning").slug == "acme"
    for bad in ("", "acme", "acme lunch", "acme eod now"):
        with pytest.raises(CommandError):
            parse_update_command(bad)
    assert placeholder_warning("Next: [what happens tomorrow]") is not None
    assert placeholder_warning("Next: we ship [v2] tomorrow") is None
