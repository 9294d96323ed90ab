"""What a flag reaction or a flag button does: opening, withdrawing, deciding, and acting on a
suggestion (docs/process.md, "Flags").

- A team member's flag emoji on a client message opens a flag and posts it in the client's
  internal channel (or DMs the CSO when that channel is missing or shared with the client),
  mentioning the Service Lead, with *In scope* / *Needs change request* / *Resolved*.
- Removing the reaction before a decision withdraws it.
- *Flag it* on a suggestion opens it and posts it the same way; *Dismiss* records the dismissal.
Each function runs in the caller's one transaction; what only shows the new state in Slack is
returned as `Answer.after`, for the caller to run once the transaction committed. Nothing here
posts in a client channel or a Slack Connect channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from domain.calendar import local_date
from domain.flag_loops import Decision, FlagStatus
from domain.flags import Flag
from domain.records import Client
from prompts import blocks as bk
from prompts.flag_views import already, decided_note, suggestion_done
from storage.db import Transaction
from storage.flag_store import (
    acknowledge_by_reaction,
    client_by_internal_channel,
    decide_flag,
    dismiss_suggestion,
    find_flag,
    flag_settings,
    get_flag,
    inbound_excerpt,
    open_flag,
    promote_suggestion,
    withdraw_flag,
)
from storage.portfolio_store import client_by_channel, client_by_id, timezone_of
from usecases.deps import Deps
from usecases.flag_posts import (
    fetch_message,
    permalink_of,
    post_flag,
    reminder_keys,
    replace_block,
    update_message,
    update_post,
)
from usecases.outbox import close

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reaction:
    """A reaction added to (or removed from) a message."""

    user: str
    name: str
    channel: str
    ts: str
    item_user: str | None = None


@dataclass(frozen=True)
class Clicked:
    """The message a button was clicked in, and the clicked block."""

    user: str
    channel: str | None
    ts: str | None
    block_id: str | None
    blocks: list[dict[str, Any]]


@dataclass
class Answer:
    """What the clicker is told (ephemeral), and the Slack updates to run after the commit."""

    text: str | None = None
    after: Callable[[], None] | None = None


def flag_and_client(tx: Transaction, flag_id: int | None) -> tuple[Flag, Client] | None:
    flag = get_flag(tx, flag_id) if flag_id is not None else None
    client = client_by_id(tx, flag.client_id) if flag else None
    return (flag, client) if flag and client else None


# -- reactions ---------------------------------------------------------------------------------
def reaction_added(tx: Transaction, deps: Deps, web: WebClient, r: Reaction, now: datetime) -> None:
    target = client_by_channel(tx, r.channel)
    if target is None:
        if client_by_internal_channel(tx, r.channel) is not None:
            # The asker's reaction acknowledges an internal answer.
            acknowledge_by_reaction(tx, channel=r.channel, ts=r.ts, user=r.user, now=now)
        return
    kind = flag_settings(tx).vocabulary.kind_for(r.name)
    if kind is None or r.user not in target.team_ids():
        return
    existing = find_flag(tx, r.channel, r.ts, kind)
    if existing is not None and existing.status in (FlagStatus.OPEN, FlagStatus.DECIDED):
        return  # a second reaction, or a retry: one flag
    inbound = inbound_excerpt(tx, r.channel, r.ts)
    fetched = fetch_message(web, r.channel, r.ts)
    text = fetched.text if fetched else (existing.excerpt if existing else (inbound or ""))
    thread_ts = fetched.thread_ts if fetched else None
    author = r.item_user or (fetched.user if fetched else None)
    permalink = (existing.permalink if existing else None) or permalink_of(web, r.channel, r.ts)
    flag = open_flag(
        tx,
        client=target,
        channel=r.channel,
        ts=r.ts,
        thread_ts=thread_ts if thread_ts != r.ts else None,
        kind=kind,
        author=author,
        text=text,
        permalink=permalink,
        source=existing.source if existing else "reaction",
        reaction=r.name.split("::", 1)[0],
        by=r.user,
        now=now,
    )
    if flag is None:
        return
    post_flag(tx, deps, web, flag, target)
    logger.info(
        "flag %s (%s) opened on %s", flag.id, flag.kind, target.slug, extra={"client": target.slug}
    )


def reaction_removed(
    tx: Transaction, web: WebClient, r: Reaction, now: datetime
) -> Callable[[], None] | None:
    target = client_by_channel(tx, r.channel)
    kind = flag_settings(tx).vocabulary.kind_for(r.name)
    existing = find_flag(tx, r.channel, r.ts, kind) if (target and kind) else None
    if target is None or existing is None or existing.status != FlagStatus.OPEN:
        return None
    if existing.flagged_by != r.user or existing.reaction is None:
        return None  # someone else's reaction, or a flag raised from a suggestion
    flag = withdraw_flag(tx, existing.id, by=r.user, now=now)
    if flag is None:
        return None
    for key in reminder_keys(flag.id):
        close(tx, key, by="withdrawn", now=now)
    tz = timezone_of(tx, target)
    logger.info("flag %s withdrawn on %s", flag.id, target.slug, extra={"client": target.slug})
    client = target
    return lambda: update_post(web, flag, client, tz)


# -- buttons -----------------------------------------------------------------------------------
def decide(
    tx: Transaction,
    web: WebClient,
    found: tuple[Flag, Client],
    decision: Decision,
    clicked: Clicked,
    now: datetime,
) -> Answer:
    """A decision button, on the flag's post or on a reminder DM."""
    shown, client = found
    flag = decide_flag(tx, shown.id, decision, by=clicked.user, now=now)
    if flag is None:
        return Answer(text=already(get_flag(tx, shown.id) or shown))
    for key in reminder_keys(flag.id):
        close(tx, key, by=clicked.user, now=now)
    tz = timezone_of(tx, client)
    decided = flag

    def after() -> None:
        update_post(web, decided, client, tz)
        where = (clicked.channel, clicked.ts)
        if where[0] and where[1] and where != (decided.post_channel, decided.post_ts):
            # A reminder DM: replace just this flag's buttons, keep the rest of the message.
            note = decided_note(decided, local_date(now, tz))
            blocks = replace_block(clicked.blocks, clicked.block_id, [bk.context(note)])
            if blocks is not None:
                update_message(web, where[0], where[1], note, blocks)

    logger.info("flag %s decided: %s", flag.id, decision.value)
    return Answer(after=after)


def act_on_suggestion(
    tx: Transaction,
    deps: Deps,
    web: WebClient,
    found: tuple[Flag, Client],
    *,
    flagging: bool,
    clicked: Clicked,
    now: datetime,
) -> Answer:
    """*Flag it* (open it and post it internally) or *Dismiss* on a suggestion DM."""
    suggested, client = found
    if flagging:
        flag = promote_suggestion(tx, suggested.id, by=clicked.user, now=now)
    else:
        flag = dismiss_suggestion(tx, suggested.id, by=clicked.user, now=now)
    if flag is None:
        return Answer(text=already(get_flag(tx, suggested.id) or suggested))
    if flagging:
        flag = post_flag(tx, deps, web, flag, client)
    done = suggestion_done(flag, client, flagged=flagging)
    channel, ts = clicked.channel, clicked.ts
    if not (channel and ts):
        return Answer()
    blocks = replace_block(clicked.blocks, clicked.block_id, [bk.context(done)])
    shown = blocks or [bk.section(done)]
    return Answer(after=lambda: update_message(web, channel, ts, done, shown))
