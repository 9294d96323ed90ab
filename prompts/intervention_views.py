"""Founder interventions: the DM that says one was recorded (with *Not an intervention*), the
replies to /intervention, and the digest's lines."""

from __future__ import annotations

from prompts import blocks as bk
from prompts.render import escape_mrkdwn

DISMISS_ACTION = "intervention_dismiss"
INTERVENTION_USAGE = (
    'Usage: `/intervention acme "why a founder stepped in"` records a founder intervention on '
    "a client."
)


def recorded_dm(
    *,
    client_name: str,
    how: str,
    day: str,
    intervention_id: int,
    founder_name: str | None = None,
) -> tuple[str, list[bk.Block]]:
    """The DM to the founder (`founder_name` None) or to a head of delivery (it names the
    founder): either may dismiss it."""
    by = f" by {escape_mrkdwn(founder_name)}" if founder_name else ""
    text = (
        f"Recorded a founder intervention{by} on {escape_mrkdwn(client_name)} ({day}): {how}. "
        "The target is fewer than one a month. If this was not an intervention, say so."
    )
    return bk.fallback(text), [
        bk.section(text),
        bk.actions(bk.button("Not an intervention", DISMISS_ACTION, str(intervention_id))),
    ]


def recorded_reply(client_name: str, reason: str, new: bool) -> str:
    if not new:
        return f"That intervention on {escape_mrkdwn(client_name)} was already recorded."
    return (
        f"Recorded a founder intervention on {escape_mrkdwn(client_name)}: {escape_mrkdwn(reason)}"
    )


def dismissed(done: bool) -> str:
    if done:
        return ":white_check_mark: Dismissed: not counted as a founder intervention."
    return "That intervention was already dismissed or is no longer recorded."
