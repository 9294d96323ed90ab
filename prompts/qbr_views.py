"""The QBR document (docs/process.md, "QBR/EBR and the Value Realization Audit"), filled from
what was recorded, in Markdown or HTML."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

from prompts.render import render

Format = Literal["md", "html"]


class QbrMetric(BaseModel):
    name: str
    target: str
    actual: str
    trend: str


class QbrData(BaseModel):
    name: str
    quarter: str
    start: date
    end: date
    customer_since: str | None
    arr: float
    active_users: int | None
    licensed_seats: int | None
    health_line: str
    wins: list[str]
    metrics: list[QbrMetric]
    touchpoints: list[tuple[str, int]]
    value: list[str]
    goals: list[str]


def render_qbr(data: QbrData, fmt: Format) -> str:
    return render(f"qbr/qbr.{fmt}.j2", q=data) + "\n"
