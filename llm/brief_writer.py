"""The model's draft of a meeting brief's summary (docs/process.md, "Meeting briefs"), grounded
in the gathered facts: the caller keeps only the sentences whose ids are all among them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.brief import MEETING_TITLES, BriefFacts, Sentence
from llm.classifier import JsonCompleter
from prompts.render import render

SYSTEM_PROMPT = (
    "You summarise facts for a Customer Success Owner's meeting brief, citing the id of every "
    "fact you use. Reply with a single JSON object and nothing else."
)
MAX_SENTENCES = 8
MAX_CHARS = 400


class SentenceAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1)
    ids: list[str] = Field(default_factory=list)


class BriefAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sentences: list[SentenceAnswer] = Field(min_length=1)


def render_prompt(facts: BriefFacts) -> str:
    return render(
        "brief.j2",
        meeting_title=MEETING_TITLES[facts.meeting],
        client_name=facts.client_name,
        facts=facts.facts,
        notices=facts.notices,
    )


def llm_summary(llm: JsonCompleter, facts: BriefFacts) -> list[Sentence]:
    """The model's sentences, clipped (not yet grounded); any error propagates."""
    answer = llm.complete_json(SYSTEM_PROMPT, render_prompt(facts), BriefAnswer)
    return [
        Sentence(" ".join(s.text.split())[:MAX_CHARS], tuple(str(i).strip() for i in s.ids))
        for s in answer.sentences[:MAX_SENTENCES]
    ]
