"""/milestone acme "Attribution v2" close (docs/process.md, "Closing a phase"): refused while
the milestone's Linear issues are not all Done (they are listed), else the completion summary
opens in the update form, to edit and send."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from domain.access import Need
from domain.milestone import MILESTONE_USAGE, MilestoneRequest, parse_milestone
from handlers.slash import Call, Command, Reply, register_command
from prompts.update_views import no_client_channel
from usecases import milestone_actions


def _form(call: Call[MilestoneRequest]) -> dict[str, Any] | None:
    client = call.client
    if client is None or not client.client_channel:
        return None  # the work after the ack says why
    checked = milestone_actions.check(call.tx, client, call.request.name, call.now)
    if checked.closing is None or not checked.closing.closable:
        return None
    return milestone_actions.form(client, checked.closing)


def _close(call: Call[MilestoneRequest]) -> Reply:
    client = call.client
    assert client is not None  # slug_of names it; the helper resolved and checked it
    checked = milestone_actions.check(call.tx, client, call.request.name, call.now)
    if checked.closing is not None and checked.closing.closable and not client.client_channel:
        return Reply(text=no_client_channel(client.name))
    text = checked.reply if checked.notice is None else f"_{checked.notice}_\n{checked.reply}"
    return Reply(text=text)


MILESTONE = Command(
    name="/milestone",
    usage=MILESTONE_USAGE,
    parse=parse_milestone,
    need=Need.CLIENT_TEAM,
    works=_close,
    slug_of=lambda request: request.slug,
    opens=_form,
)


def register(app: App) -> None:
    register_command(app, MILESTONE)
