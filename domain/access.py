"""Who may do what — the one place that decides.

csobot's commands, buttons and forms are for the team in the portfolio. Client channels are
often Slack Connect: the client's own people can run our commands there, and so can anyone
else in the workspace. A client-scoped action (log a touchpoint, record a win or a pulse, see
or change health, NPS, renewals, QBRs, playbooks, send an update, decide a flag) is for that
client's team — its CSO, Service Lead and Engagement Partner — and for leadership (head of
delivery, founders). Leadership views (the digest) are for leadership only. Everyone else gets
a polite refusal, and nothing is read or written.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from domain.portfolio import LEADERSHIP_ROLES, Role


class Need(StrEnum):
    MEMBER = "member"  # anyone on the team in the portfolio (their own nudges, prefs, pulse)
    CLIENT_TEAM = "client_team"  # the client's CSO, Service Lead, Engagement Partner; leadership
    LEADERSHIP = "leadership"  # head of delivery and founders
    CLIENT_CREATOR = "client_creator"  # adding a client: CSOs and leadership


class Refusal(StrEnum):
    NOT_IN_PORTFOLIO = "not_in_portfolio"
    NOT_ON_TEAM = "not_on_team"
    NOT_LEADERSHIP = "not_leadership"
    NOT_CLIENT_CREATOR = "not_client_creator"


@dataclass(frozen=True)
class Actor:
    user_id: str
    role: Role | None  # None: not an active person in the portfolio (a client, a stranger)

    @property
    def is_leadership(self) -> bool:
        return self.role in LEADERSHIP_ROLES


def decide(actor: Actor, need: Need, team: Collection[str] = ()) -> Refusal | None:
    """None when `actor` may act; otherwise why not. `team` is the client's team for
    CLIENT_TEAM needs."""
    if actor.role is None:
        return Refusal.NOT_IN_PORTFOLIO
    if actor.is_leadership:
        return None
    if need is Need.LEADERSHIP:
        return Refusal.NOT_LEADERSHIP
    if need is Need.CLIENT_CREATOR and actor.role is not Role.CSO:
        return Refusal.NOT_CLIENT_CREATOR
    if need is Need.CLIENT_TEAM and actor.user_id not in team:
        return Refusal.NOT_ON_TEAM
    return None
