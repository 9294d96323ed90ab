"""Story vs board: each mismatch kind, and the lines that are not one."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.delivery import Board, Issue, Milestone, PullRequest
from domain.story import StoryLine, check, claims_of, meaningless

TUE = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)


def _issue(
    n: int, title: str, state: str = "In Review", kind: str = "started", **kw: object
) -> Issue:
    return Issue(
        identifier=f"LIN-{n}",
        title=title,
        url=f"https://linear.app/x/issue/lin-{n}",
        state=state,
        state_type=kind,
        **kw,  # type: ignore[arg-type]
    )


def _board() -> Board:
    return Board(
        issues=[
            _issue(142, "Attribution model v2", milestone="Attribution v2"),
            _issue(143, "Dashboard export to CSV", "Done", "completed", milestone="Attribution v2"),
            _issue(150, "Warehouse sync", "Blocked", "started", labels=("backend",)),
            _issue(151, "Churn forecast notebook", "Todo", "unstarted", due=date(2026, 11, 18)),
        ],
        milestones=[
            Milestone("Attribution v2", date(2026, 11, 30)),
            Milestone("Sprint 12", date(2026, 11, 10)),
        ],
        pulls=[
            PullRequest("acme/analytics", 88, "LIN-142 attribution v2", "https://gh/88", "open"),
        ],
    )


def _line(text: str, ref: str = "touchpoint:1", source: str = "update") -> StoryLine:
    return StoryLine(source, ref, text, TUE)  # type: ignore[arg-type]


def test_told_done_while_in_review_with_the_pr_unmerged() -> None:
    result = check([_line("Good news: the attribution model shipped today.")], _board(), TODAY)
    [m] = result.of("told_done")
    assert [i.identifier for i in m.issues] == ["LIN-142"]
    assert [p.number for p in m.pulls] == [88]
    assert m.claim is not None and m.claim.line.ref == "touchpoint:1"


def test_told_done_about_a_done_issue_is_no_mismatch() -> None:
    result = check([_line("The CSV export to the dashboard is live.")], _board(), TODAY)
    assert result.of("told_done") == []


def test_a_pr_number_names_its_issue() -> None:
    result = check([_line("PR #88 is merged and deployed.")], _board(), TODAY)
    assert [i.identifier for m in result.of("told_done") for i in m.issues] == ["LIN-142"]


def test_negated_claims_are_not_claims() -> None:
    assert claims_of(_line("The attribution model is not live yet.")) == []
    assert claims_of(_line("Attribution model almost done")) == []


def test_told_on_track_while_past_due() -> None:
    result = check([_line("The churn forecast notebook is on track.")], _board(), TODAY)
    [m] = result.of("told_on_track")
    assert [i.identifier for i in m.issues] == ["LIN-151"]


def test_blocked_issue_never_mentioned() -> None:
    result = check([_line("The attribution model is on track.")], _board(), TODAY)
    assert [m.issues[0].identifier for m in result.of("blocked_unmentioned")] == ["LIN-150"]
    told = check([_line("Warehouse sync is blocked on your VPN access.")], _board(), TODAY)
    assert told.of("blocked_unmentioned") == []


def test_milestone_slipped_with_open_issues() -> None:
    board = _board()
    board.milestones[0] = Milestone("Attribution v2", date(2026, 11, 19))
    result = check([], board, TODAY)
    [m] = result.of("milestone_slipped")
    assert m.milestone is not None and m.milestone.name == "Attribution v2"
    assert [i.identifier for i in m.issues] == ["LIN-142"]
    said = check([_line("Attribution v2 moves to next week, sorry.")], board, TODAY)
    assert said.of("milestone_slipped") == []


def test_milestone_names_that_mean_nothing_to_the_client() -> None:
    assert [
        m.milestone.name for m in check([], _board(), TODAY).of("milestone_name") if m.milestone
    ] == ["Sprint 12"]
    for name in ("M2", "Phase 3", "v2.1", "Misc", "Q1 2", "Backlog"):
        assert meaningless(name), name
    for name in ("Attribution v2", "Self-serve onboarding", "Phase 3: dashboards live"):
        assert not meaningless(name), name


def test_keys_are_stable_and_unique() -> None:
    story = [
        _line("The attribution model shipped today."),
        _line("PR #88 deployed", "win:2", "win"),
    ]
    a = check(story, _board(), TODAY)
    b = check(story, _board(), TODAY)
    assert [m.key for m in a.mismatches] == [m.key for m in b.mismatches]
    assert len({m.key for m in a.mismatches}) == len(a.mismatches)
