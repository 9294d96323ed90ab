"""AI efficiency: the manual share, the first full month, the change (docs/process.md,
"AI efficiency")."""

from __future__ import annotations

from datetime import date

from domain.ai_efficiency import Task, efficiency, first_full_month, manual_share


def _tasks(person: str, month: int, auto: int, manual: int) -> list[Task]:
    day = date(2026, month, 10)
    return [Task(person, day, "touchpoint_from_slack")] * auto + [
        Task(person, day, "logged_touchpoint")
    ] * manual


def test_manual_share_and_no_data() -> None:
    assert manual_share([]) is None
    assert manual_share(_tasks("U1", 11, 3, 1)) == 0.25


def test_first_full_month() -> None:
    assert first_full_month(date(2026, 9, 1)) == "2026-09"
    assert first_full_month(date(2026, 9, 2)) == "2026-10"
    assert first_full_month(date(2026, 12, 15)) == "2027-01"


def test_change_against_the_first_full_month() -> None:
    tasks = _tasks("U1", 9, 1, 9) + _tasks("U1", 10, 5, 5) + _tasks("U1", 11, 6, 4)
    nov = efficiency(tasks, "U1", date(2026, 11, 1), date(2026, 11, 30), date(2026, 9, 14))
    assert (nov.baseline_month, nov.baseline, nov.share) == ("2026-10", 0.5, 0.4)
    assert nov.change == -0.2  # 40 % by hand, from 50 %: the target exactly
    october = efficiency(tasks, "U1", date(2026, 10, 1), date(2026, 10, 31), date(2026, 9, 14))
    assert october.change is None  # the baseline month itself has no change
    none = efficiency(tasks, "U2", date(2026, 11, 1), date(2026, 11, 30), None)
    assert none.share is None and none.change is None
