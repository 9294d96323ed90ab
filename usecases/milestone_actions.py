"""Closing a phase (docs/process.md, "Closing a phase"): the milestone's issues from the cached
board, refused while any is not Done, else the completion summary to edit and send (the client
update form sends it, like any update)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import records
from domain.client_update import Slot, lint
from domain.milestone import Closing, UnknownMilestone, closing
from prompts import milestone_views as views
from prompts.story_views import state_line
from prompts.update_views import update_modal
from storage import connector_store
from storage.db import Transaction
from storage.portfolio_store import timezone_of

NO_BOARD = "{name} has no Linear board: add `linear: {{team: KEY}}` to it in the portfolio file."


@dataclass(frozen=True)
class Checked:
    closing: Closing | None
    reply: str  # what the person who typed the command reads
    notice: str | None = None  # the board's freshness, when Linear fails


def check(tx: Transaction, client: records.Client, name: str, now: datetime) -> Checked:
    if connector_store.sources_of(tx, client.id).linear is None:
        return Checked(None, NO_BOARD.format(name=client.name))
    tz = timezone_of(tx, client)
    board = connector_store.board(tx, client.id)
    state = board.states.get("linear")
    notice = state_line(state, tz) if state is not None and state.failing else None
    if state is None or state.fetched_at is None:
        return Checked(None, notice or "Linear was not fetched yet: try again in a few minutes.")
    try:
        c = closing(board, name, now.astimezone(tz).date())
    except UnknownMilestone as err:
        return Checked(None, views.unknown(err, client.name), notice)
    if not c.closable:
        return Checked(c, views.not_closable(c, client.name), notice)
    return Checked(c, views.closing_opened(client.name, c.milestone.name), notice)


def form(client: records.Client, c: Closing) -> dict[str, object]:
    """The update form, filled with the completion summary (Send posts it in the client
    channel, as any update)."""
    assert client.client_channel is not None
    draft = views.completion_draft(c)
    meta = {
        "slug": client.slug,
        "slot": Slot.EOD.value,
        "channel": client.client_channel,
        "client_name": client.name,
    }
    view = update_modal(meta, draft, lint(draft))
    view["blocks"][0] = views.closing_head(c, client.name, client.client_channel)
    view["title"] = {"type": "plain_text", "text": "Phase complete"}
    return view
