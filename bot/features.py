"""The one list of what the bot does: every feature's Slack listeners, the enqueuers its tick
runs, and its `csobot` sub-commands. The app (bot/app.py), the tick (bot/runtime.py) and the
command line (bot/cli.py) all iterate it; a new feature is one entry here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from bot.commands import (
    board_cli,
    cadence_cli,
    digest_cli,
    flags_cli,
    health_cli,
    lifecycle_cli,
    metrics_cli,
    qbr_cli,
    support_cli,
)
from handlers import (
    app_events_listeners,
    brief_listeners,
    cadence_listeners,
    digest_listeners,
    expansion_listeners,
    flag_listeners,
    health_listeners,
    intervention_listeners,
    lifecycle_listeners,
    message_listeners,
    metrics_listeners,
    milestone_listeners,
    outbox_listeners,
    pulse_listeners,
    report_listeners,
    support_listeners,
    touchpoint_listeners,
    update_listeners,
    win_listeners,
)
from scheduling import (
    brief_jobs,
    cadence_jobs,
    connector_jobs,
    digest_jobs,
    flag_jobs,
    health_jobs,
    lifecycle_jobs,
    report_jobs,
    support_jobs,
)
from scheduling.engine import Enqueuer
from usecases import advocacy_actions, lifecycle_metrics, report_actions, support_metrics
from usecases.ai_efficiency_actions import ai_efficiency_metrics
from usecases.expansion_actions import pipeline_metrics
from usecases.intervention_actions import intervention_metrics
from usecases.metric_sources import MetricSource
from usecases.portfolio_metrics import portfolio_metrics


@dataclass(frozen=True)
class Feature:
    name: str
    listeners: Callable[[App], None]  # handlers/<x>_listeners.register
    enqueuers: tuple[tuple[str, Enqueuer], ...] = ()  # scheduling/<x>_jobs.ENQUEUERS
    commands: Callable[[Any], None] | None = None  # bot/commands/<x>_cli.add_commands(subparsers)
    metrics: tuple[MetricSource, ...] = ()  # leadership figures: csobot metrics, the digest


FEATURES: list[Feature] = [
    Feature("messages", message_listeners.register),
    Feature("pulse", pulse_listeners.register),
    Feature("touchpoint", touchpoint_listeners.register),
    Feature("win", win_listeners.register),
    Feature(
        "cadence",
        cadence_listeners.register,
        enqueuers=cadence_jobs.ENQUEUERS,
        commands=cadence_cli.add_commands,
    ),
    Feature(
        "health",
        health_listeners.register,
        enqueuers=health_jobs.ENQUEUERS,
        commands=health_cli.add_commands,
        metrics=(portfolio_metrics,),
    ),
    Feature(
        "digest",
        digest_listeners.register,
        enqueuers=digest_jobs.ENQUEUERS,
        commands=digest_cli.add_commands,
    ),
    Feature(
        "flags",
        flag_listeners.register,
        enqueuers=tuple(flag_jobs.ENQUEUERS),
        commands=flags_cli.add_commands,
    ),
    Feature(
        "lifecycle",
        lifecycle_listeners.register,
        enqueuers=lifecycle_jobs.ENQUEUERS,
        commands=lifecycle_cli.add_commands,
        metrics=(lifecycle_metrics.onboarding_metrics,),
    ),
    Feature(
        "support",
        support_listeners.register,
        enqueuers=support_jobs.ENQUEUERS,
        commands=support_cli.add_commands,
        metrics=(support_metrics.support_metrics, advocacy_actions.advocacy_metrics),
    ),
    Feature("update", update_listeners.register),
    Feature("milestone", milestone_listeners.register),
    Feature(
        "health_report",
        report_listeners.register,
        enqueuers=report_jobs.ENQUEUERS,
        commands=qbr_cli.add_commands,
        metrics=(report_actions.report_metrics,),
    ),
    Feature(
        "board",
        brief_listeners.register,
        enqueuers=connector_jobs.ENQUEUERS + brief_jobs.ENQUEUERS,
        commands=board_cli.add_commands,
    ),
    Feature(
        "metrics",
        metrics_listeners.register,
        commands=metrics_cli.add_commands,
        metrics=(ai_efficiency_metrics,),
    ),
    Feature("interventions", intervention_listeners.register, metrics=(intervention_metrics,)),
    Feature("expansion", expansion_listeners.register, metrics=(pipeline_metrics,)),
    Feature("outbox", outbox_listeners.register),
    Feature("app_events", app_events_listeners.register),
]


def enqueuers(features: Sequence[Feature] = FEATURES) -> list[tuple[str, Enqueuer]]:
    """Every feature's enqueuers, in order: what one tick runs."""
    return [job for feature in features for job in feature.enqueuers]


def metric_sources(features: Sequence[Feature] = FEATURES) -> tuple[MetricSource, ...]:
    """Every feature's leadership figures, in order: what `csobot metrics` and the digest read."""
    return tuple(source for feature in features for source in feature.metrics)


def add_commands(sub: Any, features: Sequence[Feature] = FEATURES) -> None:
    """Every feature's `csobot` sub-commands."""
    for feature in features:
        if feature.commands is not None:
            feature.commands(sub)
