"""Slack listeners, one module per feature; each has `register(app)`."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    app_events,
    cadence_listeners,
    client_update,
    digest,
    flags,
    health,
    messages,
    outbox_list,
    pulse,
    touchpoint,
    win,
)

FEATURES = [
    messages,
    pulse,
    touchpoint,
    win,
    cadence_listeners,
    health,
    digest,
    flags,
    client_update,
    outbox_list,
    app_events,
]


def register_listeners(app: App) -> None:
    for feature in FEATURES:
        feature.register(app)
