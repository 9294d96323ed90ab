"""Product feedback (docs/process.md, "Support"): feature requests and bug reports (classified,
or a :bulb: / :bug: reaction by the team) and NPS comments, grouped by theme; a theme that
reaches the threshold of accounts (3 by default) is summarised to the product channel once per
threshold, within the business day — never in a client or Slack Connect channel."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.calendar import WorkCalendar
from domain.feedback import Matcher, assign_themes, thresholds_crossed
from domain.nudge import NudgeSpec
from domain.records import Client
from prompts.support_views import feedback_list, product_post
from storage.db import Database, Transaction
from storage.flag_store import client_channels
from storage.outbox_store import enqueue
from storage.portfolio_store import active_clients, organization
from storage.support_store import (
    add_feedback,
    feedback_from_requests,
    feedback_items,
    record_post,
    set_themes,
    support_settings,
    themes,
)

logger = logging.getLogger(__name__)

POST_CADENCE = "product_feedback"
KEEPS = timedelta(days=3)


def refresh_themes(tx: Transaction) -> None:
    """Theme every new item by its normalised keywords (oldest first)."""
    feedback_from_requests(tx)
    items = feedback_items(tx)
    set_themes(tx, assign_themes(items))


def theme_with_model(db: Database, matcher: Matcher) -> None:
    """Theme the new items with the model choosing the theme each joins. The model is asked
    outside any transaction (it may take its timeout); the themes are written after."""
    with db.transaction() as tx:
        feedback_from_requests(tx)
        items = feedback_items(tx)
    if all(i.theme or i.seen for i in items):
        return
    themes = assign_themes(items, matcher)
    with db.transaction() as tx:
        set_themes(tx, themes)


def _ranked(
    tx: Transaction,
) -> list[tuple[str, list[Client], tuple[str, ...], tuple[str, ...], int]]:
    clients = {c.id: c for c in active_clients(tx)}
    out = []
    for theme in themes(tx):
        accounts = [clients[i] for i in theme.client_ids if i in clients]
        out.append((theme.name, accounts, theme.kinds, theme.excerpts, theme.items))
    out.sort(key=lambda t: (-len(t[1]), -sum(c.arr for c in t[1]), t[0]))
    return out


def post_themes(
    tx: Transaction, now: datetime, is_shared: Callable[[str, set[str]], bool] | None
) -> int:
    """Enqueue the product-channel post of every theme that reached a new threshold. Nothing
    without a product channel, or when the channel is a client's or shared (fail closed)."""
    refresh_themes(tx)
    settings = support_settings(tx)
    channel = settings.product_channel
    if not channel:
        return 0
    shared_with_clients = client_channels(tx)
    if is_shared is None or is_shared(channel, shared_with_clients):
        logger.warning("product channel %s is a client's or shared: no feedback posted", channel)
        return 0
    org = organization(tx)
    cal = WorkCalendar(
        tz=ZoneInfo(org.timezone or "UTC"),
        country=org.holidays_country or "",
        subdiv=org.holidays_subdiv,
        start=settings.workday_start,
        end=settings.workday_end,
    )
    new = 0
    for name, accounts, kinds, excerpts, _items in _ranked(tx):
        for threshold in thresholds_crossed(len(accounts), settings.theme_accounts):
            if not record_post(tx, name, threshold, channel, now):
                continue
            due = cal.next_open(now)
            text = product_post(name, accounts, kinds, excerpts)
            new += enqueue(
                tx,
                NudgeSpec(
                    cadence_id=POST_CADENCE,
                    period=f"{name}:{threshold}",
                    target=channel,
                    text=text,
                    due_at=due,
                    expires_at=due + KEEPS,
                    batch=False,
                    key=f"{POST_CADENCE}:{name}:{threshold}",
                ),
                now,
            )
    return new


def listing(tx: Transaction) -> tuple[str, list[dict[str, Any]]]:
    refresh_themes(tx)
    return feedback_list([(name, accts, items) for name, accts, _k, _e, items in _ranked(tx)])


def add_nps_feedback(
    tx: Transaction, client: Client, comment: str | None, *, key: str, by: str, now: datetime
) -> bool:
    """An NPS comment, to join the themes it matches (it starts none)."""
    if not comment or not comment.strip():
        return False
    return add_feedback(
        tx,
        key=f"nps:{key}",
        client_id=client.id,
        kind="nps",
        text=comment,
        source="nps",
        by=by,
        now=now,
    )
