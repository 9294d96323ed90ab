"""Health models: scoring, validation, history rules, cadence, escalation."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from domain.health import (
    DEFAULT_MODEL,
    FIVE_CATEGORY,
    THREE_PILLAR,
    Band,
    HealthModelError,
    _normalise,
    current_band,
    days_in_band,
    detect_change,
    get_model,
    needs_escalation,
    next_check_due,
    parse_health_model,
    score,
    signals_moved,
    trend,
)

ACME = {
    "login_frequency": 9,
    "feature_adoption": 8,
    "active_vs_licensed": 9,
    "support_tickets_inverse": 9,
    "executive_engagement": 8,
    "meeting_attendance": 7,
    "nps": 9,
    "response_time": 8,
    "goals_achieved": 8,
    "roi_demonstrated": 9,
    "business_impact": 8,
}
TODAY = date(2026, 11, 20)


def _model(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "custom",
        "name": "Custom",
        "pillars": [
            {"name": "product", "weight": 0.5, "signals": ["logins", "adoption"]},
            {"name": "people", "weight": 0.5, "signals": ["nps"]},
        ],
    }
    data.update(overrides)
    return data


def test_the_process_acme_example_is_84_green() -> None:
    result = score(DEFAULT_MODEL, ACME)
    assert result.score == 84
    assert result.band is Band.GREEN
    means = {p.name: p.mean for p in result.pillars}
    assert means == {"product": 8.75, "relationship": 8.0, "outcomes": 8.33}
    assert [p.contribution for p in result.pillars] == [35.0, 24.0, 25.0]
    assert result.missing_signals == [] and result.missing_pillars == []
    assert result.weakest[0].name == "meeting_attendance"
    assert result.weakest[0].value == 7


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (100, Band.GREEN),
        (80, Band.GREEN),
        (79.99, Band.YELLOW),
        (60, Band.YELLOW),
        (59.99, Band.RED),
        (0, Band.RED),
    ],
)
def test_three_pillar_band_edges(value: float, band: Band) -> None:
    assert THREE_PILLAR.band(value) is band


@pytest.mark.parametrize(
    ("value", "band"), [(75, Band.GREEN), (74.99, Band.YELLOW), (50, Band.YELLOW), (49.9, Band.RED)]
)
def test_five_category_band_edges(value: float, band: Band) -> None:
    assert FIVE_CATEGORY.band(value) is band


def test_score_band_uses_the_rounded_score() -> None:
    # Product all 8 and the others all 8 → 80 exactly → Green, not Yellow.
    result = score(THREE_PILLAR, dict.fromkeys(ACME, 8))
    assert result.score == 80 and result.band is Band.GREEN
    low = score(THREE_PILLAR, dict.fromkeys(ACME, 5.99))
    assert low.score == 59.9 and low.band is Band.RED


def test_weights_must_sum_to_100_percent() -> None:
    bad = _model(
        pillars=[
            {"name": "product", "weight": 0.5, "signals": ["logins"]},
            {"name": "people", "weight": 0.4, "signals": ["nps"]},
        ]
    )
    with pytest.raises(HealthModelError, match=r"sum to 90\.0%.*product 50\.0%.*people 40\.0%"):
        parse_health_model(bad)
    # Within ±0.001 is accepted; percentages are accepted too.
    ok = _model(
        pillars=[
            {"name": "product", "weight": 0.5005, "signals": ["logins"]},
            {"name": "people", "weight": 0.4999, "signals": ["nps"]},
        ]
    )
    assert parse_health_model(ok).weights()["product"] == 0.5005
    pct = _model(
        pillars=[
            {"name": "product", "weight": 60, "signals": ["logins"]},
            {"name": "people", "weight": 40, "signals": ["nps"]},
        ]
    )
    assert parse_health_model(pct).weights() == {"product": 0.6, "people": 0.4}


def test_segment_weights_override_and_are_validated() -> None:
    model = parse_health_model(_model(segment_weights={"smb": {"product": 0.7, "people": 0.3}}))
    signals = {"logins": 10, "adoption": 10, "nps": 0}
    assert score(model, signals).score == 50
    assert score(model, signals, "smb").score == 70
    assert score(model, signals, "enterprise").score == 50  # no override → defaults
    with pytest.raises(HealthModelError, match=r"segment_weights\.smb sum to 120\.0%"):
        parse_health_model(_model(segment_weights={"smb": {"product": 0.7}}))
    with pytest.raises(HealthModelError, match=r"segment_weights\.smb: unknown pillar usage"):
        parse_health_model(_model(segment_weights={"smb": {"usage": 1.0}}))
    with pytest.raises(HealthModelError, match=r'unknown segment "startup"'):
        score(model, signals, "startup")


def test_unknown_signals_and_out_of_range_values_are_named() -> None:
    with pytest.raises(HealthModelError, match=r"unknown signal logins_per_day for model"):
        score(THREE_PILLAR, {**ACME, "logins_per_day": 5})
    with pytest.raises(HealthModelError, match=r'signal "nps" \(relationship\): 11 is outside'):
        score(THREE_PILLAR, {**ACME, "nps": 11})
    with pytest.raises(HealthModelError, match=r'"feature_adoption" \(product\): -1'):
        score(THREE_PILLAR, {**ACME, "feature_adoption": -1})
    with pytest.raises(HealthModelError, match="nothing to score"):
        score(THREE_PILLAR, {})


def test_model_validation_names_duplicates() -> None:
    dup_signal = _model(
        pillars=[
            {"name": "product", "weight": 0.5, "signals": ["nps"]},
            {"name": "people", "weight": 0.5, "signals": ["nps"]},
        ]
    )
    with pytest.raises(HealthModelError, match=r'signal "nps" is in both pillar "product"'):
        parse_health_model(dup_signal)
    with pytest.raises(HealthModelError, match=r"bands: yellow \(80"):
        parse_health_model(_model(bands={"green": 70, "yellow": 80}))
    with pytest.raises(HealthModelError, match='unknown health model "nope"'):
        get_model("nope")


def test_missing_pillar_is_excluded_and_weights_renormalised() -> None:
    signals = {k: v for k, v in ACME.items() if k not in THREE_PILLAR.pillars[2].signal_names}
    result = score(THREE_PILLAR, signals)
    # (8.75 × 0.4 + 8.0 × 0.3) / 0.7 × 10 = 84.2857…
    assert result.score == 84.3
    assert result.missing_pillars == ["outcomes"]
    assert result.missing_signals == ["goals_achieved", "roi_demonstrated", "business_impact"]
    weights = {p.name: p.weight for p in result.pillars}
    assert weights == {"product": 0.5714, "relationship": 0.4286, "outcomes": 0.0}
    assert not result.complete


def test_partially_missing_pillar_uses_the_signals_given() -> None:
    signals = {**ACME, "nps": None}
    del signals["response_time"]
    result = score(THREE_PILLAR, signals)
    relationship = next(p for p in result.pillars if p.name == "relationship")
    assert relationship.mean == 7.5
    assert relationship.missing_signals == ["nps", "response_time"]
    assert result.missing_pillars == []
    assert result.score == 82.5  # 3.5 + 7.5 × 0.3 + 2.5


def test_five_category_model() -> None:
    signals = dict.fromkeys(FIVE_CATEGORY.signal_names, 7.0)
    signals.update({"dau_wau_ratio": 10, "feature_adoption": 10, "depth_of_use": 10})
    result = score(FIVE_CATEGORY, signals)
    # usage 10 × 35% + 7 × 65% = 8.05 → 80.5 Green (≥ 75)
    assert result.score == 80.5 and result.band is Band.GREEN
    enterprise = score(FIVE_CATEGORY, signals, "enterprise")
    # usage 30%, outcomes 25%: 10 × 0.3 + 7 × 0.7 = 7.9
    assert enterprise.score == 79.0
    assert sum(FIVE_CATEGORY.weights().values()) == pytest.approx(1)
    with pytest.raises(HealthModelError, match=r'pillar "usage" weight 45% is outside its range'):
        parse_health_model(
            {
                **FIVE_CATEGORY.model_dump(),
                "segment_weights": {"smb": {"usage": 0.45, "engagement": 0.15}},
            }
        )


def _history(*items: tuple[int, float, str]) -> list[tuple[date, float, Band | str]]:
    return [(TODAY - timedelta(days=ago), value, band) for ago, value, band in items]


def test_fifteen_point_drop_within_seven_days_alerts() -> None:
    history = _history((10, 90, "green"), (6, 88, "green"), (0, 73, "yellow"))
    alerts = detect_change(history, TODAY)
    kinds = {a.kind: a for a in alerts}
    assert set(kinds) == {"drop", "band_change"}
    assert kinds["drop"].previous_score == 88 and kinds["drop"].since == TODAY - timedelta(6)
    assert "fell 15 points in 6 days" in kinds["drop"].message
    assert kinds["band_change"].from_band is Band.GREEN
    assert kinds["band_change"].to_band is Band.YELLOW


def test_drop_outside_window_or_too_small_does_not_alert() -> None:
    # 90 → 73 over 8 days: outside the 7-day window, no band change.
    assert detect_change(_history((8, 90, "yellow"), (0, 73, "yellow")), TODAY) == []
    # 14.9 points within the window: no drop alert.
    assert detect_change(_history((3, 74.9, "yellow"), (0, 60, "yellow")), TODAY) == []
    # A rise never alerts as a drop, but a band change still does.
    alerts = detect_change(_history((1, 55, "red"), (0, 75, "yellow")), TODAY)
    assert [a.kind for a in alerts] == ["band_change"]
    # Future points are ignored.
    assert detect_change(_history((-1, 10, "red"), (1, 90, "green")), TODAY) == []


def test_days_in_band_and_trend() -> None:
    history = _history((40, 85, "green"), (20, 70, "yellow"), (9, 65, "yellow"), (2, 62, "yellow"))
    assert days_in_band(history, TODAY) == 20
    assert days_in_band([], TODAY) == 0
    t = trend(history, TODAY)
    assert t is not None
    assert t.previous == 85 and t.delta == -23 and t.direction == "down"
    assert trend(history[:1], TODAY) is None
    short = trend(_history((5, 70, "yellow"), (0, 71, "yellow")), TODAY)
    assert short is not None and short.direction == "flat"


def test_check_cadence_by_band() -> None:
    assert next_check_due(Band.RED, date(2026, 1, 5)) == date(2026, 1, 12)
    assert next_check_due("yellow", date(2026, 1, 5)) == date(2026, 1, 19)
    assert next_check_due(Band.GREEN, date(2026, 1, 5)) == date(2026, 2, 5)
    assert next_check_due(Band.GREEN, date(2026, 1, 31)) == date(2026, 2, 28)
    assert next_check_due(Band.GREEN, date(2026, 12, 15)) == date(2027, 1, 15)


def test_escalation_red_over_14_days_without_plan() -> None:
    red_15 = _history((30, 70, "yellow"), (15, 55, "red"), (1, 50, "red"))
    red_14 = _history((30, 70, "yellow"), (14, 55, "red"), (1, 50, "red"))
    assert needs_escalation(red_15, TODAY, has_active_plan=False)
    assert not needs_escalation(red_15, TODAY, has_active_plan=True)
    assert not needs_escalation(red_14, TODAY, has_active_plan=False)
    recovered = [*red_15, (TODAY, 65.0, Band.YELLOW)]
    assert not needs_escalation(recovered, TODAY, has_active_plan=False)


def test_signals_moved_lists_biggest_fall_first() -> None:
    moved = signals_moved({"nps": 9, "logins": 8, "roi": 5}, {"nps": 4, "logins": 7.5, "roi": 7})
    assert moved == [("nps", 9, 4), ("roi", 5, 7)]


def test_the_shipped_models_are_read_from_yaml_and_validated() -> None:
    from domain.health import MODELS, parse_health_models

    assert list(MODELS) == ["three-pillar", "five-category"]
    assert MODELS["three-pillar"].weights() == {
        "product": 0.4,
        "relationship": 0.3,
        "outcomes": 0.3,
    }
    assert MODELS["five-category"].pillars[0].weight_range == (0.30, 0.40)
    assert MODELS["five-category"].weights("enterprise")["usage"] == 0.30
    bad = "models:\n  - {id: x, name: X, pillars: [{name: a, weight: 0.5, signals: [s]}]}\n"
    with pytest.raises(HealthModelError, match=r"sum to 50\.0%"):
        parse_health_models(bad)
    twice = (
        "models:\n" + "  - {id: x, name: X, pillars: [{name: a, weight: 1, signals: [s]}]}\n" * 2
    )
    with pytest.raises(HealthModelError, match="listed twice"):
        parse_health_models(twice)
    with pytest.raises(HealthModelError, match="not valid YAML"):
        parse_health_models("models: [")


def test_current_band_is_the_band_of_the_last_point_the_history_rules_keep() -> None:
    """`current_band` reads a history in one pass; it answers as the full reading does (points
    on or before today, one per day, the last given of a day winning), including same-day
    duplicates, points after today and bands given as strings."""
    rnd = random.Random(5)
    today = date(2026, 11, 20)
    bands: list[Band | str] = [*Band, *(b.value for b in Band)]
    for _ in range(500):
        history = [
            (today + timedelta(days=rnd.randint(-6, 2)), rnd.uniform(0, 100), rnd.choice(bands))
            for _ in range(rnd.randint(0, 8))
        ]
        points = _normalise(history, today)
        assert current_band(history, today) == (points[-1][2] if points else None)
