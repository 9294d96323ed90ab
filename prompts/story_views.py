"""Story vs board in words (docs/process.md, "Story vs board"): one line per mismatch with its
links, the CSO's nudge, the /health section, and how fresh the board is."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo

from domain.delivery import FetchState, Issue, PullRequest
from domain.records import Client
from domain.story import Mismatch
from prompts import blocks as bk
from prompts.render import escape_mrkdwn, plural

SOURCE_NAMES = {"linear": "Linear", "github": "GitHub"}
SAID = {"update": "an update", "win": "the win", "pulse": "the pulse", "message": "a message"}
MAX_LINES = 12


def _link(url: str | None, text: str) -> str:
    text = escape_mrkdwn(text)
    return f"<{url}|{text}>" if url else text


def plain(line: str) -> str:
    """A rendered line without Slack's link markup and escapes (a fact's text)."""
    line = re.sub(r"<[^|<>]+\|([^<>]+)>", r"\1", line)
    return line.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def issue_ref(i: Issue) -> str:
    return f"{_link(i.url, i.identifier)} is still {escape_mrkdwn(i.state or 'open')}"


def pull_ref(p: PullRequest) -> str:
    return f"{_link(p.url, f'PR #{p.number}')} unmerged"


def _when(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%a %b %-d")


def mismatch_line(m: Mismatch, tz: tzinfo) -> str:
    """ "Told the client "the attribution model shipped" (an update, Tue Nov 17); LIN-142 is
    still In Review, PR #88 unmerged." """
    items = ", ".join([issue_ref(i) for i in m.issues[:4]] + [pull_ref(p) for p in m.pulls[:3]])
    if m.claim is not None:
        line = m.claim.line
        said = _link(line.link, SAID.get(line.source, line.source))
        quote = escape_mrkdwn(line.text.strip()[:140])
        word = "done" if m.kind == "told_done" else "on track"
        head = f"Told the client it is {word}: “{quote}” ({said}, {_when(line.at, tz)})"
        if m.kind == "told_on_track" and m.milestone is not None and m.milestone.target:
            name = escape_mrkdwn(m.milestone.name)
            return f"{head}; {name} was due {m.milestone.target:%b %-d}: {items}."
        if m.kind == "told_on_track":
            dues = ", ".join(f"{i.identifier} due {i.due:%b %-d}" for i in m.issues if i.due)
            return f"{head}; past due: {dues}. {items}."
        return f"{head}; {items}."
    if m.kind == "blocked_unmentioned":
        i = m.issues[0]
        title = escape_mrkdwn(i.title)
        return f"{_link(i.url, i.identifier)} {title} is blocked and the client was not told."
    if m.kind == "milestone_slipped" and m.milestone is not None:
        due = f"{m.milestone.target:%b %-d}" if m.milestone.target else "its date"
        return (
            f"Milestone {_link(m.milestone.url, m.milestone.name)} passed {due} with "
            f"{plural(len(m.issues), 'issue')} open "
            f"({', '.join(i.identifier for i in m.issues[:5])}); "
            "the client was not told."
        )
    if m.kind == "milestone_name" and m.milestone is not None:
        return (
            f"Milestone “{escape_mrkdwn(m.milestone.name)}” means nothing to the client: name it "
            "after what they get."
        )
    return escape_mrkdwn(m.key)


def state_line(state: FetchState, tz: tzinfo) -> str:
    name = SOURCE_NAMES.get(state.source, state.source)
    if state.failing_since is not None:
        cached = (
            f"; showing the board fetched {state.fetched_at.astimezone(tz):%a %H:%M}"
            if state.fetched_at
            else "; nothing cached yet"
        )
        return f"{name} unreachable since {state.failing_since.astimezone(tz):%H:%M}{cached}"
    if state.fetched_at is None:
        return f"{name} not fetched yet"
    return f"{name} fetched {state.fetched_at.astimezone(tz):%a %H:%M}"


def freshness(states: dict[str, FetchState], tz: tzinfo) -> str:
    return " · ".join(state_line(s, tz) for s in states.values())


def mismatch_nudge(m: Mismatch, client: Client, tz: tzinfo) -> tuple[str, list[bk.Block]]:
    text = (
        f"Story vs board for {escape_mrkdwn(client.name)}: {mismatch_line(m, tz)}\n"
        '_Set the board or the story right (docs/process.md, "Story vs board")._'
    )
    return text, [bk.section(text)]


def health_section(
    mismatches: Sequence[Mismatch], states: dict[str, FetchState], tz: tzinfo
) -> list[bk.Block]:
    """The /health breakdown's "Story vs board" part (nothing when no board is configured)."""
    if not states:
        return []
    if mismatches:
        lines = [f"• {mismatch_line(m, tz)}" for m in mismatches[:MAX_LINES]]
        more = len(mismatches) - MAX_LINES
        if more > 0:
            lines.append(f"…and {more} more (`/brief` lists them all).")
        body = f"*Story vs board* ({len(mismatches)})\n" + "\n".join(lines)
    else:
        body = "*Story vs board*: the board matches what the client was told."
    return [
        bk.divider(),
        *[bk.section(chunk) for chunk in bk_chunks(body)],
        bk.context(freshness(states, tz)),
    ]


def bk_chunks(text: str, limit: int = 2900) -> list[str]:
    """Split at line ends so that no section passes Slack's 3,000 characters."""
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = line[:limit]
        else:
            current = f"{current}\n{line}" if current else line[:limit]
    if current:
        out.append(current)
    return out
