"""A meeting brief in Slack (docs/process.md, "Meeting briefs"): the summary with each
sentence's sources, every fact linked to its message, issue or pull request, the suggested
agenda and the decisions needed; within Slack's block limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.brief import (
    MEETING_TITLES,
    Brief,
    Fact,
    Meeting,
    Section,
    agenda,
    decisions,
)
from prompts import blocks as bk
from prompts.render import escape_mrkdwn
from prompts.story_views import SOURCE_NAMES, bk_chunks

NO_BOARD = "No Linear or GitHub board is configured (add `linear:` / `github:` to the client)"
SECTION_TITLES: dict[Section, str] = {
    "health": "Health",
    "hook": "The Hook",
    "touchpoints": "Last week's touchpoints",
    "asks": "Client asks",
    "flags": "Open flags",
    "done": "Done",
    "merged": "PRs merged",
    "progress": "In progress",
    "blocked": "Blocked",
    "slipped": "Slipped (past due)",
    "story": "Story vs board",
    "sources": "Sources",
}


def not_fetched(source: str) -> str:
    return f"{SOURCE_NAMES.get(source, source)} not fetched yet"


def ref(fact: Fact) -> str:
    label = escape_mrkdwn(fact.id)
    return f"<{fact.link}|{label}>" if fact.link else label


def fact_line(fact: Fact) -> str:
    return f"• {ref(fact)} {escape_mrkdwn(fact.text)}"


def _sources(ids: Sequence[str], by_id: dict[str, Fact]) -> str:
    return ", ".join(ref(by_id[i]) if i in by_id else escape_mrkdwn(i) for i in ids)


def brief_text(brief: Brief) -> str:
    """The whole brief as mrkdwn (also the notification text)."""
    f = brief.facts
    by_id = f.by_id()
    title = MEETING_TITLES[f.meeting]
    lines = [f"*Brief: {escape_mrkdwn(f.client_name)} — {title}*"]
    for notice in f.notices:
        lines.append(f"_{escape_mrkdwn(notice)}_")
    who = (
        "drafted by the model from the facts below"
        if brief.drafted_by == "model"
        else "from the record"
    )
    lines.append(f"\n*Summary* ({who})")
    if brief.summary:
        for s in brief.summary:
            lines.append(f"• {escape_mrkdwn(s.text)} ({_sources(s.ids, by_id)})")
    else:
        lines.append("• Nothing was recorded this week.")
    for section, heading in SECTION_TITLES.items():
        items = f.of(section)
        if items:
            lines.append(f"\n*{heading}*")
            lines.extend(fact_line(x) for x in items)
    plan = agenda(f)
    lines.append("\n*Suggested agenda*")
    if plan:
        lines.extend(
            f"{n}. {text} ({_sources(ids, by_id)})" for n, (text, ids) in enumerate(plan, 1)
        )
    else:
        lines.append("1. Review the week together (nothing on the record stands out).")
    needed = decisions(f)
    if needed:
        lines.append("\n*Decisions needed*")
        lines.extend(f"• {text} ({_sources(ids, by_id)})" for text, ids in needed)
    return "\n".join(lines)


def brief_blocks(brief: Brief) -> tuple[str, list[bk.Block]]:
    text = brief_text(brief)
    chunks = bk_chunks(text)
    blocks = [bk.section(c) for c in chunks[:49]]
    fallback = f"Brief: {brief.facts.client_name} — {MEETING_TITLES[brief.facts.meeting]}"
    return fallback, blocks


def brief_why(meeting: Meeting, at: datetime) -> bk.Block:
    """The footer of an automatic brief: why it came, and how to tune the DMs."""
    when = "with Friday's preparation" if meeting == "weekly" else f"before the {at:%H:%M} sync"
    return bk.context(
        f"Why: the {MEETING_TITLES[meeting]} is prepared from the record ({when}).",
        "Tune it: `/cso prefs`.",
    )
