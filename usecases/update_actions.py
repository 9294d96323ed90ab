"""What /update does: draft a client update from the bot's own record, and send it — posted in
the client channel as the CSO, recorded as that day's touchpoint (docs/process.md,
"Client updates").

The draft's facts are client-safe only: internal labels never reach it. *Send* is the one place
the bot posts in a client channel, because the CSO explicitly asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.calendar import IsoWeek, local_date
from domain.client_update import Slot, UpdateFacts, update_facts
from domain.records import Client
from llm.classifier import JsonCompleter
from llm.update_writer import llm_draft
from prompts.update_views import template_draft, update_post, update_posted
from storage.activity_store import (
    latest_pulse_update,
    latest_win_of_week,
    open_flag_excerpts,
    record_touchpoint,
    set_touchpoint_message,
    touchpoint_excerpts_of_day,
)
from storage.db import Transaction
from storage.portfolio_store import timezone_of

logger = logging.getLogger(__name__)


def facts_of(tx: Transaction, client: Client, slot: Slot, now: datetime) -> UpdateFacts:
    """The client-safe facts of today's update, from the record."""
    today = local_date(now, timezone_of(tx, client))
    return update_facts(
        client_name=client.name,
        slot=slot,
        touchpoints=touchpoint_excerpts_of_day(tx, client.id, today),
        open_flags=open_flag_excerpts(tx, client.id),
        latest_update=latest_pulse_update(tx, client.id),
        win=latest_win_of_week(tx, client.id, IsoWeek.of(today)),
    )


def write_draft(llm: JsonCompleter | None, facts: UpdateFacts) -> tuple[str, str]:
    """(draft, who wrote it): the model when configured and answering, else the template."""
    if llm is not None:
        try:
            return llm_draft(llm, facts), "llm"
        except Exception as exc:  # any failure: the template draft, never no draft
            logger.warning("LLM update draft failed, using the template: %s", exc)
    return template_draft(facts), "template"


class PostFailed(Exception):
    """Slack refused the update (or could not be reached): nothing is recorded."""

    def __init__(self, reason: str):
        super().__init__(reason or "unreachable")
        self.reason = reason


@dataclass
class Posting:
    """The update's message in the client channel, once posted: taken back when the click's
    transaction does not commit, so a retry posts the update once."""

    channel: str
    ts: str | None = None

    def take_back(self, web: WebClient) -> None:
        if not self.ts:
            return
        try:
            web.chat_delete(channel=self.channel, ts=self.ts)
        except (SlackApiError, OSError) as exc:
            logger.warning(
                "could not take back the update %s in %s: %s", self.ts, self.channel, exc
            )
        self.ts = None


def send_update(
    tx: Transaction,
    web: WebClient,
    posting: Posting,
    *,
    client: Client,
    user: str,
    slot: Slot,
    text: str,
    view_id: str,
    now: datetime,
) -> str | None:
    """Post the update in `posting.channel` as `user` and record it as a touchpoint, all in
    `tx`: what to tell the CSO, or None when this submission was already sent.

    The touchpoint is claimed first, so a repeated submission waits for the first and is then
    not posted again. PostFailed when Slack refuses: the caller's transaction rolls back and
    nothing is recorded. When the transaction fails after the post, the caller takes the post
    back (`posting.take_back`)."""
    key = f"update:{view_id}"
    claimed = record_touchpoint(
        tx,
        client_id=client.id,
        author_id=user,
        kind="slack",
        source=f"update-{slot.value}",  # the slot it answers (domain/touch_rules.py)
        occurred_at=now,
        tz=timezone_of(tx, client),
        dedupe_key=key,
        now=now,
        text=text,
        channel=posting.channel,
    )
    if not claimed:
        return None
    fallback, blocks = update_post(text, user)
    try:
        resp = web.chat_postMessage(channel=posting.channel, text=fallback, blocks=blocks)
    except SlackApiError as exc:
        reason = exc.response.get("error", "") if exc.response is not None else ""
        raise PostFailed(str(reason)) from exc
    except OSError as exc:
        raise PostFailed("") from exc
    posting.ts = resp.get("ts")
    set_touchpoint_message(tx, key, posting.ts)
    return update_posted(slot=slot, channel=posting.channel, client_name=client.name)
