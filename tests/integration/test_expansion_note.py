"""The Expansion Value Pipeline note to leadership over signed requests: `/expansion acme note`
opens the draft (the template without a model; the model's from the client's signals when
configured), the CSO edits it, and it goes to the leadership channel through the outbox."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.settings import Settings
from scheduling.engine import tick
from tests.conftest import BotHarness, with_model
from tests.integration.test_cadence_buttons import submit
from tests.llm_server import FakeLLMServer

EDITED = (
    "Expansion opportunity — Acme Corp\nWhat we could offer: MCP-based analytics for EMEA.\n"
    "How: a 6-week pilot.\nValue to Acme Corp: one source of truth.\nValue to us: 30k ARR."
)


def _deliver(bot: BotHarness) -> None:
    web = bot.web
    assert isinstance(web, WebClient)
    assert tick(bot.deps, web, bot.clock.now().astimezone(UTC), bot.jobs).errors == {}


def _note_block(view: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == "note")


def test_note_from_the_template_edited_and_posted_to_leadership(bot: BotHarness) -> None:
    bot.command("/pulse", "acme curious hook: asking about MCPs for EMEA")
    bot.wait_response()
    bot.command("/expansion", "acme note")
    [opened] = bot.emulator.wait_for("views.open")
    view = opened["view"]
    draft = _note_block(view)["element"]["initial_value"]
    assert draft.startswith("Expansion opportunity — Acme Corp\nWhat we could offer:")
    assert "Signals: asking about MCPs for EMEA" in draft
    status, _ = submit(bot, view, {"note": {"value": {"value": EDITED}}})
    assert status == 200
    bot.settle()
    [told] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0CSO1"]
    assert "goes to <#C0LEAD> now" in str(told["text"])
    _deliver(bot)
    [post] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "C0LEAD"]
    assert "MCP-based analytics for EMEA" in str(post["text"])
    assert all(c["channel"] != "C0ACME" for c in bot.emulator.calls("chat.postMessage"))


def test_another_clients_cso_cannot_post_the_note(bot: BotHarness) -> None:
    view = {"type": "modal", "callback_id": "expansion_note_modal",
            "private_metadata": json.dumps({"slug": "acme", "key": "k1"})}  # fmt: skip
    submit(bot, view, {"note": {"value": {"value": EDITED}}}, user="U0CSO2")
    bot.settle()
    [told] = [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "U0CSO2"]
    assert str(told["text"]).startswith("Sorry — only Acme Corp's team")
    _deliver(bot)
    assert [c for c in bot.emulator.calls("chat.postMessage") if c["channel"] == "C0LEAD"] == []


class TestWithAModel:
    @pytest.fixture
    def settings(self, settings: Settings, llm: FakeLLMServer) -> Settings:
        return with_model(settings, llm)

    def test_the_model_drafts_the_note_from_the_signals(
        self, bot: BotHarness, llm: FakeLLMServer
    ) -> None:
        bot.command("/pulse", "acme curious hook: asking about MCPs for EMEA")
        bot.wait_response()
        llm.set(mode="raw", content=json.dumps({
            "offer": "An MCP layer over their warehouse for the EMEA team.",
            "how": "A six-week pilot with their analysts.",
            "value_to_client": "EMEA answers its own questions.",
            "value_to_us": "A second workstream and a reference.",
        }))  # fmt: skip
        bot.command("/expansion", "acme note")
        [opened] = bot.emulator.wait_for("views.open")
        assert "Drafting" in json.dumps(opened["view"])
        [updated] = bot.emulator.wait_for("views.update", timeout=10)
        text = _note_block(updated["view"])["element"]["initial_value"]
        assert "What we could offer: An MCP layer over their warehouse" in text
        assert "Value to us: A second workstream" in text
        assert "Drafted by the model" in json.dumps(updated["view"])
        prompt = next(
            m["content"] for m in llm.requests[-1].body["messages"] if m["role"] == "user"
        )
        assert "asking about MCPs for EMEA" in prompt
