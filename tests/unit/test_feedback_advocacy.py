"""Product-feedback themes and the reference program's rules, directly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.advocacy import AdvocacySettings, Candidate, enters_pipeline, is_fatigued, suggest
from domain.feedback import Item, assign_themes, keywords, thresholds_crossed
from domain.reference_commands import parse_references

NOW = datetime(2026, 11, 24, 16, tzinfo=UTC)


def test_keywords_drop_the_words_of_asking() -> None:
    assert keywords("It would be great if the dashboard had a dark mode") == ("dark", "mode")
    assert keywords("Any plans to support dark mode?") == ("dark", "mode")
    assert keywords("Could we get scheduled exports by email?") == ("scheduled", "export", "email")


def test_themes_group_the_same_request_and_nps_only_joins() -> None:
    items = [
        Item(1, 1, "It would be great to have a dark mode", "classified", None),
        Item(2, 2, "Feature request: scheduled email exports", "classified", None),
        Item(3, 3, "dark mode please", "reaction", None),
        Item(4, 2, "emails with scheduled exports would be great", "classified", None),
        Item(5, 4, "love the product, pricing is steep", "nps", None),
        Item(6, 4, "dark mode would help our analysts", "nps", None),
    ]
    got = assign_themes(items)
    assert got[1] == got[3] == got[6] == "dark mode"
    assert got[2] == got[4] == "scheduled email export"
    assert got[5] is None


def test_thresholds() -> None:
    assert thresholds_crossed(2, 3) == [] and thresholds_crossed(4, 3) == [3]
    assert thresholds_crossed(6, 3) == [3, 6]


def test_the_pipeline_rule() -> None:
    s = AdvocacySettings()
    today = date(2026, 11, 24)
    assert enters_pipeline("green", today - timedelta(days=60), 9, today, s)
    assert not enters_pipeline("green", today - timedelta(days=59), 10, today, s)
    assert not enters_pipeline("green", today - timedelta(days=90), 8, today, s)
    assert not enters_pipeline("yellow", today - timedelta(days=90), 10, today, s)
    assert not enters_pipeline("green", today - timedelta(days=90), None, today, s)


def test_fatigue_and_suggestions() -> None:
    s = AdvocacySettings()
    two = (NOW - timedelta(days=80), NOW - timedelta(days=10))
    assert not is_fatigued(two, NOW, s)
    assert is_fatigued((*two, NOW), NOW, s)
    assert not is_fatigued((NOW - timedelta(days=200), *two), NOW, s)  # the old one rested
    tired = Candidate(1, "Acme", "enterprise", "champion", ("attribution",), (*two, NOW), False)
    rested = Candidate(2, "Globex", "enterprise", "casual", (), (NOW - timedelta(days=30),), False)
    fresh = Candidate(3, "Initech", "enterprise", "casual", (), (), False)
    ranked = suggest([tired, rested, fresh], NOW, s, segment="enterprise")
    assert [x.candidate.name for x in ranked] == ["Initech", "Globex", "Acme"]
    assert ranked[-1].fatigued and ranked[0].rest_days is None


def test_parse_references() -> None:
    assert parse_references("mid-market attribution").segment == "mid_market"
    q = parse_references("churn models")
    assert q.segment is None and q.use_case == "churn models"
