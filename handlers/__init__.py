"""Slack listeners, one module per feature; each has `register(app)`."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    app_events,
    cadence,
    digest,
    flags,
    health,
    messages,
    outbox_list,
    pulse_listeners,
    touchpoint_listeners,
    update_listeners,
    win,
)

FEATURES = [
    messages,
    pulse_listeners,
    touchpoint_listeners,
    win,
    cadence,
    health,
    digest,
    flags,
    update_listeners,
    outbox_list,
    app_events,
]


def register_listeners(app: App) -> None:
    for feature in FEATURES:
        feature.register(app)
