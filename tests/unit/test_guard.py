"""The model's circuit breaker: repeated failures mean rules only for a cool-down, then a trial."""

from __future__ import annotations

import logging

import pytest
from pydantic import BaseModel

from llm.client import LLMError
from llm.guard import CircuitBreaker, GuardedLLM


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Answer(BaseModel):
    label: str


class Model:
    """Stands in for the OpenAI client only here, to count calls; the real client is
    exercised against the local server in tests/integration."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = True
        self.model = "m"

    def complete_json(self, system: str, user: str, schema_model: type[Answer]) -> Answer:
        self.calls += 1
        if self.fail:
            raise LLMError("LLM timed out after 8s")
        return schema_model(label="none")

    def close(self) -> None:
        pass


def test_three_failures_open_it_once_logged_then_a_trial_closes_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, model = Clock(), Model()
    guarded = GuardedLLM(model, CircuitBreaker(3, 60.0, clock))  # type: ignore[arg-type]
    caplog.set_level(logging.INFO, logger="llm.guard")
    for _ in range(3):
        with pytest.raises(LLMError, match="timed out"):
            guarded.complete_json("s", "u", Answer)
    assert guarded.breaker.is_open
    for _ in range(10):  # resting: no call reaches the model
        with pytest.raises(LLMError, match="resting"):
            guarded.complete_json("s", "u", Answer)
    assert model.calls == 3
    assert [r.levelname for r in caplog.records] == ["ERROR"]  # logged once
    clock.t = 61.0
    model.fail = False
    assert guarded.complete_json("s", "u", Answer).label == "none"
    assert not guarded.breaker.is_open and model.calls == 4
    assert "answers again" in caplog.records[-1].message


def test_a_failed_trial_rests_again_for_a_whole_cool_down() -> None:
    clock, model = Clock(), Model()
    guarded = GuardedLLM(model, CircuitBreaker(2, 30.0, clock))  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(LLMError):
            guarded.complete_json("s", "u", Answer)
    clock.t = 31.0
    with pytest.raises(LLMError, match="timed out"):  # the one trial call
        guarded.complete_json("s", "u", Answer)
    with pytest.raises(LLMError, match="resting"):
        guarded.complete_json("s", "u", Answer)
    clock.t = 60.0
    with pytest.raises(LLMError, match="resting"):  # 31 + 30 not reached yet
        guarded.complete_json("s", "u", Answer)
    assert model.calls == 3
