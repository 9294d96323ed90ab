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
    assert ttv.evidence == ("a: 25 d (first /win)", "b: 40 d (first /win)", "c: 26 d (first /win)")
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


def test_time_to_value_counts_the_first_win_or_the_first_marked_outcome() -> None:
    facts = [
        # An outcome (LIN-7) before the first win: Dec 1 → Jan 5 = 35 d.
        OnboardingFacts(
            slug="b", segment="mid_market", signed_on=date(2026, 12, 1), window=(30, 60),
            first_win_on=date(2027, 1, 10), first_outcome_on=date(2027, 1, 5),
            first_outcome_ref="LIN-7",
        ),
        # The win first, the outcome later: Dec 20 → Jan 15 = 26 d (first /win).
        OnboardingFacts(
            slug="c", segment="smb", signed_on=date(2026, 12, 20), window=(14, 30),
            first_win_on=date(2027, 1, 15), first_outcome_on=date(2027, 1, 20),
            first_outcome_ref="acme/web#88",
        ),
        # No win, an outcome only: Nov 10 → Jan 3 = 20 + 31 + 3 = 54 d.
        OnboardingFacts(
            slug="f", segment="mid_market", signed_on=date(2026, 11, 10), window=(30, 60),
            first_outcome_on=date(2027, 1, 3), first_outcome_ref="acme/web@v1.2",
        ),
        # Its first value was an outcome in December (Oct 20 → Dec 20 = 61 d), so a win in
        # January is not its first value: not counted in January.
        OnboardingFacts(
            slug="e", segment="smb", signed_on=date(2026, 10, 20), window=(14, 30),
            first_win_on=date(2027, 1, 8), first_outcome_on=date(2026, 12, 20),
            first_outcome_ref="LIN-3",
        ),
        # Same day: the win counts (Dec 10 → Jan 4 = 25 d).
        OnboardingFacts(
            slug="a", segment="smb", signed_on=date(2026, 12, 10), window=(14, 30),
            first_win_on=date(2027, 1, 4), first_outcome_on=date(2027, 1, 4),
            first_outcome_ref="LIN-1",
        ),
    ]  # fmt: skip
    jan = {m.key: m for m in onboarding_metrics(facts, JAN, WINDOWS)}["onboarding.time_to_value"]
    # January: b 35, c 26, f 54, a 25 → sorted 25, 26, 35, 54 → median (26 + 35) / 2 = 30.5.
    assert jan.value == 30.5 and jan.on_target is False
    assert jan.evidence == (
        "b: 35 d (outcome LIN-7)",
        "c: 26 d (first /win)",
        "f: 54 d (outcome acme/web@v1.2)",
        "a: 25 d (first /win)",
    )
    assert "marked an outcome" in jan.formula and "/win" in jan.formula
    dec = Period(date(2026, 12, 1), date(2026, 12, 31), "2026-12")
    ttv = {m.key: m for m in onboarding_metrics(facts, dec, WINDOWS)}["onboarding.time_to_value"]
    assert ttv.value == 61 and ttv.evidence == ("e: 61 d (outcome LIN-3)",)
