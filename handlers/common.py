"""What every feature's listeners share: payload models parsed at the edge, and the deps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict
from slack_bolt import BoltContext, Respond

from bot.deps import Deps
from bot.templates import render

logger = logging.getLogger(__name__)


def after_ack(
    context: BoltContext, work: Callable[[], None], respond: Respond | None = None
) -> None:
    """Run slow work after the ack, on the after-ack pool; failures are logged and the user
    (when there is one to tell) gets a plain message, never a traceback."""
    deps = deps_of(context)

    def guarded() -> None:
        deps.inflight.give_way()  # acks first: Slack's 3-second contract is the hard one
        try:
            work()
        except Exception as exc:
            logger.exception("after-ack work failed: %s", type(exc).__name__)
            if respond is not None:
                try:
                    respond(
                        text=render("messages/internal_error.j2"),
                        response_type="ephemeral",
                        replace_original=False,
                    )
                except Exception:
                    logger.warning("could not tell the user about the failure")

    deps.background.submit(guarded)


def deps_of(context: BoltContext) -> Deps:
    deps = context.get("deps")
    if not isinstance(deps, Deps):  # pragma: no cover - wiring error
        raise RuntimeError("deps middleware is not installed")
    return deps


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SlashCommand(_Payload):
    command: str
    text: str = ""
    user_id: str
    user_name: str = ""
    channel_id: str = ""
    team_id: str = ""
    response_url: str = ""
    trigger_id: str = ""


class MessageEvent(_Payload):
    type: str = "message"
    subtype: str | None = None
    channel: str = ""
    user: str | None = None
    text: str = ""
    ts: str
    thread_ts: str | None = None
    bot_id: str | None = None
    channel_type: str | None = None

    # Subtypes that are a person speaking; everything else (joins, edits, deletes, bots) is not.
    SPOKEN_SUBTYPES: frozenset[str | None] = frozenset({None, "thread_broadcast", "file_share"})

    def is_person_speaking(self) -> bool:
        return self.subtype in self.SPOKEN_SUBTYPES and self.bot_id is None and bool(self.user)


class ActionUser(_Payload):
    id: str


class Action(_Payload):
    action_id: str
    value: str | None = None
    block_id: str | None = None
    selected_option: dict[str, Any] | None = None


class BlockActions(_Payload):
    type: str = "block_actions"
    user: ActionUser
    trigger_id: str = ""
    actions: list[Action]
    channel: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    container: dict[str, Any] | None = None
    response_url: str | None = None

    @property
    def action(self) -> Action:
        return self.actions[0]

    @property
    def channel_id(self) -> str | None:
        if self.channel:
            return str(self.channel.get("id"))
        if self.container:
            return self.container.get("channel_id")
        return None

    @property
    def message_ts(self) -> str | None:
        if self.message:
            return self.message.get("ts")
        return self.container.get("message_ts") if self.container else None


class ViewSubmission(_Payload):
    type: str = "view_submission"
    user: ActionUser
    view: dict[str, Any]

    @property
    def values(self) -> dict[str, dict[str, Any]]:
        state = self.view.get("state", {}).get("values", {})
        flat: dict[str, dict[str, Any]] = {}
        for block_id, block in state.items():
            for _action_id, element in block.items():
                flat[block_id] = element
        return flat

    def value(self, block_id: str) -> str | None:
        el = self.values.get(block_id) or {}
        if el.get("selected_option"):
            return str(el["selected_option"]["value"])
        for key in ("value", "selected_date", "selected_user", "selected_conversation"):
            if el.get(key):
                return str(el[key])
        return None

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata") or "")
