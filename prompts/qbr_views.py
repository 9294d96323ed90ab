"""The QBR, the EBR and the Value Realization Audit
(docs/process.md, "QBR/EBR and the Value Realization Audit"), filled from what was recorded,
in Markdown or HTML (with the chart of health and consistency over the period)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from prompts.render import render

Format = Literal["md", "html"]


class QbrMetric(BaseModel):
    name: str
    target: str
    actual: str
    trend: str


class QbrLine(BaseModel):
    text: str
    link: str | None = None


class AuditRow(BaseModel):
    day: date
    kind: str  # win | issue | pull | release
    text: str
    link: str | None
    mark: str  # outcome | feature only
    criterion: str | None


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
    achievements: list[QbrLine] = Field(default_factory=list)
    criteria: list[str] = Field(default_factory=list)
    narrative: list[str] = Field(default_factory=list)  # the model's, grounded
    board_note: str | None = None
    chart_svg: str = ""
    # The EBR's own parts.
    roi: list[str] = Field(default_factory=list)
    roadmap: list[QbrLine] = Field(default_factory=list)


class AuditData(BaseModel):
    name: str
    month: str  # 2026-11
    start: date
    end: date
    criteria: list[str]
    rows: list[AuditRow]
    outcomes: int
    features: int
    unmet: list[str]
    board_note: str | None = None
    chart_svg: str = ""


def render_qbr(data: QbrData, fmt: Format) -> str:
    return render(f"qbr/qbr.{fmt}.j2", q=data, ebr=False) + "\n"


def render_ebr(data: QbrData, fmt: Format) -> str:
    return render(f"qbr/qbr.{fmt}.j2", q=data, ebr=True) + "\n"


def render_audit(data: AuditData, fmt: Format) -> str:
    return render(f"qbr/audit.{fmt}.j2", a=data) + "\n"
