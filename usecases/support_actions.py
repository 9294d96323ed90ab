"""Support requests (docs/process.md, "Support"): opened from a client message in its channel
(the rules at once, the model later when configured), by a :sos: reaction or `/support`;
the first substantive team reply is the first response; a ✅ by the team or the asker,
`/support resolve` or the *Resolved* button resolves it; *Duplicate* merges it into an earlier
one and *Dismiss* closes a false one, each in one click."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.calendar import slack_ts_to_datetime
from domain.flags import normalize_reaction
from domain.portfolio import LEADERSHIP_ROLES
from domain.records import Client
from domain.support import (
    FeedbackKind,
    RequestStatus,
    RuleSupportDetector,
    Severity,
    SupportKind,
    SupportReading,
    SupportRequest,
    deadlines,
    is_acknowledgement,
)
from domain.touchpoint import ChannelMessage, Speaker
from prompts.support_views import home_support_blocks, open_list, opened_text, request_line
from storage.db import Transaction
from storage.flag_store import inbound_excerpt
from storage.portfolio_store import (
    active_clients,
    client_by_channel,
    client_by_id,
    person_by_slack_id,
)
from storage.support_store import (
    add_feedback,
    answer_requests,
    close_as,
    open_request,
    open_requests,
    request_by_id,
    request_by_message,
    request_in_thread,
    resolve,
    set_severity,
    support_calendar,
    support_context,
    support_settings,
)
from storage.touchpoint_store import Recorded

logger = logging.getLogger(__name__)

RESOLVE_REACTIONS = frozenset({"white_check_mark", "heavy_check_mark", "ballot_box_with_check"})
OPEN_REACTION = "sos"
FEEDBACK_REACTIONS = {"bulb": FeedbackKind.FEATURE_REQUEST, "bug": FeedbackKind.BUG}
_RULES = RuleSupportDetector()


def _root(msg: ChannelMessage) -> str | None:
    return msg.thread_ts if msg.thread_ts and msg.thread_ts != msg.ts else None


def open_from_message(
    tx: Transaction,
    client: Client,
    msg: ChannelMessage,
    reading: SupportReading,
    *,
    opened_by: str | None,
    now: datetime,
    permalink: str | None = None,
) -> SupportRequest | None:
    """Open the request a client message asks for (once per message)."""
    severity = reading.severity or Severity.NORMAL
    kind = reading.kind if reading.kind is not SupportKind.NONE else SupportKind.REQUEST
    opened_at = slack_ts_to_datetime(msg.ts)
    settings, cal = support_context(tx, client)
    return open_request(
        tx,
        key=f"msg:{msg.channel}:{msg.ts}",
        client=client,
        channel=msg.channel,
        ts=msg.ts,
        thread_ts=_root(msg),
        asker=msg.user,
        text=msg.text,
        permalink=permalink,
        kind=kind,
        severity=severity,
        feedback=reading.feedback,
        source=reading.source,
        opened_by=opened_by,
        opened_at=opened_at,
        due=deadlines(opened_at, client.segment, cal, settings),
    )


def on_channel_message(
    tx: Transaction, msg: ChannelMessage, recorded: Recorded | None
) -> SupportRequest | None:
    """The ingest path's part (same transaction as the message's record): a client message
    asking for help opens a request, unless it follows up on an open one in its thread; a
    substantive team reply answers the open request(s) it replies to. The new request, if any.
    """
    if recorded is None or not recorded.new:
        return None
    client = recorded.client
    root = _root(msg)
    if recorded.speaker is Speaker.CLIENT:
        if root is not None and request_in_thread(tx, msg.channel, root) is not None:
            return None  # a follow-up on an open request
        reading = _RULES.detect(msg.text)
        if reading.opens:  # its feedback kind rides on the request (themed by the tick)
            return open_from_message(tx, client, msg, reading, opened_by=None, now=_at(msg))
        if reading.feedback is not FeedbackKind.NONE:
            add_feedback(
                tx,
                key=f"msg:{msg.channel}:{msg.ts}",
                client_id=client.id,
                kind=reading.feedback,
                text=msg.text,
                source="classified",
                by=None,
                now=_at(msg),
            )
        return None
    if recorded.speaker is Speaker.TEAM:
        team_replied(tx, msg)
    return None


def _at(msg: ChannelMessage) -> datetime:
    return slack_ts_to_datetime(msg.ts)


def team_replied(tx: Transaction, msg: ChannelMessage) -> None:
    """A team message in a client channel: in a request's thread it answers that request; at
    the top of the channel, the open top-level requests asked before it. An acknowledgement
    only ("thanks, looking into it") is no first response."""
    if is_acknowledgement(msg.text):
        return
    answer_requests(tx, msg.channel, root=_root(msg), by=msg.user, ts=msg.ts, at=_at(msg))


def apply_model_reading(
    tx: Transaction, client_id: int, msg: ChannelMessage, reading: SupportReading
) -> SupportRequest | None:
    """The model's reading of a client message (the model lane, when configured): opens the
    request the rules missed, or sets the severity the model saw on the one they opened."""
    client = client_by_id(tx, client_id)
    if client is None or reading.source != "llm":
        return None  # the model failed: the rules already had their say at ingest
    root = _root(msg)
    if root is not None and request_in_thread(tx, msg.channel, root) is not None:
        return None
    existing = request_by_message(tx, msg.channel, msg.ts)
    if existing is not None:
        if existing.is_open and reading.severity is not None and existing.source == "rules":
            set_severity(tx, existing.id, reading.severity, source="llm")
        return None
    if not reading.opens:
        return None
    return open_from_message(tx, client, msg, reading, opened_by=None, now=_at(msg))


# -- reactions ---------------------------------------------------------------------------------
def on_reaction(
    tx: Transaction,
    *,
    user: str,
    name: str,
    channel: str,
    ts: str,
    item_user: str | None,
    now: datetime,
) -> SupportRequest | None:
    """✅ by the team or the asker resolves; :sos: by the team opens one by hand; :bulb: /
    :bug: by the team records product feedback (a feature request / a bug)."""
    reaction = normalize_reaction(name)
    if (
        reaction not in RESOLVE_REACTIONS
        and reaction != OPEN_REACTION
        and reaction not in FEEDBACK_REACTIONS
    ):
        return None
    client = client_by_channel(tx, channel)
    if client is None:
        return None
    if reaction in FEEDBACK_REACTIONS:
        if user in client.team_ids():
            add_feedback(
                tx,
                key=f"react:{channel}:{ts}:{reaction}",
                client_id=client.id,
                kind=FEEDBACK_REACTIONS[reaction],
                text=inbound_excerpt(tx, channel, ts) or "",
                source="reaction",
                by=user,
                now=now,
            )
        return None
    if reaction in RESOLVE_REACTIONS:
        request = request_by_message(tx, channel, ts)
        if request is None or not request.is_open:
            return None
        if user not in client.team_ids() and user != request.asker:
            return None
        return resolve(tx, request.id, by=user, at=now)
    if user not in client.team_ids():
        return None
    text = inbound_excerpt(tx, channel, ts) or ""
    msg = ChannelMessage(channel, item_user or user, text, ts, None, None)
    reading = _RULES.detect(text)
    manual = SupportReading(
        kind=reading.kind if reading.opens else SupportKind.REQUEST,
        severity=reading.severity or Severity.NORMAL,
        feedback=reading.feedback,
        reason="opened by hand",
        source="reaction",
    )
    return open_from_message(tx, client, msg, manual, opened_by=user, now=now)


# -- by hand: /support acme "…", and the buttons -----------------------------------------------
def open_by_hand(
    tx: Transaction,
    client: Client,
    text: str,
    *,
    by: str,
    key: str,
    severity: Severity | None,
    now: datetime,
) -> SupportRequest | None:
    reading = _RULES.detect(text)
    settings = support_settings(tx)
    cal = support_calendar(tx, client, settings)
    return open_request(
        tx,
        key=key,
        client=client,
        channel=client.client_channel,
        ts=None,
        thread_ts=None,
        asker=by,
        text=text,
        permalink=None,
        kind=reading.kind if reading.opens else SupportKind.REQUEST,
        severity=severity or reading.severity or Severity.NORMAL,
        feedback=reading.feedback if reading.opens else FeedbackKind.NONE,
        source="command",
        opened_by=by,
        opened_at=now,
        due=deadlines(now, client.segment, cal, settings),
    )


@dataclass(frozen=True)
class Outcome:
    text: str
    request: SupportRequest | None = None


def request_and_client(
    tx: Transaction, request_id: int | None
) -> tuple[SupportRequest, Client] | None:
    request = request_by_id(tx, request_id)
    if request is None:
        return None
    client = client_by_id(tx, request.client_id)
    return (request, client) if client is not None else None


def click(
    tx: Transaction, request: SupportRequest, action: str, *, by: str, now: datetime
) -> Outcome:
    """Resolved / Duplicate / Dismiss on a request, in one click."""
    if not request.is_open:
        return Outcome(f"Request #{request.id} is already {request.status.value}.")
    if action == "resolve":
        done = resolve(tx, request.id, by=by, at=now)
        return Outcome(f"Request #{request.id} resolved.", done)
    if action == "dismiss":
        done = close_as(tx, request.id, RequestStatus.DISMISSED, by=by)
        return Outcome(f"Request #{request.id} dismissed: not a support request.", done)
    earlier = [
        r for r in open_requests(tx, request.client_id) if r.id != request.id and r.id < request.id
    ]
    if not earlier:
        return Outcome(f"Request #{request.id} has no earlier open request to merge into.")
    into = earlier[-1]
    done = close_as(tx, request.id, RequestStatus.MERGED, by=by, into=into.id)
    return Outcome(f"Request #{request.id} merged into #{into.id}.", done)


def listing(tx: Transaction, client: Client, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    """`/support acme`: the client's open requests, age against the target."""
    settings = support_settings(tx)
    cal = support_calendar(tx, client, settings)
    return open_list(client, open_requests(tx, client.id), cal, now)


def opened_reply(request: SupportRequest, client: Client) -> str:
    return opened_text(request, client)


def home_blocks(tx: Transaction, user_id: str, now: datetime) -> tuple[list[dict[str, Any]], int]:
    """App Home's open-support part for a person: the open requests of the clients they serve
    (all clients for leadership), oldest first, age against the target. (blocks, total)."""
    settings = support_settings(tx)
    mine = [c for c in active_clients(tx) if user_id in c.team_ids()]
    if not mine and is_leadership(tx, user_id):
        mine = active_clients(tx)
    groups = []
    total = 0
    for client in mine:
        requests = open_requests(tx, client.id)
        if not requests:
            continue
        cal = support_calendar(tx, client, settings)
        groups.append((client, [request_line(r, cal, now) for r in requests]))
        total += len(requests)
    return home_support_blocks(groups, total), total


def is_leadership(tx: Transaction, user_id: str) -> bool:
    person = person_by_slack_id(tx, user_id)
    return person is not None and person.role in {r.value for r in LEADERSHIP_ROLES}
