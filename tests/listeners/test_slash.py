"""The slash-command helper's authorization: a client-scoped command is for that client's team
when it names a client, and for anyone on the team when it names none (`/pulse` alone shows
your own cards)."""

from __future__ import annotations

from sqlalchemy import func, select

from domain.access import Need
from handlers.pulse_listeners import PULSE
from storage.models import Pulse
from tests.listeners.conftest import Listeners


def pulses(listeners: Listeners) -> int:
    with listeners.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Pulse)) or 0)


def test_naming_a_client_needs_its_team(listeners: Listeners) -> None:
    assert PULSE.need is Need.CLIENT_TEAM
    listeners.command("/pulse", "acme happy", user="U0CSO2")  # a CSO, not Acme's
    [reply] = listeners.replies()
    assert reply.startswith("Sorry") and "only Acme Corp's team" in reply
    assert pulses(listeners) == 0
    listeners.command("/pulse", "acme happy", user="U0CSO1")  # Acme's CSO
    assert pulses(listeners) == 1


def test_naming_no_client_is_for_anyone_on_the_team(listeners: Listeners) -> None:
    listeners.command("/pulse", "", user="U0CSO2")
    [reply] = listeners.replies()
    assert not reply.startswith("Sorry")
    listeners.command("/pulse", "", user="U0EXT1")  # a client contact: still refused
    assert listeners.replies()[-1].startswith("Sorry")
