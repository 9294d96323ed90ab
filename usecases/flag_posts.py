"""The flag's Slack side: reading the flagged message, posting the flag internally (never in a
client or Slack Connect channel), and keeping its post and the clicked messages up to date."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.flags import Flag
from domain.records import Client
from prompts import blocks as bk
from prompts.flag_views import flag_post
from storage.db import Transaction
from storage.flag_store import client_channels, set_post
from storage.portfolio_store import timezone_of
from usecases.deps import Deps

logger = logging.getLogger(__name__)


class FetchedMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = ""
    user: str | None = None
    ts: str
    thread_ts: str | None = None


def describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return f"SlackApiError({exc.response.get('error')})"
    return type(exc).__name__


# -- Slack reads -------------------------------------------------------------------------------
def fetch_message(web: WebClient, channel: str, ts: str) -> FetchedMessage | None:
    """The message at `ts`: from the channel's history, or its thread for a thread reply."""
    try:
        history = web.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
        for raw in history.get("messages") or []:
            if raw.get("ts") == ts:
                return FetchedMessage.model_validate(raw)
        replies = web.conversations_replies(
            channel=channel, ts=ts, latest=ts, inclusive=True, limit=2
        )
        for raw in replies.get("messages") or []:
            if raw.get("ts") == ts:
                return FetchedMessage.model_validate(raw)
    except (SlackApiError, OSError) as exc:
        logger.warning("cannot read message %s in %s: %s", ts, channel, describe(exc))
    return None


def permalink_of(web: WebClient, channel: str, ts: str) -> str | None:
    try:
        link = web.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except (SlackApiError, OSError) as exc:
        logger.warning("no permalink for %s in %s: %s", ts, channel, describe(exc))
        return None
    return str(link) if link else None


# -- where a flag goes -------------------------------------------------------------------------
def internal_destination(
    tx: Transaction, deps: Deps, web: WebClient, client: Client
) -> tuple[str, bool]:
    """The client's internal channel, or the CSO's DM (True) when it is missing or shared."""
    channel = client.internal_channel
    if channel and not deps.channel_guard(web).is_shared(
        channel, client_channels=client_channels(tx)
    ):
        return channel, False
    return client.cso_id, True


def reminder_keys(flag_id: int) -> list[str]:
    """The outbox keys of a flag's reminders (closed when it is decided or withdrawn)."""
    return [f"flag-reminder:{flag_id}:{step}" for step in ("cso", "service_lead")]


# -- posts -------------------------------------------------------------------------------------
def post_flag(tx: Transaction, deps: Deps, web: WebClient, flag: Flag, client: Client) -> Flag:
    """Post (or, for a re-opened flag, restore) the flag's internal message; where it went is
    written in the caller's transaction."""
    tz = timezone_of(tx, client)
    if flag.post_channel and flag.post_ts:
        text, blocks = flag_post(flag, client, dm=flag.posted_in_dm, tz=tz)
        try:
            web.chat_update(
                channel=flag.post_channel, ts=flag.post_ts, text=bk.fallback(text), blocks=blocks
            )
            return flag
        except (SlackApiError, OSError) as exc:
            logger.warning("could not restore flag %s post: %s", flag.id, describe(exc))
    destination, dm = internal_destination(tx, deps, web, client)
    text, blocks = flag_post(flag, client, dm=dm, tz=tz)
    resp = web.chat_postMessage(channel=destination, text=bk.fallback(text), blocks=blocks)
    set_post(tx, flag.id, resp.get("channel"), resp.get("ts"))
    return replace(flag, post_channel=resp.get("channel"), post_ts=resp.get("ts"))


def update_post(web: WebClient, flag: Flag, client: Client, tz: ZoneInfo) -> None:
    """Show the flag's new state in its post (a display: a failure is only logged)."""
    if not (flag.post_channel and flag.post_ts):
        return
    text, blocks = flag_post(flag, client, dm=flag.posted_in_dm, tz=tz)
    try:
        web.chat_update(
            channel=flag.post_channel, ts=flag.post_ts, text=bk.fallback(text), blocks=blocks
        )
    except (SlackApiError, OSError) as exc:
        logger.warning("could not update flag %s post: %s", flag.id, describe(exc))


def replace_block(
    old: list[dict[str, Any]], block_id: str | None, new: list[bk.Block]
) -> list[bk.Block] | None:
    """The clicked message's blocks with the clicked actions block replaced by `new`."""
    if not old or not block_id:
        return None
    out: list[bk.Block] = []
    for block in old:
        out.extend(new if block.get("block_id") == block_id else [block])
    return out


def update_message(
    web: WebClient, channel: str, ts: str, text: str, blocks: list[bk.Block]
) -> None:
    try:
        web.chat_update(channel=channel, ts=ts, text=bk.fallback(text), blocks=blocks)
    except (SlackApiError, OSError) as exc:
        logger.warning("could not update the clicked message: %s", describe(exc))
