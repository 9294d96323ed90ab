"""Parsing `/cso prefs` and `/cso ooo`, and the escalation streak."""

from __future__ import annotations

from datetime import date, time

import pytest

from domain.cadence_plan import streak
from domain.commands import CommandError
from domain.prefs import CancelOoo, SetOoo, SetPref, ShowOoo, ShowPrefs, from_today, parse_cso

TODAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prefs", ShowPrefs()),
        ("prefs cutoff 16:00", SetPref(setting="cutoff", at=time(16))),
        ("prefs standup 9:30", SetPref(setting="standup", at=time(9, 30))),
        ("prefs quiet 18:00-09:00", SetPref(setting="quiet", quiet=(time(18), time(9)))),
        ("prefs quiet hours 19:30 - 08:00", None),
        ("prefs cap 4", SetPref(setting="cap", cap=4)),
        ("prefs cutoff default", SetPref(setting="cutoff")),
        ("ooo", ShowOoo()),
        ("ooo cancel", CancelOoo()),
        ("ooo 2026-12-24 2026-12-31", SetOoo(start=date(2026, 12, 24), end=date(2026, 12, 31))),
        ("ooo 2026-12-24", SetOoo(start=date(2026, 12, 24), end=date(2026, 12, 24))),
    ],
)
def test_parse_cso(text: str, expected: object) -> None:
    if expected is None:
        with pytest.raises(CommandError):
            parse_cso(text, TODAY)
        return
    assert parse_cso(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "What would you like"),
        ("pref cutof 16:00", "did you mean `cutoff`"),
        ("prefs cutoff", "Give a value for cutoff"),
        ("prefs cutoff 4pm", "HH:MM"),
        ("prefs quiet 09:00-18:00", "evening to the morning"),
        ("prefs cap 0", "from 1 to 30"),
        ("ooo 2026-11-01 2026-11-05", "in the past"),
        ("ooo 2026-12-31 2026-12-24", "before the first"),
        ("ooo 2026-12-01 2027-06-01", "more than 92 days"),
        ("oof 2026-12-24", "did you mean `ooo`"),
    ],
)
def test_bad_cso_input_says_what_to_type(text: str, says: str) -> None:
    with pytest.raises(CommandError, match=None) as err:
        parse_cso(text, TODAY)
    assert says in str(err.value)


def test_an_ooo_that_began_already_starts_today() -> None:
    assert parse_cso("ooo 2026-11-18 2026-11-25", TODAY) == SetOoo(
        start=TODAY, end=date(2026, 11, 25)
    )


def test_the_streak_skips_weekends_holidays_exemptions_and_time_out() -> None:
    monday = date(2026, 11, 23)
    reminded = {(1, d) for d in (date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20))}
    # Thursday and Friday missed (reminded, no touchpoint), the weekend skipped: Monday is the 3rd.
    assert streak(1, monday, set(), set(), set(), [], reminded | {(1, monday)}) == 3
    assert streak(1, monday, {(1, date(2026, 11, 20))}, set(), set(), [], reminded) == 1
    # An exempt Friday is neither a miss nor a break: Thursday's miss still counts.
    exempt = {(1, date(2026, 11, 20))}
    assert streak(1, monday, set(), exempt, set(), [], reminded) == 3
    # Days the bot never reminded about are not held against anyone.
    assert streak(1, monday, set(), set(), set(), [], set()) == 1


def test_an_ooo_parsed_before_the_persons_date_is_known_is_settled_from_today() -> None:
    parsed = parse_cso("ooo 2026-11-18 2026-11-25")
    assert parsed == SetOoo(start=date(2026, 11, 18), end=date(2026, 11, 25))
    assert isinstance(parsed, SetOoo)
    assert from_today(parsed, TODAY) == SetOoo(start=TODAY, end=date(2026, 11, 25))
    with pytest.raises(CommandError, match="in the past"):
        from_today(SetOoo(start=date(2026, 11, 1), end=date(2026, 11, 2)), TODAY)
