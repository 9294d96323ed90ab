"""The model's opening summary of a QBR/EBR
(docs/process.md, "QBR/EBR and the Value Realization Audit"), grounded like a brief: the
caller keeps only the sentences whose cited ids are all among the facts."""

from __future__ import annotations

from domain.brief import BriefFacts, Sentence
from llm.brief_writer import MAX_CHARS, MAX_SENTENCES, BriefAnswer
from llm.classifier import JsonCompleter
from prompts.render import render

SYSTEM_PROMPT = (
    "You summarise a client's quarter for a Customer Success Owner's business review, citing "
    "the id of every fact you use. Reply with a single JSON object and nothing else."
)


def llm_narrative(llm: JsonCompleter, facts: BriefFacts, quarter: str) -> list[Sentence]:
    prompt = render(
        "qbr_narrative.j2", quarter=quarter, client_name=facts.client_name, facts=facts.facts
    )
    answer = llm.complete_json(SYSTEM_PROMPT, prompt, BriefAnswer)
    return [
        Sentence(" ".join(s.text.split())[:MAX_CHARS], tuple(str(i).strip() for i in s.ids))
        for s in answer.sentences[:MAX_SENTENCES]
    ]
