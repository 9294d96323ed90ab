"""/win through the slash-command helper, in process: the ack, the authorization, the write,
the reply, and a failure mid-command leaving nothing half-written."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt import App
from sqlalchemy import func, select

from domain.access import Need
from domain.commands import parse_win
from handlers.registry import REGISTRY
from handlers.slash import Call, Command, Reply, register_command
from handlers.win_listeners import WIN, record
from storage.models import Win
from tests.listeners.conftest import Listeners

TEXT = 'acme "Demoed the new pipeline: reports 2 days faster" https://x.io/d'


def wins(listeners: Listeners) -> int:
    with listeners.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Win)) or 0)


def test_win_is_acked_recorded_and_confirmed(listeners: Listeners) -> None:
    response = listeners.command("/win", TEXT)
    assert response.status == 200
    assert wins(listeners) == 1
    [reply] = listeners.replies()
    assert "Acme Corp" in reply and "2026-W47" in reply


def test_the_usage_comes_with_the_ack_and_nothing_is_written(listeners: Listeners) -> None:
    response = listeners.command("/win", "acme")
    assert response.status == 200
    assert "I need a client and the win" in response.body and "Usage: `/win" in response.body
    help_response = listeners.command("/win", "help")
    assert "Usage: `/win" in help_response.body
    assert wins(listeners) == 0 and listeners.replies() == []


def test_an_unknown_client_gets_a_did_you_mean(listeners: Listeners) -> None:
    listeners.command("/win", 'acmee "Demoed the new pipeline"')
    [reply] = listeners.replies()
    assert 'Unknown client "acmee"' in reply and "acme" in reply
    assert wins(listeners) == 0


@pytest.mark.parametrize(
    ("user", "why"),
    [
        ("U0EXT1", "you're not in it"),  # Acme's own contact, in the shared channel
        ("U0STRANGER", "you're not in it"),  # anyone else in the workspace
        ("U0CSO2", "only Acme Corp's team"),  # on the team, but not Acme's
    ],
)
def test_whoever_is_not_on_the_clients_team_is_refused(
    listeners: Listeners, user: str, why: str
) -> None:
    listeners.command("/win", TEXT, user=user)
    [reply] = listeners.replies()
    assert reply.startswith("Sorry") and why in reply
    assert wins(listeners) == 0


def test_leadership_may_record_a_win_for_any_client(listeners: Listeners) -> None:
    listeners.command("/win", TEXT, user="U0HOD")
    assert wins(listeners) == 1


def test_win_is_in_the_authorization_registry() -> None:
    assert any(
        r.kind == "command" and r.id == "/win" and r.need is Need.CLIENT_TEAM for r in REGISTRY
    )
    assert WIN.need is Need.CLIENT_TEAM


def test_a_failure_after_the_write_leaves_nothing_half_written(listeners: Listeners) -> None:
    """One transaction per command: the win written, then a failure, and the win is gone."""

    def breaks(call: Call[Any]) -> Reply:
        record(call)
        raise RuntimeError("the database went away mid-command")

    app: App = listeners.app
    register_command(
        app,
        Command(
            name="/win-broken",
            usage="",
            parse=parse_win,
            need=Need.CLIENT_TEAM,
            works=breaks,
            slug_of=lambda r: r.slug,
        ),
    )
    listeners.command("/win-broken", TEXT)
    assert wins(listeners) == 0
    REGISTRY[:] = [r for r in REGISTRY if r.id != "/win-broken"]
