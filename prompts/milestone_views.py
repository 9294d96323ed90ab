"""Closing a phase in words (docs/process.md, "Closing a phase"): the refusal that lists what
is not Done, and the completion summary in the Status / Risks / Asks / Next frame."""

from __future__ import annotations

from typing import Any

from domain.milestone import Closing, UnknownMilestone
from prompts import blocks as bk
from prompts.render import escape_mrkdwn, plural

MAX_LISTED = 25


def _issue(i: Any) -> str:
    label = escape_mrkdwn(i.identifier)
    ref = f"<{i.url}|{label}>" if i.url else label
    return f"• {ref} {escape_mrkdwn(i.title)} — {escape_mrkdwn(i.state)}"


def not_closable(c: Closing, client_name: str) -> str:
    name = escape_mrkdwn(c.milestone.name)
    if not c.issues:
        who = escape_mrkdwn(client_name)
        return f"“{name}” has no Linear issue on {who}'s board: nothing to close."
    lines = [
        f"“{name}” can't close yet: {len(c.open)} of its {plural(len(c.issues), 'issue')} "
        f"{'is' if len(c.open) == 1 else 'are'} not Done.",
        *[_issue(i) for i in c.open[:MAX_LISTED]],
    ]
    if len(c.open) > MAX_LISTED:
        lines.append(f"…and {len(c.open) - MAX_LISTED} more.")
    lines.append("Move them to Done in Linear (or out of the milestone), then run it again.")
    return "\n".join(lines)


def unknown(err: UnknownMilestone, client_name: str) -> str:
    hint = f" Did you mean “{escape_mrkdwn(err.guess)}”?" if err.guess else ""
    known = ", ".join(f"“{escape_mrkdwn(k)}”" for k in err.known[:10]) or "none fetched yet"
    return (
        f"No milestone “{escape_mrkdwn(err.name)}” on {escape_mrkdwn(client_name)}'s board.{hint}"
        f" Known: {known}."
    )


def completion_draft(c: Closing) -> str:
    """Plain text for the update form (the client reads it; no internal ids)."""
    done = [i.title for i in c.issues if i.state_type == "completed"]
    shown = "; ".join(done[:6]) + (f"; and {len(done) - 6} more" if len(done) > 6 else "")
    status = f"{c.milestone.name} is complete: {shown}."
    if c.pulls:
        status += (
            " Its change is merged and live."
            if len(c.pulls) == 1
            else f" All {len(c.pulls)} changes are merged and live."
        )
    risks = (
        "; ".join(f"{i.title} ({'blocked' if i.blocked else 'past due'})" for i in c.risks[:3])
        if c.risks
        else "none for this phase."
    )
    asks = "please confirm the phase meets your success criteria by [date]."
    if c.next_milestone is not None:
        when = f" (target {c.next_milestone.target:%b %-d})" if c.next_milestone.target else ""
        nxt = f"we start {c.next_milestone.name}{when}."
    else:
        nxt = "[the next phase and when it starts]."
    return f"Status: {status}\nRisks: {risks}\nAsks: {asks}\nNext: {nxt}"


def closing_head(c: Closing, client_name: str, channel: str) -> bk.Block:
    return bk.section(
        f"*{escape_mrkdwn(client_name)} — “{escape_mrkdwn(c.milestone.name)}” is done* "
        f"({plural(len(c.issues), 'issue')} Done). Edit the completion summary; *Send* posts it in "
        f"<#{channel}>, from csobot with a “Posted by” line naming you."
    )


def closing_opened(client_name: str, name: str) -> str:
    return (
        f"“{escape_mrkdwn(name)}” is done: the completion summary for "
        f"{escape_mrkdwn(client_name)} is open to edit and send."
    )
