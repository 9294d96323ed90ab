"""Secrets never reach a log line; Block Kit limits hold whatever the portfolio size."""

from __future__ import annotations

import logging

import pytest

from bot.logs import RedactingFilter
from domain.pulse import PulseCard, Sentiment
from prompts import blocks
from prompts.pulse_views import render_cards


def test_tokens_and_the_signing_secret_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("csobot.test.redaction")
    caplog.handler.addFilter(RedactingFilter(["s3cr3t-signing-value"]))
    logger.warning("calling with xoxb-1234567890-abcdef and secret s3cr3t-signing-value")
    logger.warning("app token %s", "xapp-1-A0-123456-abcdef")
    text = caplog.text
    assert "xoxb-1234567890" not in text and "xoxb-[redacted]" in text
    assert "s3cr3t-signing-value" not in text
    assert "xapp-1-A0" not in text


def test_pulse_for_a_huge_portfolio_stays_within_slack_limits() -> None:
    cards = [
        PulseCard(
            slug=f"c{i}",
            name=f"Client {i}" * 20,
            sentiment=Sentiment.HAPPY,
            hook="h" * 4000,
            update="u" * 4000,
        )
        for i in range(60)
    ]
    out, fallback = render_cards(cards, title="Partnership Pulse")
    assert len(out) <= blocks.MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= 3000 for b in out if b["type"] == "section")
    assert "more" in out[-1]["elements"][0]["text"]
    assert len(fallback) <= blocks.MAX_TEXT_FALLBACK
