"""The LLM writer of client update drafts; callers fall back to the template.

Only four strings leave the model, each clipped, and the draft is linted like any other before
the CSO can send it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.client_update import UpdateFacts
from llm.classifier import JsonCompleter
from prompts.render import render

SYSTEM_PROMPT = (
    "You draft client status updates for a data and analytics consultancy's Customer Success"
    " Owner. Reply with a single JSON object and nothing else."
)
MAX_FIELD = 400


class DraftAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: str = Field(min_length=1)
    risks: str = Field(min_length=1)
    asks: str = Field(min_length=1)
    next: str = Field(min_length=1)


def render_prompt(facts: UpdateFacts) -> str:
    return render("client_update.j2", facts=facts, payload=facts.model_dump(mode="json"))


def llm_draft(llm: JsonCompleter, facts: UpdateFacts) -> str:
    """The draft in the Status / Risks / Asks / Next frame; LLMError (or any error) on failure."""
    answer = llm.complete_json(SYSTEM_PROMPT, render_prompt(facts), DraftAnswer)

    def clean(value: str) -> str:
        return " ".join(value.split())[:MAX_FIELD]

    return (
        f"Status: {clean(answer.status)}\n"
        f"Risks: {clean(answer.risks)}\n"
        f"Asks: {clean(answer.asks)}\n"
        f"Next: {clean(answer.next)}"
    )
