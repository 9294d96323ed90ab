"""Every command, button, form and event a feature registers, with who it is for.

Features register through these helpers instead of `app.command(...)` directly, so the list of
what the bot answers is data: the authorization walk in the tests sends every entry as a client
contact and as a stranger, and expects a refusal and nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from domain.access import Need


@dataclass(frozen=True)
class Registered:
    kind: str  # command | action | view | event
    id: str  # "/pulse", an action_id, a view callback_id, an event type
    need: Need | None  # None for events: what happened in a channel, not a request


REGISTRY: list[Registered] = []


def _remember(entry: Registered) -> None:
    if entry not in REGISTRY:
        REGISTRY.append(entry)


def command(app: App, name: str, fn: Callable[..., Any], need: Need) -> None:
    app.command(name)(fn)
    _remember(Registered("command", name, need))


def action(app: App, action_id: str, fn: Callable[..., Any], need: Need) -> None:
    app.action(action_id)(fn)
    _remember(Registered("action", action_id, need))


def view(app: App, callback_id: str, fn: Callable[..., Any], need: Need) -> None:
    app.view(callback_id)(fn)
    _remember(Registered("view", callback_id, need))


def event(app: App, event_type: str, fn: Callable[..., Any]) -> None:
    app.event(event_type)(fn)
    _remember(Registered("event", event_type, None))
