"""The LLM writer of the expansion note to leadership; callers fall back to the template."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.expansion import NoteFacts
from llm.classifier import JsonCompleter
from prompts.render import render

SYSTEM_PROMPT = (
    "You help a Customer Success Owner at a data and analytics consultancy tell leadership "
    "about an expansion opportunity. Reply with a single JSON object and nothing else."
)
MAX_FIELD = 400


class NoteAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    offer: str = Field(min_length=1)
    how: str = Field(min_length=1)
    value_to_client: str = Field(min_length=1)
    value_to_us: str = Field(min_length=1)


def llm_note(llm: JsonCompleter, facts: NoteFacts) -> str:
    """The note: what we could offer, how, the value to both sides; an error on failure."""
    prompt = render("expansion_note.j2", facts=facts)
    answer = llm.complete_json(SYSTEM_PROMPT, prompt, NoteAnswer)

    def clean(value: str) -> str:
        return " ".join(value.split())[:MAX_FIELD]

    return (
        f"Expansion opportunity — {facts.client_name}\n"
        f"What we could offer: {clean(answer.offer)}\n"
        f"How: {clean(answer.how)}\n"
        f"Value to {facts.client_name}: {clean(answer.value_to_client)}\n"
        f"Value to us: {clean(answer.value_to_us)}"
    )
