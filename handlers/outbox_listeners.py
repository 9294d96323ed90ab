"""*See the full list*: the button of a batched DM too big for one Slack message opens every
nudge it carries in a modal (pages with Previous / Next)."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from domain.access import Need
from handlers import registry
from handlers.common import BlockActions, after_ack, deps_of, on_ack
from prompts import blocks as bk
from usecases.cadence_actions import list_blocks
from usecases.deps import Deps
from usecases.outbox import LIST_ACTION, LIST_PAGE_ACTION, list_view, message_rows

logger = logging.getLogger(__name__)


def _view(deps: Deps, user: str, channel: str | None, ts: str | None, page: int) -> dict[str, Any]:
    rows = message_rows(deps.db, channel, ts) if channel and ts else []
    meta = {"channel": channel, "ts": ts}
    if not rows:
        note = "This list is not available (the message is too old, or still being recorded)."
        return list_view([bk.section(note)], page=0, meta=meta)
    people = {r.target for r in rows if r.target[:1] in ("U", "W")}
    if people and user not in people:
        note = "This list belongs to someone else's reminder."
        return list_view([bk.section(note)], page=0, meta={})
    nudges: list[Any] = rows  # records; the cadence renderer still annotates rows
    return list_view(list_blocks(nudges), page=page, meta=meta)


def on_open(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)

    def open_list() -> None:  # the trigger id lasts 3 seconds: while Slack waits
        view = _view(deps, act.user.id, act.channel_id, act.message_ts, 0)
        client.views_open(trigger_id=act.trigger_id, view=view)

    on_ack(context, open_list)


def on_page(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    act = BlockActions.model_validate(body)
    deps = deps_of(context)
    view = body.get("view") or {}
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        page = int(act.action.value or 0)
    except ValueError:
        meta, page = {}, 0
    if not isinstance(meta, dict):
        meta = {}

    def work() -> None:
        new = _view(deps, act.user.id, meta.get("channel"), meta.get("ts"), page)
        client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=new)

    after_ack(context, work)


def register(app: App) -> None:
    registry.action(app, LIST_ACTION, on_open, Need.MEMBER)
    registry.action(app, LIST_PAGE_ACTION, on_page, Need.MEMBER)
