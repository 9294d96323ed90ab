"""The configured model for an evaluation command's `--llm` (`eval-flags`, `eval-support`): the
settings' timeout and one retry, built in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.cli import UsageError
from bot.settings import Settings

if TYPE_CHECKING:
    from llm.client import LLMClient


def evaluation_model(settings: Settings) -> LLMClient:
    if not settings.llm_enabled:
        raise UsageError("--llm needs OPENAI_API_KEY or OPENAI_BASE_URL")
    from llm.client import LLMClient

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return LLMClient(
        api_key=key,
        base_url=settings.openai_base_url,
        model=settings.model,
        timeout=settings.llm_timeout,
        max_retries=1,
    )
