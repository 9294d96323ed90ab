"""How /pulse answers: the stand-up cards (Block Kit and plain text) and its short replies."""

from __future__ import annotations

from domain.pulse import SENTIMENT_EMOJI, PulseCard, PulseUpdate
from prompts import blocks
from prompts.render import render

TITLE = "Partnership Pulse"


def pulse_title(shared_by: str | None = None) -> str:
    """The cards' header; a shared post says whose clients they are."""
    return TITLE + (f" — {shared_by}" if shared_by else "")


def render_cards(cards: list[PulseCard], *, title: str) -> tuple[list[blocks.Block], str]:
    """(blocks, plain-text fallback) of the cards, within Slack's limits."""
    out: list[blocks.Block] = [blocks.header(title)]
    for card in cards:
        emoji = SENTIMENT_EMOJI.get(card.sentiment, "") if card.sentiment else ""
        out.append(blocks.section(render("messages/pulse_card.j2", card=card, emoji=emoji)))
        out.append(blocks.context(render("messages/pulse_card_context.j2", card=card)))
    text = title + "\n" + render("messages/pulse_text.j2", cards=cards)
    return blocks.fit(out), blocks.fallback(text)


def pulse_recorded(name: str, update: PulseUpdate) -> str:
    return render("messages/pulse_recorded.j2", name=name, update=update)


def no_clients() -> str:
    return render("messages/pulse_no_clients.j2")


def share_refused() -> str:
    return render("messages/pulse_share_refused.j2")


def post_failed(reason: str) -> str:
    return render("messages/post_failed.j2", reason=reason)
