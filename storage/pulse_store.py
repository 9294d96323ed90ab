"""Assemble stand-up pulse cards with a fixed number of queries, whatever the portfolio size."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, bindparam, literal, select, union_all
from sqlalchemy.sql import func
from sqlalchemy.sql.elements import BindParameter

from domain import records
from domain.calendar import IsoWeek, local_date
from domain.pulse import PulseCard, Sentiment
from domain.touch_rules import Touch, judge, permalink, role_of
from storage.db import Transaction, id_list
from storage.kpi_store import last_counted
from storage.models import Exemption, Pulse, Touchpoint, Win
from storage.org_settings_store import org_settings
from storage.portfolio_store import client_timezone

RECENT_DAYS = 90


def load_cards(
    tx: Transaction,
    clients: list[records.Client],
    now: datetime,
    *,
    people: dict[str, records.Person],
    org: records.Organization,
) -> list[PulseCard]:
    """The clients' cards; `people` and `org` as this transaction reads them."""
    if not clients:
        return []
    ids = [c.id for c in clients]
    tzs = {c.id: client_timezone(c, people, org) for c in clients}
    today = {cid: local_date(now, tz) for cid, tz in tzs.items()}
    weeks = {cid: str(IsoWeek.of(day)) for cid, day in today.items()}

    latest: dict[int, dict[str, object]] = {cid: {} for cid in ids}
    for client_id, field, value, at in tx.execute(LATEST_PULSE_FIELDS, {"client_ids": ids}):
        latest[client_id][field] = value
        if field == "sentiment":
            latest[client_id]["sentiment_at"] = at

    days = set(today.values())
    # Judged like the KPI (docs/process.md, "What counts"): the last 90 days' touches.
    settings = org_settings(tx).kpi
    by_id = {c.id: c for c in clients}
    since = min(days) - timedelta(days=RECENT_DAYS)
    # The last touch that counts, in the last 90 days: counted in SQL (like the KPI); only
    # today's touches are read, to show what counted today and why the others did not.
    last = last_counted(tx, ids, since, max(days), settings)
    counted_today: dict[int, str | None] = {}
    ignored_today: dict[int, list[str]] = {}
    for t in tx.scalars(
        select(Touchpoint)
        .where(Touchpoint.client_id.in_(id_list(ids)), Touchpoint.local_date.in_(days))
        .order_by(Touchpoint.occurred_at)
    ):
        if t.local_date != today[t.client_id]:
            continue
        client = by_id[t.client_id]
        touch = Touch(kind=t.kind, source=t.source, author_id=t.author_id, at=t.occurred_at,
                      day=t.local_date, text=t.excerpt)  # fmt: skip
        verdict = judge(touch, role_of(client, t.author_id), settings)
        if verdict.counts:
            counted_today.setdefault(
                t.client_id, permalink(t.channel, t.message_ts, t.thread_ts) or t.link
            )
        else:
            ignored_today.setdefault(t.client_id, []).append(
                f'"{t.excerpt[:40]}": {verdict.reason}'
            )
    exempt = {
        (e.client_id, e.day): e.reason
        for e in tx.scalars(
            select(Exemption).where(Exemption.client_id.in_(id_list(ids)), Exemption.day.in_(days))
        )
    }
    wins: dict[int, str] = {}
    for w in tx.scalars(
        select(Win)
        .where(Win.client_id.in_(id_list(ids)), Win.iso_week.in_(set(weeks.values())))
        .order_by(Win.created_at)
    ):
        if w.iso_week == weeks[w.client_id]:
            wins.setdefault(w.client_id, w.text)

    cards = []
    for c in clients:
        slot = latest[c.id]
        last_at = last.get(c.id)
        sentiment_at = slot.get("sentiment_at")
        cards.append(
            PulseCard(
                slug=c.slug,
                name=c.name,
                sentiment=Sentiment(str(slot["sentiment"])) if "sentiment" in slot else None,
                sentiment_at=(
                    local_date(sentiment_at, tzs[c.id]).isoformat()
                    if isinstance(sentiment_at, datetime)
                    else None
                ),
                hook=str(slot["hook"]) if "hook" in slot else None,
                update=str(slot["update"]) if "update" in slot else None,
                last_touchpoint_days=(
                    (today[c.id] - local_date(last_at, tzs[c.id])).days if last_at else None
                ),
                touched_today=c.id in counted_today,
                today_evidence=counted_today.get(c.id),
                today_ignored=ignored_today.get(c.id, []),
                exempt_today=exempt.get((c.id, today[c.id])),
                win_this_week=c.id in wins,
                win=wins.get(c.id),
            )
        )
    return cards


def _latest_pulse_fields() -> Select[Any]:
    """Per client of `:client_ids`, its latest sentiment (detected rows carry a hook only),
    latest hook and latest update: one statement that returns at most three rows a client,
    however long its history. Built once (`LATEST_PULSE_FIELDS`): building its subqueries took
    longer than running it."""
    p = Pulse
    client_ids: BindParameter[int] = bindparam("client_ids", expanding=True, literal_execute=True)
    fields = (
        ("sentiment", p.sentiment, p.source != "detected"),
        ("hook", p.hook, and_(p.hook.is_not(None), p.hook != "")),
        ("update", p.update, and_(p.update.is_not(None), p.update != "")),
    )
    parts = []
    for name, column, present in fields:
        newest = (
            func.row_number()
            .over(partition_by=p.client_id, order_by=(p.created_at.desc(), p.id.desc()))
            .label("newest")
        )
        ranked = (
            select(
                p.client_id.label("client_id"),
                literal(name, String).label("field"),
                column.label("value"),
                p.created_at.label("at"),
                newest,
            )
            .where(p.client_id.in_(client_ids), present)
            .subquery()
        )
        parts.append(
            select(ranked.c.client_id, ranked.c.field, ranked.c.value, ranked.c.at).where(
                ranked.c.newest == 1
            )
        )
    every = union_all(*parts).subquery()
    return select(every.c.client_id, every.c.field, every.c.value, every.c.at)


LATEST_PULSE_FIELDS = _latest_pulse_fields()
