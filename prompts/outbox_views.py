"""The outbox's messages: a batch of nudges as one Slack message, reorganised (never cut)
when it would pass Slack's limits, and the *See the full list* modal behind its button."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from prompts import blocks as bk

LIST_ACTION = "outbox_list_open"  # the button of a reorganised message: the full list
LIST_PAGE_ACTION = "outbox_list_page"
LIST_CALLBACK = "outbox_list"
LIST_PAGE_BLOCKS = 40  # blocks per page of the full list's modal (Slack: 100 a view)


class NudgeText(Protocol):
    """What rendering reads of a nudge (the outbox's records)."""

    @property
    def text(self) -> str: ...

    @property
    def blocks(self) -> list[Any] | None: ...


# -- Slack's limits in one message: reorganise, never cut ----------------------------------------
def overfull(blocks: Sequence[bk.Block]) -> bool:
    """Would Slack refuse these blocks, or did a section reach its limit (and get clipped)?"""
    if len(blocks) > bk.MAX_BLOCKS:
        return True
    for block in blocks:
        if block.get("type") != "section":
            continue
        if len(str((block.get("text") or {}).get("text", ""))) >= bk.MAX_SECTION_TEXT:
            return True
        if any(len(str(f.get("text", ""))) >= 2000 for f in block.get("fields") or []):
            return True
    return False


def pack(lines: Iterable[str], limit: int = bk.MAX_SECTION_TEXT - 1) -> list[tuple[str, int]]:
    """Lines joined into texts of at most `limit` characters, each with how many lines it
    holds. A line longer than the limit is split, never clipped."""
    out: list[tuple[str, int]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        pieces = [line[i : i + limit] for i in range(0, len(line), limit)] or [""]
        for piece in pieces:
            extra = len(piece) + (1 if current else 0)
            if current and size + extra > limit:
                out.append(("\n".join(current), len(current)))
                current, size = [], 0
                extra = len(piece)
            current.append(piece)
            size += extra
    if current:
        out.append(("\n".join(current), len(current)))
    return out


def list_button() -> bk.Block:
    return bk.actions(
        bk.button("See the full list", LIST_ACTION, "list", style="primary"),
        block_id="outbox-list",
    )


def summary_blocks(
    header: str,
    lines: Sequence[str],
    *,
    line_blocks: Sequence[bk.Block] | None = None,
    footer: Sequence[str] = (),
) -> list[bk.Block]:
    """A batched message too big for one Slack message, reorganised: a header, one line per
    client (`line_blocks` when they fit one block each, else `lines` packed into sections of
    under 3,000 characters) and a button that opens the full list. Nothing is cut: past a few
    hundred clients the last line says how many more are in the full list."""
    fixed = 2 + (1 if footer else 0)  # header, the button, the footer
    room = bk.MAX_BLOCKS - fixed
    if line_blocks is not None and len(line_blocks) <= room:
        body = list(line_blocks)
    else:
        packed = pack(lines)
        if len(packed) > room:
            kept = packed[: room - 1]
            rest = sum(n for _, n in packed[room - 1 :])
            packed = [*kept, (f"…and {rest} more — every one is in the full list.", rest)]
        body = [bk.section(text) for text, _ in packed]
    out = [bk.section(header), *body, list_button()]
    if footer:
        out.append(bk.context(*footer))
    return out


def default_lines(rows: Sequence[NudgeText]) -> list[str]:
    """The full list of nudges without a renderer of their own: each one's text, in full."""
    return [f"• {row.text}" for row in rows]


def default_batcher(rows: Sequence[NudgeText]) -> tuple[str, list[dict[str, Any]]]:
    if len(rows) == 1:
        return rows[0].text, list(rows[0].blocks or [bk.section(rows[0].text)])
    out: list[dict[str, Any]] = [
        bk.section(f"*{len(rows)} things are due* — one message, so your DMs stay quiet.")
    ]
    texts = []
    for row in rows:
        out.append(bk.divider())
        out.extend(row.blocks or [bk.section(row.text)])
        texts.append(row.text)
    text = "\n\n".join(texts)
    if not overfull(out):
        return text, out
    header = (
        f"*{len(rows)} things are due* — too many to show one by one, so here is one line "
        "each; *See the full list* has every one."
    )
    return text, summary_blocks(header, [f"• {bk.clip(r.text, 300)}" for r in rows])


def text_blocks(lines: Sequence[str]) -> list[bk.Block]:
    """Lines as sections of under 3,000 characters each (nothing clipped)."""
    return [bk.section(text) for text, _ in pack(lines)]


def list_view(
    blocks: Sequence[bk.Block], *, page: int, meta: dict[str, Any], title: str = "Everything due"
) -> dict[str, Any]:
    """The modal behind *See the full list*: every block, in pages (Slack allows 100 blocks a
    view), with Previous / Next."""
    items = list(blocks) or [bk.section("Nothing is due any more.")]
    pages = [items[i : i + LIST_PAGE_BLOCKS] for i in range(0, len(items), LIST_PAGE_BLOCKS)]
    page = max(0, min(page, len(pages) - 1))
    shown: list[bk.Block] = list(pages[page])
    if len(pages) > 1:
        nav = []
        if page > 0:
            nav.append(bk.button("‹ Previous", LIST_PAGE_ACTION, str(page - 1)))
        if page < len(pages) - 1:
            nav.append(bk.button("Next ›", LIST_PAGE_ACTION, str(page + 1)))
        shown.append(bk.context(f"Page {page + 1} of {len(pages)}"))
        shown.append(bk.actions(*nav, block_id="outbox-list-pages"))
    return {
        "type": "modal",
        "callback_id": LIST_CALLBACK,
        "title": {"type": "plain_text", "text": bk.clip(title, 24)},
        "close": {"type": "plain_text", "text": "Close"},
        "private_metadata": json.dumps({**meta, "page": page}),
        "blocks": shown,
    }
