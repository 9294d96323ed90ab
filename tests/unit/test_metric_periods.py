"""Periods of the leadership metrics and which digest carries the monthly review."""

from __future__ import annotations

from datetime import date

import pytest

from domain.calendar import IsoWeek
from domain.metric import Metric, month_period, month_reviewed_by, parse_period
from prompts.metrics_views import grouped, line, metrics_blocks, value_text


def test_months_and_quarters() -> None:
    nov = month_period("2026-11")
    assert (nov.start, nov.end, nov.label) == (date(2026, 11, 1), date(2026, 11, 30), "2026-11")
    dec = month_period("2026-12")
    assert dec.end == date(2026, 12, 31)
    assert month_period("2028-2").end == date(2028, 2, 29)
    q = parse_period("2026Q4", date(2026, 11, 20))
    assert (q.start, q.end, q.label) == (date(2026, 10, 1), date(2026, 12, 31), "2026Q4")
    assert parse_period("", date(2027, 2, 1)).label == "2027Q1"
    assert parse_period("Q4", date(2027, 2, 1)).label == "2026Q4"
    with pytest.raises(ValueError, match="neither a quarter nor a month"):
        parse_period("last month", date(2026, 11, 20))
    with pytest.raises(ValueError, match="write it like 2026-11"):
        month_period("2026-13")


@pytest.mark.parametrize(
    ("week", "month"),
    [
        ("2026-W49", "2026-11"),  # Nov 30 – Dec 6, out Mon Dec 7
        ("2026-W48", None),  # out Mon Nov 30
        ("2026-W44", "2026-10"),  # Oct 26 – Nov 1, out Mon Nov 2
        ("2026-W53", "2026-12"),  # Dec 28 – Jan 3, out Mon Jan 4
        ("2027-W01", None),  # out Mon Jan 11
    ],
)
def test_one_digest_a_month_carries_the_review(week: str, month: str | None) -> None:
    reviewed = month_reviewed_by(IsoWeek.parse(week))
    assert (reviewed.label if reviewed else None) == month


def test_every_week_of_a_year_gives_each_month_exactly_once() -> None:
    weeks = [IsoWeek(2027, 1).shift(i) for i in range(52)]
    months = [m.label for w in weeks if (m := month_reviewed_by(w))]
    assert len(months) == len(set(months)) == 12


def _metric(value: float | None, unit: str = "ratio", group: str = "Retention") -> Metric:
    return Metric("k", "Gross revenue retention", group, value, unit, "≥ 90 %",  # type: ignore[arg-type]
                  None if value is None else value >= 0.9)  # fmt: skip


def test_no_data_is_said_never_a_zero() -> None:
    assert value_text(_metric(None)) == "no data"
    assert line(_metric(None)) == "Gross revenue retention: no data (target ≥ 90 %)"
    assert line(_metric(0.87)) == "Gross revenue retention: 87.0 % (target ≥ 90 %: off target)"
    assert value_text(_metric(3, "count")) == "3"


def test_groups_keep_their_order_and_many_figures_stay_within_slack_limits() -> None:
    metrics = [_metric(0.5, group=g) for g in ("B", "A", "B")]
    assert [g for g, _ in grouped(metrics)] == ["B", "A"]
    many = [_metric(0.5, group=f"G{i % 3}") for i in range(300)]
    from domain.metric import Period

    blocks = metrics_blocks(Period(date(2026, 1, 1), date(2026, 3, 31), "2026Q1"), many)
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    text = "".join(b.get("text", {}).get("text", "") for b in blocks if b["type"] == "section")
    assert text.count("Gross revenue retention") == 300
