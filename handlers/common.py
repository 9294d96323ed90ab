"""What every feature's listeners share: payload models parsed at the edge, and the deps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from slack_bolt import BoltContext, Respond
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.webhook import WebhookResponse

from domain.access import Need
from handlers.authz import refusal
from handlers.inbox import in_ack_phase, in_work_phase, job_of
from usecases.deps import Deps

logger = logging.getLogger(__name__)


def after_ack(context: BoltContext, work: Callable[[], None]) -> None:
    """The listener's real work. In the ack phase it only marks the request as having work —
    the request is then kept in the inbox before Slack gets its answer; in the work phase
    (replayed from the inbox on a lane) it runs, and a failure is retried from the inbox."""
    state = job_of(context)
    if state is not None and state.phase == "ack":
        state.wants_work = True
        return
    work()


def on_ack(context: BoltContext, ui: Callable[[], None]) -> None:
    """What must happen while Slack waits, once: opening a modal with its 3-second trigger id.
    Skipped when the request is replayed for its work. Only for people in the portfolio: a
    modal that lists clients is never opened for a client contact or a stranger (a modal about
    one client checks that client's team itself)."""
    if not in_ack_phase(context):
        return
    deps = deps_of(context)
    with deps.db.session() as session:
        refused = refusal(session, context.user_id or "", Need.MEMBER)
    if refused:
        tell(context, refused)
        return
    ui()


def deps_of(context: BoltContext) -> Deps:
    deps = context.get("deps")
    if not isinstance(deps, Deps):  # pragma: no cover - wiring error
        raise RuntimeError("deps middleware is not installed")
    return deps


class RetryingRespond(Respond):
    """`respond()` that tries a failed response_url reply once more and logs what failed."""

    def __call__(self, *args: Any, **kwargs: Any) -> WebhookResponse:
        last: WebhookResponse | None = None
        for attempt in (1, 2):
            try:
                last = super().__call__(*args, **kwargs)
            except OSError as exc:
                logger.warning("reply to response_url failed (%s), attempt %d", exc, attempt)
                if attempt == 2:
                    raise
                continue
            if last.status_code < 400 and last.status_code != 0:
                return last
            logger.warning(
                "reply to response_url answered %s (%s), attempt %d",
                last.status_code,
                (last.body or "")[:80],
                attempt,
            )
        assert last is not None
        return last


def tell(context: BoltContext, text: str) -> None:
    """An ephemeral answer to whoever asked: through the response_url when there is one,
    else a DM from the bot."""
    respond = context.get("respond")
    if context.response_url and isinstance(respond, Respond):
        respond(text=text, response_type="ephemeral", replace_original=False)
        return
    user = context.user_id
    client = context.client
    if user and client is not None:
        client.chat_postMessage(channel=user, text=text)


GATED_TYPES = frozenset(
    {
        "block_actions",
        "view_submission",
        "shortcut",
        "message_action",
        "block_suggestion",
        "interactive_message",
    }
)


def is_gated(body: dict[str, Any]) -> bool:
    """Commands and interactions are gated; events (what happened in a channel) are not."""
    return "command" in body or body.get("type") in GATED_TYPES


class RequestSetup(Middleware):
    """The one global middleware, before every listener: the request gets the bot's `deps`
    and a `respond` that retries a failed reply once; then, while the work runs, a command or
    an interaction from someone outside the organization is refused before any listener does
    its work. A class: Bolt calls its `process` as is, where a function middleware has its
    arguments rebuilt from the request on every call (about a tenth of an ack's interpreter
    time for three of them)."""

    def __init__(self, deps: Deps):
        self.deps = deps

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        context = req.context
        context["deps"] = self.deps
        if context.response_url:
            context["respond"] = RetryingRespond(response_url=context.response_url)
        if not is_gated(req.body) or not in_work_phase(context):
            return next()
        with self.deps.db.session() as session:
            refused = refusal(session, context.user_id or "", Need.MEMBER)
        if refused is None:
            return next()
        tell(context, refused)
        return BoltResponse(status=200, body="")


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
    SPOKEN_SUBTYPES: frozenset[str | None] = frozenset(
        {None, "thread_broadcast", "file_share", "me_message"}
    )

    def is_person_speaking(self) -> bool:
        return self.subtype in self.SPOKEN_SUBTYPES and self.bot_id is None and bool(self.user)


class HuddleRoom(_Payload):
    """A huddle (`huddle_thread`'s `room`): who started it and everyone who took part."""

    id: str = ""
    created_by: str | None = None
    date_start: float | None = None
    participant_history: list[str] = Field(default_factory=list)
    participants: list[str] = Field(default_factory=list)

    @property
    def people(self) -> list[str]:
        seen = [self.created_by] if self.created_by else []
        for person in (*self.participant_history, *self.participants):
            if person not in seen:
                seen.append(person)
        return seen


class EditedMessage(_Payload):
    """The message as it reads after an edit (`message_changed`'s `message`)."""

    user: str | None = None
    text: str = ""
    ts: str
    thread_ts: str | None = None
    subtype: str | None = None
    room: HuddleRoom | None = None


# What happened to a message after it was posted, or a huddle in the channel.
CHANGE_SUBTYPES = frozenset({"message_deleted", "message_changed", "huddle_thread"})


class MessageChange(_Payload):
    """`message_deleted`, `message_changed` and `huddle_thread` events in a channel."""

    subtype: str
    channel: str = ""
    ts: str = ""
    deleted_ts: str | None = None
    message: EditedMessage | None = None
    room: HuddleRoom | None = None


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
