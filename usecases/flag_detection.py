"""Suggested flags: every new client message is classified by a follow-up task in the model lane
(queued with the message's record, so recording never waits on the model). A detection is a
suggested flag DM'd to the CSO through the outbox (*Flag it* / *Dismiss*); an expansion signal
also becomes the client's Hook in /pulse; a question starts the reply loop. Messages in a
client's internal channel are kept short, for the orphaned-thread loop."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from domain.calendar import slack_ts_to_datetime
from domain.classify import Classification, RuleClassifier, is_question
from domain.flags import Flag, FlagKind
from domain.records import Client
from domain.touchpoint import ChannelMessage
from prompts.flag_views import hook_of, suggestion_dm
from storage.activity_store import record_pulse
from storage.db import Transaction
from storage.flag_store import (
    client_by_internal_channel,
    record_internal,
    record_question,
    suggest_flag,
)
from storage.portfolio_store import client_by_id
from usecases.deps import Deps
from usecases.flag_posts import permalink_of
from usecases.outbox import NudgeSpec, deliver_due, enqueue

logger = logging.getLogger(__name__)

DETECT_TASK = "flags.detect"
SUGGESTION_CADENCE = "flag_suggestion"
SUGGESTION_KEEPS = timedelta(days=2)


@dataclass(frozen=True)
class Finding:
    """What the classifier and the question rule saw in a message (before any write)."""

    classification: Classification
    question: bool
    permalink: str | None


def detection_job(msg: ChannelMessage, client: Client) -> tuple[str, dict[str, Any]]:
    """The follow-up task's key and payload for a new client message."""
    return f"{msg.channel}:{msg.ts}", {
        "client_id": client.id,
        "channel": msg.channel,
        "user": msg.user,
        "text": msg.text,
        "ts": msg.ts,
        "thread_ts": msg.thread_ts,
    }


def message_of(payload: dict[str, Any]) -> tuple[int, ChannelMessage]:
    msg = ChannelMessage(
        channel=str(payload["channel"]),
        user=str(payload["user"]),
        text=str(payload.get("text") or ""),
        ts=str(payload["ts"]),
        thread_ts=payload.get("thread_ts"),
        event_id=None,
    )
    return int(payload["client_id"]), msg


def examine(deps: Deps, web: WebClient, msg: ChannelMessage) -> Finding | None:
    """Classify the message (the model, or the rules); None when there is nothing to record.
    Runs outside any transaction: the model may take its whole timeout."""
    classifier = deps.classifier if deps.classifier is not None else RuleClassifier()
    result = classifier.classify(msg.text)
    question = is_question(msg.text)
    if not result.flagged and not question:
        return None
    return Finding(result, question, permalink_of(web, msg.channel, msg.ts))


def record_finding(
    tx: Transaction, client_id: int, msg: ChannelMessage, finding: Finding, now: datetime
) -> Flag | None:
    """Write what was found: the question, the suggested flag and its DM to the CSO (in the
    outbox), an expansion signal's hook. The new suggested flag, if any."""
    client = client_by_id(tx, client_id)
    if client is None:
        return None
    result = finding.classification
    thread_ts = msg.thread_ts if msg.thread_ts != msg.ts else None
    if finding.question:
        record_question(
            tx,
            client_id=client.id,
            channel=msg.channel,
            ts=msg.ts,
            thread_ts=thread_ts,
            author=msg.user,
            text=msg.text,
            permalink=finding.permalink,
            asked_at=slack_ts_to_datetime(msg.ts),
        )
    if not result.flagged:
        return None
    flag = suggest_flag(
        tx,
        client=client,
        channel=msg.channel,
        ts=msg.ts,
        thread_ts=thread_ts,
        kind=result.kind,
        author=msg.user,
        text=msg.text,
        permalink=finding.permalink,
        source=result.source,
        now=now,
    )
    if flag is None:
        return None
    if result.kind is FlagKind.EXPANSION_SIGNAL:
        record_pulse(
            tx,
            client_id=client.id,
            sentiment="neutral",  # a detected row carries only the hook
            hook=hook_of(msg.text),
            update=None,
            note=None,
            by="csobot",
            now=now,
            source="detected",
        )
    text, blocks = suggestion_dm(flag, client, result.reason)
    enqueue(
        tx,
        NudgeSpec(
            cadence_id=SUGGESTION_CADENCE,
            period=msg.ts,
            target=client.cso_id,
            person_id=client.cso_id,
            client_id=client.id,
            text=text,
            blocks=blocks,
            due_at=now,
            expires_at=now + SUGGESTION_KEEPS,
            batch=False,
            key=f"flag-suggestion:{flag.id}",
        ),
        now,
    )
    logger.info(
        "suggested %s flag on %s (%s)",
        flag.kind,
        client.slug,
        result.source,
        extra={"client": client.slug},
    )
    return flag


def deliver_suggestions(deps: Deps, web: WebClient, now: datetime) -> None:
    """Send the suggestion DMs now (after the commit), not at the next tick."""
    deliver_due(deps.db, web, now, cadences={SUGGESTION_CADENCE})


def record_internal_message(tx: Transaction, msg: ChannelMessage) -> None:
    """Keep a short record of a message in a client's internal channel (question loops)."""
    client = client_by_internal_channel(tx, msg.channel)
    if client is None:
        return
    top_level = msg.thread_ts in (None, msg.ts)
    record_internal(
        tx,
        client_id=client.id,
        channel=msg.channel,
        ts=msg.ts,
        thread_ts=msg.thread_ts,
        author=msg.user,
        text=msg.text,
        is_question=top_level and is_question(msg.text),
        occurred_at=slack_ts_to_datetime(msg.ts),
    )
