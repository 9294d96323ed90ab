"""The process's one LLM client and message classifier, built once by the composition root
(bot/runtime.py) from its settings and handed to every listener and job in `deps.llm` and
`deps.classifier`."""

from __future__ import annotations

from domain.classify import MessageClassifier, RuleClassifier
from llm.classifier import LLMClassifier
from llm.client import LLMClient
from llm.guard import CircuitBreaker, GuardedLLM

# A message is classified in the model lane: never hold a thread for long.
MAX_CLASSIFY_TIMEOUT = 10.0

Model = LLMClient | GuardedLLM


def build_llm(
    *, api_key: str | None, base_url: str | None, model: str, timeout: float
) -> GuardedLLM:
    """The configured LLM client behind its circuit breaker: one call bounded by the timeout,
    no retry."""
    return GuardedLLM(
        LLMClient(
            api_key=api_key,
            base_url=base_url,
            model=model,
            timeout=min(timeout, MAX_CLASSIFY_TIMEOUT),
            max_retries=0,
        ),
        CircuitBreaker(),
    )


def build_classifier(llm: Model | None) -> MessageClassifier:
    """Rules always; the LLM (falling back to the rules on any failure) when configured."""
    rules = RuleClassifier()
    return LLMClassifier(llm, rules) if llm is not None else rules
