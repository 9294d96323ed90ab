"""Real Slack payload shapes parse at the edge into our pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from handlers.common import MessageEvent, ViewSubmission

FIXTURES = Path(__file__).parent.parent / "fixtures"


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((FIXTURES / name).read_text())


def test_thread_reply_is_a_person_speaking() -> None:
    msg = MessageEvent.model_validate(load("message_thread_reply.json"))
    assert msg.is_person_speaking()
    assert msg.thread_ts == "1763650000.000100" and msg.user == "U0CSO1"


def test_message_changed_is_not_a_person_speaking() -> None:
    msg = MessageEvent.model_validate(load("message_changed.json"))
    assert not msg.is_person_speaking()


def test_view_submission_values_are_read_by_block_id() -> None:
    sub = ViewSubmission.model_validate(load("view_submission_touchpoint.json"))
    assert sub.user.id == "U0CSO1"
    assert (sub.value("client"), sub.value("kind"), sub.value("day")) == (
        "globex",
        "call",
        "2026-11-19",
    )
    assert sub.value("note") == "Weekly check-in call"
    assert sub.value("link") is None
