"""What a feature hands the leadership metrics: a function from one transaction and a period
to its figures. Features declare theirs in bot/features.py; runtime puts them on Deps."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from domain.metric import Metric, Period
from storage.db import Transaction

logger = logging.getLogger(__name__)

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


def formulas_of(
    sources: Sequence[MetricSource],
    transaction: Callable[[], AbstractContextManager[Transaction]],
    period: Period,
    now: datetime,
) -> list[tuple[str, str]]:
    """Every formula the sources report, read from their own figures (run on the database
    `transaction` opens — for `--help`, an empty scratch one, where every figure says "no
    data" but still carries its formula), then any declared with `with_formulas` that none
    reported. Figures sharing a formula are listed together, in the order the features are."""
    found: dict[str, list[str]] = {}
    for source in sources:
        reported: list[tuple[str, str]] = []
        try:
            with transaction() as tx:
                reported = [(m.label, m.formula) for m in source(tx, period, now) if m.formula]
        except Exception as exc:  # a broken source still lists what it declared
            logger.warning("metric source %s not read for its formulas: %s", source, exc)
        for label, formula in reported:
            labels = found.setdefault(formula, [])
            if label not in labels:
                labels.append(label)
        for label, formula in getattr(source, "formulas", ()):
            found.setdefault(formula, [label])
    return [("; ".join(labels), formula) for formula, labels in found.items()]
