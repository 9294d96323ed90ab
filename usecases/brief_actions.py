"""Meeting briefs (docs/process.md, "Meeting briefs"): gather the facts of the week — touchpoints
and client asks, open flags, the board (done, in progress, blocked, slipped), pull requests
merged, health and its change, the Hook, and for the Triangle Sync the story-vs-board
mismatches — each with an id and a link; then the summary, drafted by the model when one is
configured and kept only where grounded in those facts, or from the template otherwise.

Reads only: one transaction, no writes; the board is the cached one (its freshness is said)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain import records
from domain.brief import Brief, BriefFacts, Fact, Meeting, Sentence, grounded
from domain.delivery import SOURCES
from domain.story import Mismatch
from llm.brief_writer import llm_summary
from llm.classifier import JsonCompleter
from prompts import brief_views
from prompts.story_views import mismatch_line, plain, state_line
from storage import brief_store, connector_store, health_store
from storage.db import Transaction
from storage.flag_store import open_flags, recent_questions
from usecases.story_actions import story_of

logger = logging.getLogger(__name__)

WEEK = timedelta(days=7)
MAX_PER_SECTION = 15


def _day(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%a %b %-d")


def _capped(out: BriefFacts, section: str, facts: list[Fact]) -> None:
    out.facts.extend(facts[:MAX_PER_SECTION])
    more = len(facts) - MAX_PER_SECTION
    if more > 0:
        out.notices.append(f"{more} more {section} not listed")


def gather(tx: Transaction, client: records.Client, meeting: Meeting, now: datetime) -> BriefFacts:
    cs = story_of(tx, client, now)
    tz, board = cs.tz, cs.board
    start = now - WEEK
    today = now.astimezone(tz).date()
    out = BriefFacts(client_name=client.name, meeting=meeting)

    latest = health_store.latest_snapshot(tx, client.id, today)
    if latest is not None:
        before = health_store.latest_snapshot(tx, client.id, today - timedelta(days=7))
        change = ""
        if before is not None and before.day != latest.day:
            delta = latest.score - before.score
            change = f" ({delta:+g} since {before.day:%b %-d}, {before.band.value})"
        out.facts.append(
            Fact(
                "health",
                "health",
                f"Health {latest.score:g} {latest.band.value} on {latest.day:%b %-d}{change}",
            )
        )
    hook = brief_store.latest_hook(tx, client.id)
    if hook is not None:
        out.facts.append(Fact("hook", "hook", f"The Hook: {hook[1]} ({_day(hook[2], tz)})"))

    tps = brief_store.touchpoints_between(tx, client.id, start, now)
    _capped(
        out,
        "touchpoints",
        [
            Fact(
                f"tp{t.id}",
                "touchpoints",
                f"{t.kind} {_day(t.occurred_at, tz)}: {t.excerpt or '(no excerpt)'}",
                t.link,
            )
            for t in reversed(tps)
        ],
    )
    asks = [q for q in recent_questions(tx, start) if q.client_id == client.id]
    _capped(
        out,
        "asks",
        [
            Fact(f"ask{n}", "asks", f"{_day(q.asked_at, tz)}: {q.excerpt}", q.permalink)
            for n, q in enumerate(asks, 1)
        ],
    )
    _capped(
        out,
        "flags",
        [
            Fact(f"flag{f.id}", "flags", f"{f.kind.replace('_', ' ')}: {f.excerpt}", f.permalink)
            for f in open_flags(tx, client.id)
        ],
    )

    issues = board.issues
    done = [i for i in issues if i.done and i.completed_at is not None and i.completed_at >= start]
    blocked = [i for i in issues if i.blocked and not i.done]
    slipped = [i for i in issues if i.overdue(today) and not i.blocked]
    progress = [
        i for i in issues if i.state_type == "started" and not i.blocked and not i.overdue(today)
    ]
    for section, items in (
        ("done", done),
        ("progress", progress),
        ("blocked", blocked),
        ("slipped", slipped),
    ):
        _capped(
            out,
            section,
            [
                Fact(
                    i.identifier,
                    section,  # type: ignore[arg-type]
                    f"{i.title} — {i.state}"
                    + (f", due {i.due:%b %-d}" if i.due else "")
                    + (f", {i.assignee}" if i.assignee else ""),
                    i.url,
                )
                for i in sorted(items, key=lambda i: (i.due or today, i.identifier))
            ],
        )
    merged = sorted(
        (p for p in board.pulls if p.merged_at is not None and p.merged_at >= start),
        key=lambda p: p.merged_at or now,
        reverse=True,
    )
    _capped(
        out,
        "pull requests merged",
        [
            Fact(p.ref, "merged", f"PR #{p.number} {p.title} merged {_day(p.merged_at, tz)}", p.url)
            for p in merged
            if p.merged_at is not None
        ],
    )
    if meeting == "triangle":
        _capped(
            out,
            "mismatches",
            [
                Fact(f"story{n}", "story", plain(mismatch_line(m, tz)), _story_link(m))
                for n, m in enumerate(cs.result.mismatches, 1)
            ],
        )

    configured = connector_store.sources_of(tx, client.id).configured()
    if not configured:
        out.notices.append(brief_views.NO_BOARD)
    for source in SOURCES:
        state = board.states.get(source)
        if source in configured and state is not None and state.failing:
            out.notices.insert(0, state_line(state, tz))
        elif source in configured and state is None:
            out.notices.append(brief_views.not_fetched(source))
    return out


def _story_link(m: Mismatch) -> str | None:
    """Where a mismatch is seen: what the client was told, else the board item."""
    if m.claim is not None and m.claim.line.link:
        return m.claim.line.link
    if m.issues and m.issues[0].url:
        return m.issues[0].url
    return m.milestone.url if m.milestone is not None else None


def template_summary(facts: BriefFacts) -> list[Sentence]:
    """The summary without a model: one sentence per part of the week that has facts."""
    out: list[Sentence] = []
    for f in facts.of("health"):
        out.append(Sentence(f"{f.text}.", (f.id,)))
    for section, label in (
        ("done", "Done this week"),
        ("merged", "Merged this week"),
        ("blocked", "Blocked"),
        ("slipped", "Past due"),
        ("asks", "Client questions"),
        ("flags", "Open flags"),
        ("story", "Story vs board"),
    ):
        items = facts.of(section)  # type: ignore[arg-type]
        if items:
            out.append(Sentence(f"{label}: {len(items)}.", tuple(f.id for f in items)))
    return out


def build(
    tx: Transaction,
    llm: JsonCompleter | None,
    client: records.Client,
    meeting: Meeting,
    now: datetime,
) -> Brief:
    facts = gather(tx, client, meeting, now)
    if llm is not None and facts.facts:
        try:
            sentences = llm_summary(llm, facts)
        except Exception as exc:  # the model failing never stops a brief
            logger.warning(
                "brief for %s: model draft failed (%s)",
                client.slug,
                type(exc).__name__,
                extra={"client": client.slug},
            )
        else:
            kept, dropped = grounded(sentences, facts.ids())
            if dropped:
                logger.info(
                    "brief for %s: %d ungrounded sentence(s) dropped", client.slug, len(dropped)
                )
            if kept:
                return Brief(facts, kept, "model", dropped)
    return Brief(facts, template_summary(facts), "template", [])
