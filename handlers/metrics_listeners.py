"""/metrics [2026Q4 | 2026-11] — every feature's leadership figures (head of delivery and
founders only), grouped by heading, "no data" where nothing was recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from slack_bolt import App

from domain.access import Need
from domain.commands import CommandError
from domain.metric import parse_period
from handlers.slash import Call, Command, Reply, register_command
from prompts.metrics_views import metrics_blocks, metrics_fallback
from prompts.render import render
from usecases.metric_sources import collect

METRICS_USAGE = "Usage: `/metrics` (this quarter), `/metrics 2026Q4` or `/metrics 2026-11`"


_ANY_DAY = date(2000, 1, 1)


@dataclass(frozen=True)
class MetricsRequest:
    period: str  # "" (this quarter), a quarter or a month; checked when parsed


def parse_metrics(text: str) -> MetricsRequest:
    raw = text.strip()
    try:
        parse_period(raw, _ANY_DAY)  # the form only: which quarter "Q4" is waits for the clock
    except ValueError as err:
        raise CommandError(render("metrics/bad_period.j2", error=str(err))) from None
    return MetricsRequest(period=raw)


def show(call: Call[MetricsRequest]) -> Reply:
    period = parse_period(call.request.period, call.now.date())
    metrics = collect(call.deps.metric_sources, call.tx, period, call.now)
    return Reply(text=metrics_fallback(period, metrics), blocks=metrics_blocks(period, metrics))


METRICS = Command(
    name="/metrics",
    usage=METRICS_USAGE,
    parse=parse_metrics,
    need=Need.LEADERSHIP,
    works=show,
)


def register(app: App) -> None:
    register_command(app, METRICS)
