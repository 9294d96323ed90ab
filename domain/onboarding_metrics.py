"""Onboarding efficiency (docs/process.md, "Onboarding"): time to value, completion,
activation, early churn, days in onboarding by segment against its window, and CSO hours per
onboarding. Pure: the caller reads the facts; a period with no onboarding in it has no data
(None), never 0 % or 100 %."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from domain.metric import Metric, Period

GROUP = "Onboarding"
SEGMENT_LABELS = {"enterprise": "Enterprise", "mid_market": "Mid-market", "smb": "SMB"}


@dataclass(frozen=True)
class OnboardingFacts:
    slug: str
    segment: str
    signed_on: date
    window: tuple[int, int]  # the segment's window in days, [shortest, longest]
    handed_off_on: date | None = None
    activation_due_on: date | None = None
    activation_done_on: date | None = None
    first_win_on: date | None = None
    # The first output (issue done, pull request merged, release) marked an outcome against a
    # success criterion (domain.value.mark), and its reference ("LIN-142").
    first_outcome_on: date | None = None
    first_outcome_ref: str | None = None
    churned_on: date | None = None
    cso_hours: float | None = None  # None: no hours logged


def first_value(f: OnboardingFacts) -> tuple[date, str] | None:
    """The client's first value: the earlier of its first /win and its first output marked an
    outcome (a tie counts as the win), with what it was. None: neither yet."""
    found: list[tuple[date, int, str]] = []
    if f.first_win_on is not None:
        found.append((f.first_win_on, 0, "first /win"))
    if f.first_outcome_on is not None:
        found.append((f.first_outcome_on, 1, f"outcome {f.first_outcome_ref or ''}".strip()))
    if not found:
        return None
    day, _, what = min(found)
    return day, what


def _in(day: date | None, period: Period) -> bool:
    return day is not None and period.start <= day <= period.end


def _ratio(hit: int, of: int) -> float | None:
    return hit / of if of else None


def onboarding_metrics(
    facts: Sequence[OnboardingFacts],
    period: Period,
    windows: Mapping[str, tuple[int, int]],
    *,
    ttv_target_days: int = 30,
    early_churn_days: int = 90,
) -> list[Metric]:
    out: list[Metric] = []

    # Time to value: signature → the first win recorded with /win or the first marked outcome.
    firsts = [(f, first_value(f)) for f in facts]
    ttv = [
        (f.slug, (first[0] - f.signed_on).days, first[1])
        for f, first in firsts
        if first is not None and _in(first[0], period)
    ]
    value = float(median(d for _, d, _ in ttv)) if ttv else None
    out.append(
        Metric(
            key="onboarding.time_to_value",
            label="Time to value (median)",
            group=GROUP,
            value=value,
            unit="days",
            target=f"< {ttv_target_days} days",
            on_target=None if value is None else value < ttv_target_days,
            formula="median over clients whose first value fell in the period of (first value "
            "day − signature day); first value = the earlier of the first win recorded with "
            "/win and the first issue done, pull request merged or release marked an outcome "
            "(it names a success criterion and carries a measured figure, as in the QBR)",
            evidence=tuple(f"{s}: {d} d ({what})" for s, d, what in ttv),
        )
    )

    # Completion: of the onboardings whose window closed in the period, handed off in time.
    closing = [f for f in facts if _in(f.signed_on + timedelta(days=f.window[1]), period)]
    done = [
        f
        for f in closing
        if f.handed_off_on is not None
        and f.handed_off_on <= f.signed_on + timedelta(days=f.window[1])
    ]
    rate = _ratio(len(done), len(closing))
    out.append(
        Metric(
            key="onboarding.completion_rate",
            label="Onboarding completion rate",
            group=GROUP,
            value=rate,
            unit="ratio",
            target="> 90 %",
            on_target=None if rate is None else rate > 0.90,
            formula="onboardings handed off (Week-8 handoff ticked) within their segment's "
            "window ÷ onboardings whose window (signature + longest days) ended in the period",
            evidence=tuple(f"{f.slug}: {'handed off' if f in done else 'not'}" for f in closing),
        )
    )

    # Activation: the activation milestone ticked, of those due in the period.
    due = [f for f in facts if _in(f.activation_due_on, period)]
    activated = [
        f for f in due if f.activation_done_on is not None and f.activation_done_on <= period.end
    ]
    rate = _ratio(len(activated), len(due))
    out.append(
        Metric(
            key="onboarding.activation_rate",
            label="Activation rate",
            group=GROUP,
            value=rate,
            unit="ratio",
            target="> 85 %",
            on_target=None if rate is None else rate > 0.85,
            formula="onboardings whose activation milestone item is ticked by the period's end "
            "÷ onboardings whose activation milestone fell due in the period",
            evidence=tuple(f"{f.slug}: {'yes' if f in activated else 'no'}" for f in due),
        )
    )

    # Early churn: of the clients whose first 90 days ended in the period, churned within them.
    cohort = [f for f in facts if _in(f.signed_on + timedelta(days=early_churn_days), period)]
    churned = [
        f
        for f in cohort
        if f.churned_on is not None
        and f.churned_on < f.signed_on + timedelta(days=early_churn_days)
    ]
    rate = _ratio(len(churned), len(cohort))
    out.append(
        Metric(
            key="onboarding.early_churn",
            label=f"Early churn (under {early_churn_days} days)",
            group=GROUP,
            value=rate,
            unit="ratio",
            target="< 5 %",
            on_target=None if rate is None else rate < 0.05,
            formula=f"clients churned within {early_churn_days} days of signature ÷ clients "
            f"whose first {early_churn_days} days ended in the period",
            evidence=tuple(f"{f.slug}: {'churned' if f in churned else 'kept'}" for f in cohort),
        )
    )

    # Days in onboarding by segment, against the segment's window.
    for segment, label in SEGMENT_LABELS.items():
        handed = [f for f in facts if f.segment == segment and _in(f.handed_off_on, period)]
        days = [(f.slug, (f.handed_off_on - f.signed_on).days) for f in handed if f.handed_off_on]
        mean = sum(d for _, d in days) / len(days) if days else None
        window = windows.get(segment)
        out.append(
            Metric(
                key=f"onboarding.days.{segment}",
                label=f"Days in onboarding, {label}",
                group=GROUP,
                value=mean,
                unit="days",
                target=f"{window[0]}–{window[1]} days" if window else None,
                on_target=None
                if mean is None or window is None
                else window[0] <= mean <= window[1],
                formula="mean over onboardings handed off in the period of "
                "(handoff day − signature day)",
                evidence=tuple(f"{s}: {d} d" for s, d in days),
            )
        )

    # CSO hours per onboarding, where logged.
    logged = [
        (f.slug, f.cso_hours)
        for f in facts
        if _in(f.handed_off_on, period) and f.cso_hours is not None
    ]
    mean_hours = sum(h for _, h in logged) / len(logged) if logged else None
    out.append(
        Metric(
            key="onboarding.cso_hours",
            label="CSO hours per onboarding",
            group=GROUP,
            value=mean_hours,
            unit="hours",
            target="decreasing",
            on_target=None,
            formula="mean over onboardings handed off in the period with hours logged "
            "(/onboarding <client> hours) of the hours logged",
            evidence=tuple(f"{s}: {h:g} h" for s, h in logged),
        )
    )
    return out
