"""Expansion signals and guardrail, pipeline share, portfolio metrics."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.expansion import (
    ExpansionInputs,
    estimated_value,
    expansion_allowed,
    pipeline_share,
    score_expansion,
)
from domain.health import Band
from domain.metrics import (
    METRICS,
    QbrRecord,
    RenewalRecord,
    expansion_share,
    formula,
    grr,
    health_score_accuracy,
    logo_retention,
    nps,
    nrr,
    qbr_completion,
    renewal_expansion_arr,
)
from domain.renewals import Outcome

TODAY = date(2026, 11, 20)


def test_every_signal_scores_its_points() -> None:
    inputs = ExpansionInputs(
        active_seats=41,
        licensed_seats=50,
        new_department_interest=True,
        premium_feature_requests=2,
        executive_engagement_rising=True,
        contract_end=TODAY + timedelta(days=90),
    )
    result = score_expansion(inputs, TODAY)
    assert result.points == 12
    assert result.actions == [
        "Explore user expansion",
        "Schedule discovery call",
        "Position upgrade path",
        "Propose strategic review",
        "Bundle expansion into renewal",
    ]
    assert result.reasons[0] == "41/50 licensed seats active (82%)"
    assert result.reasons[-1] == "Renewal in 90 days"


def test_signal_thresholds() -> None:
    # Exactly 80% active is not "> 80%"; renewal 91 days out or already past is not "within 90".
    assert score_expansion(ExpansionInputs(active_seats=40, licensed_seats=50), TODAY).points == 0
    far = ExpansionInputs(contract_end=TODAY + timedelta(days=91))
    assert score_expansion(far, TODAY).points == 0
    past = ExpansionInputs(contract_end=TODAY - timedelta(days=1))
    assert score_expansion(past, TODAY).points == 0
    assert score_expansion(ExpansionInputs(active_seats=5, licensed_seats=0), TODAY).points == 0
    some = ExpansionInputs(new_department_interest=True, premium_feature_requests=1)
    assert score_expansion(some, TODAY).points == 5
    assert score_expansion(some, TODAY).signals == ["new_department", "premium_feature_requests"]


def test_estimated_value_rule() -> None:
    assert estimated_value(100_000, 0) == 0
    assert estimated_value(100_000, 5) == 12_500  # 2.5% per point
    assert estimated_value(100_000, 12) == 30_000
    assert estimated_value(100_000, 40) == 30_000  # capped at the table's 12 points


def _green_since(days: int) -> list[tuple[date, float, Band | str]]:
    start = TODAY - timedelta(days=days)
    return [
        (start - timedelta(days=30), 70.0, Band.YELLOW),
        (start, 82.0, Band.GREEN),
        (TODAY - timedelta(days=1), 85.0, "green"),
    ]


def test_green_for_60_days_guardrail() -> None:
    assert expansion_allowed(_green_since(60), TODAY)
    assert not expansion_allowed(_green_since(59), TODAY)
    dipped = [*_green_since(90), (TODAY, 78.0, Band.YELLOW)]
    assert not expansion_allowed(dipped, TODAY)
    assert not expansion_allowed([], TODAY)


def test_pipeline_share_against_target() -> None:
    assert pipeline_share(150_000, 1_000_000).status == "on target"
    assert pipeline_share(200_000, 1_000_000).status == "on target"
    below = pipeline_share(100_000, 1_000_000)
    assert below.share == 0.1 and below.status == "below"
    assert pipeline_share(250_000, 1_000_000).status == "above"
    empty = pipeline_share(10_000, 0)
    assert empty.share is None and empty.status == "no data"


# A hand-computed portfolio:
#   A 100 → 120 signed,   Green  (expansion 20)
#   B 200 → 150 signed,   Yellow (contraction 50)
#   C  50 →   0 churned,  Green
#   D 150 → 150 extended, Red
PORTFOLIO = [
    RenewalRecord(
        client="a", arr_before=100, arr_after=120, outcome=Outcome.SIGNED, band_at_renewal="green"
    ),
    RenewalRecord(
        client="b", arr_before=200, arr_after=150, outcome="signed", band_at_renewal=Band.YELLOW
    ),
    RenewalRecord(
        client="c", arr_before=50, arr_after=0, outcome="churned", band_at_renewal=Band.GREEN
    ),
    RenewalRecord(
        client="d", arr_before=150, arr_after=150, outcome="extended", band_at_renewal=Band.RED
    ),
]


def test_grr() -> None:
    # renewed excluding expansion = 100 + 150 + 150 = 400; expiring = 500
    assert grr(PORTFOLIO) == 0.8


def test_nrr() -> None:
    # renewed 450 + expansion 20 − contraction 50 = 420; beginning 500
    assert nrr(PORTFOLIO) == 0.84
    assert renewal_expansion_arr(PORTFOLIO) == 20


def test_logo_retention_and_health_accuracy() -> None:
    assert logo_retention(PORTFOLIO) == 0.75  # 3 of 4 renewed
    assert health_score_accuracy(PORTFOLIO) == 0.5  # Green: a renewed, c churned


def test_qbr_completion() -> None:
    qbrs = [
        QbrRecord(client="a", quarter="2026Q4", delivered=True),
        QbrRecord(client="b", quarter="2026Q4", delivered=True),
        QbrRecord(client="d", quarter="2026Q4", delivered=False),
    ]
    assert qbr_completion(qbrs) == 0.6667


def test_nps() -> None:
    # promoters 9, 10, 10 (3); passives 7, 8 (2); detractors 0, 6 (2); n = 7 → (3 − 2) / 7
    assert nps([9, 10, 10, 7, 8, 0, 6]) == 14.3
    assert nps([10, 10]) == 100
    assert nps([3]) == -100
    with pytest.raises(ValueError, match=r"0\.\.10"):
        nps([11])


def test_expansion_share() -> None:
    assert expansion_share(20, 500) == 0.04
    assert expansion_share(0, 500) == 0


def test_zero_denominators_mean_no_data() -> None:
    assert grr([]) is None
    assert nrr([]) is None
    assert logo_retention([]) is None
    red_only = [PORTFOLIO[3]]
    assert health_score_accuracy(red_only) is None
    assert qbr_completion([]) is None
    assert nps([]) is None
    assert expansion_share(100, 0) is None
    free = RenewalRecord(client="z", arr_before=0, arr_after=0, outcome="churned")
    assert grr([free]) is None and logo_retention([free]) == 0


def test_records_are_validated_and_formulas_documented() -> None:
    with pytest.raises(ValueError, match="churned but arr_after is 10"):
        RenewalRecord(client="x", arr_before=10, arr_after=10, outcome="churned")
    assert formula(grr) == "GRR = renewed ARR (excluding expansion) / expiring ARR"
    assert formula(nrr) == "NRR = (renewed + expansion − contraction) / beginning ARR"
    assert all("=" in formula(fn) for fn in METRICS.values())


def test_pulse_hooks_read_as_department_interest_and_premium_requests() -> None:
    from domain.expansion import hook_signals

    assert hook_signals([]) == (False, 0)
    assert hook_signals(["Marketing DEPARTMENT wants in", None]) == (True, 0)
    assert hook_signals(["asked about the premium tier", "an upgrade?", "nothing"]) == (False, 2)


def test_executive_engagement_rising_compares_with_30_days_ago() -> None:
    from domain.expansion import executive_engagement_rising

    today = date(2026, 11, 20)
    old = today - timedelta(days=40)
    assert executive_engagement_rising([(old, 5.0), (today, 6.0)], today)
    assert not executive_engagement_rising([(old, 5.0), (today, 5.5)], today)
    assert not executive_engagement_rising([(today - timedelta(days=5), 2.0), (today, 9.0)], today)
    assert not executive_engagement_rising([], today)


def test_nps_buckets() -> None:
    from domain.metrics import nps_category

    assert [nps_category(v) for v in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
