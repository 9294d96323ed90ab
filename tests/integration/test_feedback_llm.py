"""The model clusters product feedback when configured: three accounts asking for the same
thing in different words make one theme and one product post; a model failure falls back to
the keywords."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.settings import Settings
from scheduling import support_jobs
from storage.models import FeedbackItemRow, Organization
from tests.conftest import NY, BotHarness, with_model
from tests.integration.flag_helpers import posts
from tests.llm_server import FakeLLMServer
from usecases.outbox import deliver_due

AT = datetime(2026, 11, 24, 11, 0, tzinfo=NY)
ASKS = [
    ("C0ACME", "U0EXT1", "It would be great to have a night theme"),
    ("C0GLOBEX", "U0EXT2", "Any plans to support a darker colour scheme?"),
    ("C0INITECH", "U0EXT3", "Feature request: dark mode for the portal"),
]


@pytest.fixture
def settings(settings: Settings, llm: FakeLLMServer) -> Settings:
    return with_model(settings, llm)


def same_theme(body: dict[str, Any]) -> str:
    """The clustering prompt: everything is the first theme; every other prompt: none."""
    text = json.dumps(body)
    return "night theme" if "<feedback>" in text else "none"


def tick(bot: BotHarness, at: datetime) -> int:
    for _name, enqueue in support_jobs.ENQUEUERS:
        enqueue(bot.deps, at)
    web: WebClient = bot.web
    return sum(len(d.keys) for d in deliver_due(bot.db, web, at) if d.ok)


def ask_all(bot: BotHarness) -> None:
    with bot.db.transaction() as s:
        org = s.get(Organization, 1)
        assert org is not None
        org.settings = {"support": {"product_channel": "C0PRODUCT"}}
    for n, (channel, user, text) in enumerate(ASKS):
        bot.message(channel, user, text, AT + timedelta(minutes=n))
        bot.settle()  # one after the other: the first theme is the first account's


def themes(bot: BotHarness) -> list[str]:
    with bot.db.session() as s:
        return [i.theme for i in s.scalars(select(FeedbackItemRow).order_by(FeedbackItemRow.id))]


def test_the_model_puts_different_words_in_one_theme(bot: BotHarness, llm: FakeLLMServer) -> None:
    llm.set(mode="label", label_for=same_theme)
    ask_all(bot)
    assert tick(bot, AT + timedelta(minutes=5)) == 1
    assert themes(bot) == ["night theme"] * 3
    [post] = posts(bot, "C0PRODUCT")
    assert "Product feedback: night theme" in post["text"] and "3 accounts" in post["text"]


def test_without_the_model_the_keywords_decide(bot: BotHarness, llm: FakeLLMServer) -> None:
    llm.set(mode="error", status=500)
    ask_all(bot)
    assert tick(bot, AT + timedelta(minutes=5)) == 0
    assert themes(bot) == ["night theme", "darker colour scheme", "dark mode portal"]
