"""The one list of what the bot does: every feature's Slack listeners, the enqueuers its tick
runs, and its `csobot` sub-commands. The app (bot/app.py), the tick (bot/runtime.py) and the
command line (bot/cli.py) all iterate it; a new feature is one entry here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from bot.commands import board_cli, cadence_cli, digest_cli, flags_cli, health_cli, qbr_cli
from handlers import (
    app_events_listeners,
    brief_listeners,
    cadence_listeners,
    digest_listeners,
    flag_listeners,
    health_listeners,
    message_listeners,
    milestone_listeners,
    outbox_listeners,
    pulse_listeners,
    report_listeners,
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
    report_jobs,
)
from scheduling.engine import Enqueuer
from usecases import report_actions
from usecases.metric_sources import MetricSource


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
