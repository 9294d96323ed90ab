"""Outcomes vs features, and next period's goals — with the goals bug's regression test."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.value import Output, SuccessCriterion, mark, mark_all, measured, next_goals

AT = datetime(2026, 11, 18, tzinfo=UTC)
REPORTING = SuccessCriterion(
    goal="Cut weekly reporting time", metric="hours per week on reporting", target="under 5"
)
DASHBOARDS = SuccessCriterion(goal="Self-serve dashboards for the sales team")


def test_a_signal_at_or_above_the_target_is_never_a_goal_to_raise() -> None:
    # The bug: every weakest signal under 10 became "Raise Login frequency from 9 to 8 or more".
    goals = next_goals([], [], [("Feature adoption", 6), ("Login frequency", 9), ("NPS", 8)])
    assert goals == ["Raise Feature adoption from 6 to 8 or more."]
    assert not any("from 9 to 8" in g or "from 8 to 8" in g for g in goals)


def test_goals_come_from_unmet_criteria_first() -> None:
    win = Output("win", "win:1", "Dashboards cut weekly reporting to 3 hours", AT)
    marked = mark_all([win], [REPORTING, DASHBOARDS])
    goals = next_goals([REPORTING, DASHBOARDS], marked, [("Executive engagement", 7.5)])
    assert goals == [
        "Self-serve dashboards for the sales team — no outcome recorded yet.",
        "Keep delivering on “Cut weekly reporting time”.",
        "Raise Executive engagement from 7.5 to 8 or more.",
    ]


def test_outcome_needs_a_criterion_and_evidence() -> None:
    criteria = [REPORTING, DASHBOARDS]
    assert mark(Output("win", "w", "Weekly reporting now takes 3 hours", AT), criteria).mark == (
        "outcome"
    )
    issue = Output("issue", "LIN-1", "LIN-1 Automate the weekly reporting export", AT)
    assert mark(issue, criteria).mark == "feature only"  # names the goal, no evidence
    measured_issue = Output("issue", "LIN-2", "LIN-2 Weekly reporting down 40%", AT)
    assert mark(measured_issue, criteria).mark == "outcome"
    unrelated = Output("win", "w2", "Shipped the login page redesign", AT)
    assert mark(unrelated, criteria).mark == "feature only"
    assert measured("$12k saved") and measured("3 hours") and not measured("v2 shipped")
