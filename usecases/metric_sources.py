"""What a feature hands the leadership metrics: a function from one transaction and a period
to its figures. Features declare theirs in bot/features.py; runtime puts them on Deps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from domain.metric import Metric, Period
from storage.db import Transaction

# (tx, period, now) -> the feature's figures for that period, "no data" included.
MetricSource = Callable[[Transaction, Period, datetime], Sequence[Metric]]


def collect(
    sources: Sequence[MetricSource], tx: Transaction, period: Period, now: datetime
) -> list[Metric]:
    """Every source's figures, in the order the features are listed."""
    return [metric for source in sources for metric in source(tx, period, now)]


def with_formulas(*pairs: tuple[str, str]) -> Callable[[MetricSource], MetricSource]:
    """Declare a source's formulas (label, formula) so `csobot metrics --help` can list them
    without reading the database."""

    def mark(source: MetricSource) -> MetricSource:
        source.formulas = pairs  # type: ignore[attr-defined]
        return source

    return mark


def formulas(sources: Sequence[MetricSource]) -> list[tuple[str, str]]:
    """Every declared formula, in the order the features are listed."""
    return [pair for source in sources for pair in getattr(source, "formulas", ())]
