"""The model's support reading, end to end against a local OpenAI-compatible server: it opens
what the rules missed and sets the severity it saw; a failure leaves the rules' request."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.settings import Settings
from storage.models import SupportRequestRow
from tests.conftest import NY, BotHarness, wait_until, with_model
from tests.llm_server import FakeLLMServer

AT = datetime(2026, 11, 24, 10, 0, tzinfo=NY)


@pytest.fixture
def settings(settings: Settings, llm: FakeLLMServer) -> Settings:
    return with_model(settings, llm)


def requests(bot: BotHarness) -> list[SupportRequestRow]:
    with bot.db.session() as s:
        return list(s.scalars(select(SupportRequestRow).order_by(SupportRequestRow.id)))


def support_label(label: str) -> Any:
    """The support prompt gets `label`; the flag prompt gets "none"."""

    def answer(body: dict[str, Any]) -> str:
        return label if "support request" in json.dumps(body) else "none"

    return answer


def support_prompts(llm: FakeLLMServer) -> int:
    return sum(1 for r in llm.requests if "support request" in json.dumps(r.body))


def test_the_model_opens_what_the_rules_missed(bot: BotHarness, llm: FakeLLMServer) -> None:
    llm.set(mode="label", label_for=support_label("normal"))
    bot.message("C0ACME", "U0EXT1", "Priya's figures have been funny since Tuesday's release", AT)
    [req] = wait_until(lambda: requests(bot))
    assert (req.source, req.severity, req.asker) == ("llm", "normal", "U0EXT1")
    # The client message is data: it sits JSON-encoded between the tags.
    [prompt] = [r for r in llm.requests if "support request" in json.dumps(r.body)]
    assert "<client_message>" in json.dumps(prompt.body)


def test_the_model_sets_the_severity_of_a_request_the_rules_opened(
    bot: BotHarness, llm: FakeLLMServer
) -> None:
    llm.set(mode="label", label_for=support_label("blocker"))
    bot.message("C0ACME", "U0EXT1", "How do I get into the finance tab? I can't see it", AT)
    wait_until(lambda: support_prompts(llm) == 1)
    bot.settle()
    [req] = wait_until(lambda: [r for r in requests(bot) if r.source == "llm"])
    assert req.severity == "blocker"


def test_a_model_failure_keeps_the_rules_request(bot: BotHarness, llm: FakeLLMServer) -> None:
    llm.set(mode="invalid_json")
    bot.message("C0ACME", "U0EXT1", "How do I export the churn report?", AT)
    wait_until(lambda: support_prompts(llm) >= 1)
    bot.settle()
    [req] = requests(bot)
    assert (req.source, req.severity) == ("rules", "question")
    bot.message("C0ACME", "U0EXT1", "Thanks, all good!", AT + timedelta(minutes=1))
    bot.settle()
    assert len(requests(bot)) == 1
