"""Render the leadership digest: Slack messages within Block Kit's limits, Markdown, HTML.

All prose comes from `prompts/digest/*.j2`. A small organization gets one message; a larger
one gets a summary message and the per-CSO detail as thread replies, in CSO name order.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.digest import CsoDigest, Digest, Section, pct
from prompts import blocks as bk
from prompts.render import escape_mrkdwn, render

# Room for the reply's own context line; and a cap on a reply's total text, well under
# chat.postMessage's 40,000 characters.
REPLY_MAX_BLOCKS = bk.MAX_BLOCKS - 5
REPLY_MAX_CHARS = 12_000
LIST_LIMIT = 10
WIN_CHARS = 200


@dataclass
class SlackMessage:
    text: str
    blocks: list[bk.Block]


@dataclass
class DigestMessages:
    summary: SlackMessage
    replies: list[SlackMessage] = field(default_factory=list)

    @property
    def threaded(self) -> bool:
        return bool(self.replies)


def day(d: date) -> str:
    return d.strftime("%a %d %b")


def _fmt(fmt: str) -> dict[str, Any]:
    if fmt == "slack":
        return {
            "b": lambda t: f"*{t}*",
            "esc": escape_mrkdwn,
            "bullet": "•",
        }
    return {"b": lambda t: f"**{t}**", "esc": lambda t: str(t), "bullet": "-"}


def _common(fmt: str) -> dict[str, Any]:
    return {**_fmt(fmt), "pct": pct, "day": day, "win_chars": WIN_CHARS}


def _shrinking(make: Callable[[int], str], limit: int = bk.MAX_SECTION_TEXT) -> str:
    """Render with shorter lists until the text fits a section (never cut mid-sentence)."""
    for n in (LIST_LIMIT, 6, 3, 1):
        text = make(n)
        if len(text) <= limit:
            return text
    return bk.clip(make(1), limit)


def cso_text(c: CsoDigest, has_data: bool, fmt: str = "slack") -> str:
    ctx = _common(fmt)
    return _shrinking(lambda n: render("digest/cso.j2", c=c, has_data=has_data, limit=n, **ctx))


def section_text(s: Section, fmt: str = "slack") -> str:
    ctx = _common(fmt)
    return _shrinking(lambda n: render("digest/section.j2", s=s, limit=n + 2, **ctx))


def headline_text(d: Digest, *, threaded: bool, fmt: str = "slack") -> str:
    ctx = _common(fmt)
    return _shrinking(
        lambda n: render("digest/headline.j2", d=d, limit=n * 2, threaded=threaded, **ctx)
    )


def consistency_text(d: Digest, fmt: str = "slack") -> str:
    return render("digest/consistency.j2", d=d, **_common(fmt))


def fallback_text(d: Digest) -> str:
    return bk.fallback(render("digest/text.j2", d=d, pct=pct))


def _summary_blocks(d: Digest, *, threaded: bool) -> list[bk.Block]:
    out: list[bk.Block] = [
        bk.header(f"Leadership digest — {d.week}"),
        bk.section(headline_text(d, threaded=threaded)),
        bk.section(consistency_text(d)),
        bk.divider(),
    ]
    out += [bk.section(section_text(s)) for s in d.sections]
    out.append(bk.context(escape_mrkdwn(d.on_track_line)))
    return out


def slack_messages(d: Digest) -> DigestMessages:
    """One message if everything fits in 50 blocks; else a summary and thread replies."""
    cso_blocks = [bk.section(cso_text(c, d.has_data)) for c in d.csos]
    inline = [
        *_summary_blocks(d, threaded=False),
        bk.divider(),
        *cso_blocks,
        bk.context("The chart of the last weeks is in the thread."),
    ]
    if len(inline) <= bk.MAX_BLOCKS:
        return DigestMessages(summary=SlackMessage(fallback_text(d), inline))
    chunks: list[list[bk.Block]] = [[]]
    size = 0
    for block in cso_blocks:
        length = len(block["text"]["text"])
        if chunks[-1] and (len(chunks[-1]) >= REPLY_MAX_BLOCKS or size + length > REPLY_MAX_CHARS):
            chunks.append([])
            size = 0
        chunks[-1].append(block)
        size += length
    replies = []
    for i, chunk in enumerate(chunks, 1):
        first, last = _cso_name(chunk[0]), _cso_name(chunk[-1])
        title = f"Per-CSO detail, part {i} of {len(chunks)} — {d.week} ({first} … {last})"
        replies.append(SlackMessage(bk.fallback(title), [bk.context(title), *chunk]))
    summary = [
        *_summary_blocks(d, threaded=True),
        bk.context(
            f"Per-CSO detail for {len(d.csos)} CSOs follows in this thread "
            f"({len(replies)} replies, in name order), with the chart of the last weeks."
        ),
    ]
    return DigestMessages(SlackMessage(fallback_text(d), summary), replies)


def _cso_name(block: bk.Block) -> str:
    text = str(block["text"]["text"])
    return text.split("*")[1] if text.startswith("*") else text[:40]


def ephemeral(d: Digest) -> SlackMessage:
    """What /digest shows: the whole digest if it fits, else the summary and where the rest is."""
    summary = _summary_blocks(d, threaded=False)
    detail = [bk.divider(), *(bk.section(cso_text(c, d.has_data)) for c in d.csos)]
    if len(summary) + len(detail) <= bk.MAX_BLOCKS:
        return SlackMessage(fallback_text(d), summary + detail)
    note = bk.context(
        f"Per-CSO detail for {len(d.csos)} CSOs: the digest's thread in the leadership "
        f"channel, or `csobot digest --week {d.week} --format md`."
    )
    return SlackMessage(fallback_text(d), bk.fit([*summary, note]))


def markdown(d: Digest) -> str:
    return render("digest/digest.md.j2", d=d, limit=10_000, threaded=False, **_common("md")) + "\n"


def html(d: Digest, png: bytes) -> str:
    chart_b64 = base64.b64encode(png).decode("ascii")
    return (
        render(
            "digest/digest.html.j2",
            d=d,
            chart_b64=chart_b64,
            **_common("html"),
        )
        + "\n"
    )


def slack_payload(messages: DigestMessages) -> dict[str, Any]:
    """The messages as chat.postMessage would receive them (for --format slack)."""
    return {
        "summary": {"text": messages.summary.text, "blocks": messages.summary.blocks},
        "replies": [{"text": r.text, "blocks": r.blocks} for r in messages.replies],
    }
