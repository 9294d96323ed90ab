"""Slack listeners, one module per feature; each has `register(app)`."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    app_events,
    cadence,
    client_update,
    digest,
    flag_listeners,
    health,
    message_listeners,
    outbox_list,
    pulse,
    touchpoint,
    win,
)

FEATURES = [
    message_listeners,
    pulse,
    touchpoint,
    win,
    cadence,
    health,
    digest,
    flag_listeners,
    client_update,
    outbox_list,
    app_events,
]


def register_listeners(app: App) -> None:
    for feature in FEATURES:
        feature.register(app)
