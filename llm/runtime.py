"""The process's one LLM client and message classifier, built lazily from settings.

`deps.extras["llm_client"]` and `deps.extras["message_classifier"]` may be set beforehand (a
test, or another composition root) and are then used as they are.
"""

from __future__ import annotations

import threading

from domain.classify import MessageClassifier, RuleClassifier
from llm.classifier import LLMClassifier
from llm.client import LLMClient
from llm.guard import CircuitBreaker, GuardedLLM
from usecases.deps import Deps

_lock = threading.Lock()

# A message is classified in the model lane: never hold a thread for long.
MAX_CLASSIFY_TIMEOUT = 10.0


def llm_client(deps: Deps) -> LLMClient | GuardedLLM | None:
    """The configured LLM client behind its circuit breaker, or None when no LLM is
    configured."""
    settings = deps.settings
    if not settings.llm_enabled:
        return None
    with _lock:
        client = deps.extras.get("llm_client")
        if client is None:
            key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
            client = GuardedLLM(
                LLMClient(
                    api_key=key,
                    base_url=settings.openai_base_url,
                    model=settings.model,
                    timeout=min(settings.llm_timeout, MAX_CLASSIFY_TIMEOUT),
                    max_retries=0,
                ),
                CircuitBreaker(),
            )
            deps.extras["llm_client"] = client
    return client


def message_classifier(deps: Deps) -> MessageClassifier:
    """Rules always; the LLM (falling back to the rules on any failure) when configured."""
    existing = deps.extras.get("message_classifier")
    if existing is not None:
        return existing
    llm = llm_client(deps)
    with _lock:
        existing = deps.extras.get("message_classifier")
        if existing is None:
            rules = RuleClassifier()
            existing = LLMClassifier(llm, rules) if llm is not None else rules
            deps.extras["message_classifier"] = existing
    return existing
