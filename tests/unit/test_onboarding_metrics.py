"""Onboarding metrics against values computed by hand (docs/process.md, "Onboarding")."""

from __future__ import annotations

from datetime import date

import pytest

from domain.metric import Metric, Period
from domain.onboarding_metrics import OnboardingFacts, onboarding_metrics

JAN = Period(date(2027, 1, 1), date(2027, 1, 31), "2027-01")
WINDOWS = {"enterprise": (60, 120), "mid_market": (30, 60), "smb": (14, 30)}
FACTS = [
    OnboardingFacts(
        slug="a", segment="smb", signed_on=date(2026, 12, 10), window=(14, 30),
        handed_off_on=date(2026, 12, 28), activation_due_on=date(2027, 1, 5),
        activation_done_on=date(2027, 1, 4), first_win_on=date(2027, 1, 4),
    ),
    OnboardingFacts(
        slug="b", segment="mid_market", signed_on=date(2026, 12, 1), window=(30, 60),
        handed_off_on=date(2027, 2, 5), activation_due_on=date(2027, 1, 20),
        first_win_on=date(2027, 1, 10),
    ),
    OnboardingFacts(
        slug="c", segment="smb", signed_on=date(2026, 12, 20), window=(14, 30),
        handed_off_on=date(2027, 1, 15), activation_due_on=date(2026, 12, 30),
        activation_done_on=date(2026, 12, 29), first_win_on=date(2027, 1, 15), cso_hours=6.5,
    ),
    OnboardingFacts(
        slug="d", segment="smb", signed_on=date(2026, 10, 15), window=(14, 30),
        churned_on=date(2027, 1, 1),
    ),
    OnboardingFacts(slug="e", segment="smb", signed_on=date(2026, 10, 20), window=(14, 30)),
    OnboardingFacts(
        slug="f", segment="mid_market", signed_on=date(2026, 11, 10), window=(30, 60),
        handed_off_on=date(2027, 1, 20), cso_hours=12,
    ),
]  # fmt: skip


def _by_key(period: Period) -> dict[str, Metric]:
    return {m.key: m for m in onboarding_metrics(FACTS, period, WINDOWS)}


def test_the_figures_match_the_hand_computed_values() -> None:
    m = _by_key(JAN)
    ttv = m["onboarding.time_to_value"]
    # First wins in January: a 25 d, b 40 d, c 26 d → median 26.
    assert ttv.value == 26 and ttv.on_target is True
    assert ttv.evidence == ("a: 25 d", "b: 40 d", "c: 26 d")
    # Windows closing in January: a (Jan 9), b (Jan 30), c (Jan 19), f (Jan 9); handed off in
    # time: a, c → 2/4.
    assert m["onboarding.completion_rate"].value == pytest.approx(0.5)
    assert m["onboarding.completion_rate"].on_target is False
    # Activation due in January: a (done), b (not) → 1/2.
    assert m["onboarding.activation_rate"].value == pytest.approx(0.5)
    # Day 90 in January: d (churned Jan 1, before day 90 on Jan 13), e (kept) → 1/2.
    churn = m["onboarding.early_churn"]
    assert churn.value == pytest.approx(0.5) and churn.on_target is False
    # Handed off in January: c (smb, 26 d: inside 14–30), f (mid-market, 71 d: outside 30–60).
    assert m["onboarding.days.smb"].value == 26
    assert m["onboarding.days.smb"].on_target is True
    assert m["onboarding.days.mid_market"].value == 71
    assert m["onboarding.days.mid_market"].on_target is False
    assert m["onboarding.days.mid_market"].target == "30–60 days"
    assert m["onboarding.days.enterprise"].value is None
    assert m["onboarding.days.enterprise"].target == "60–120 days"
    # Hours logged on c (6.5) and f (12) → 9.25.
    assert m["onboarding.cso_hours"].value == pytest.approx(9.25)


def test_a_period_without_onboardings_has_no_data_never_zero() -> None:
    empty = Period(date(2030, 1, 1), date(2030, 1, 31), "2030-01")
    for metric in onboarding_metrics(FACTS, empty, WINDOWS):
        assert metric.value is None and metric.on_target is None, metric.key
        assert metric.formula and metric.group == "Onboarding"
