"""One configured OpenAI-compatible client with a short timeout, asking for validated JSON.

The openai client defaults to a 600 s timeout and 2 retries, which would hold a worker for
minutes when the model is slow or down; here a call is bounded by `timeout * (max_retries + 1)`
plus back-off, and every failure surfaces as `LLMError` so callers can fall back.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 8.0
DEFAULT_MAX_RETRIES = 1

M = TypeVar("M", bound=BaseModel)

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class LLMError(Exception):
    """The model could not give a valid answer: timeout, HTTP error, bad JSON, bad schema."""


class LLMClient:
    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str = DEFAULT_MODEL,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_tokens: int = 300,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens
        # A local OpenAI-compatible server needs no key, but the client insists on one.
        import openai  # loaded only when a model is configured (its client weighs ~15 MB)

        self._client = openai.OpenAI(
            api_key=api_key or "unused",
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )

    def close(self) -> None:
        self._client.close()

    def complete_json(self, system: str, user: str, schema_model: type[M]) -> M:
        """Ask for one JSON object and validate it as `schema_model`; LLMError on any failure."""
        import openai

        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                response_format={"type": "json_object"},
                temperature=0,
                max_tokens=self.max_tokens,
            )
        except openai.APITimeoutError as exc:
            raise LLMError(f"LLM timed out after {self.timeout:g}s") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"LLM returned HTTP {exc.status_code}") from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"LLM connection failed: {exc}") from exc
        except Exception as exc:  # anything else from the client is still an LLM failure
            raise LLMError(f"LLM call failed: {type(exc).__name__}: {exc}") from exc

        try:
            content = response.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as exc:
            raise LLMError("LLM response has no message") from exc
        if not content:
            raise LLMError("LLM response is empty")
        fenced = _FENCE.match(content)
        if fenced:
            content = fenced.group(1)
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            raise LLMError(f"LLM response is not JSON: {content[:80]!r}") from exc
        if not isinstance(data, dict):
            raise LLMError("LLM response is not a JSON object")
        try:
            return schema_model.model_validate(data)
        except ValidationError as exc:
            raise LLMError(f"LLM response does not match {schema_model.__name__}: {exc}") from exc
