"""One leadership figure, as every feature reports it (docs/process.md, "Portfolio metrics").

A feature declares metric sources (bot/features.py); `csobot metrics`, `/metrics` and the
monthly leadership section of the digest read every source the same way. A value of None is
"no data" — nothing was recorded in the period — and is shown so, never as 0 % or 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Unit = Literal["ratio", "count", "days", "hours", "points", "score", "currency"]


@dataclass(frozen=True)
class Period:
    """The days a metric covers, both ends included (a month, a quarter)."""

    start: date
    end: date
    label: str  # "2026-11", "2026Q4"


@dataclass(frozen=True)
class Metric:
    key: str  # stable, dotted: "retention.grr", "support.response_within_sla"
    label: str  # what a leader reads: "Gross revenue retention"
    group: str  # the heading it sits under: "Retention", "Onboarding", "Support", ...
    value: float | None  # a ratio is a fraction (0.9 = 90 %); None = no data
    unit: Unit
    target: str | None = None  # from the process documents: "≥ 90 %", "< 1 a month"
    on_target: bool | None = None  # None when there is no data or no target
    formula: str = ""  # shown in `--help` and beside the figure
    evidence: tuple[str, ...] = field(default=())  # the records behind it, short

    @property
    def no_data(self) -> bool:
        return self.value is None
