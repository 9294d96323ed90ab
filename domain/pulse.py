"""The stand-up Partnership Pulse (docs/process.md, "Partnership Pulse"): sentiment, the Hook,
external updates."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.commands import CommandError, split_words, suggest


class Sentiment(StrEnum):
    THRILLED = "thrilled"
    HAPPY = "happy"
    NEUTRAL = "neutral"
    CURIOUS = "curious"
    ANXIOUS = "anxious"
    FRUSTRATED = "frustrated"
    AT_RISK = "at-risk"


SENTIMENT_EMOJI = {
    Sentiment.THRILLED: ":star-struck:",
    Sentiment.HAPPY: ":slightly_smiling_face:",
    Sentiment.NEUTRAL: ":neutral_face:",
    Sentiment.CURIOUS: ":thinking_face:",
    Sentiment.ANXIOUS: ":grimacing:",
    Sentiment.FRUSTRATED: ":face_with_symbols_on_mouth:",
    Sentiment.AT_RISK: ":rotating_light:",
}

SYNONYMS: dict[str, Sentiment] = {
    **{s.value: s for s in Sentiment},
    "delighted": Sentiment.THRILLED,
    "ecstatic": Sentiment.THRILLED,
    "excited": Sentiment.THRILLED,
    "elated": Sentiment.THRILLED,
    "great": Sentiment.HAPPY,
    "good": Sentiment.HAPPY,
    "pleased": Sentiment.HAPPY,
    "satisfied": Sentiment.HAPPY,
    "content": Sentiment.HAPPY,
    "positive": Sentiment.HAPPY,
    "ok": Sentiment.NEUTRAL,
    "okay": Sentiment.NEUTRAL,
    "fine": Sentiment.NEUTRAL,
    "meh": Sentiment.NEUTRAL,
    "steady": Sentiment.NEUTRAL,
    "stable": Sentiment.NEUTRAL,
    "interested": Sentiment.CURIOUS,
    "intrigued": Sentiment.CURIOUS,
    "exploring": Sentiment.CURIOUS,
    "worried": Sentiment.ANXIOUS,
    "nervous": Sentiment.ANXIOUS,
    "concerned": Sentiment.ANXIOUS,
    "uneasy": Sentiment.ANXIOUS,
    "stressed": Sentiment.ANXIOUS,
    "annoyed": Sentiment.FRUSTRATED,
    "upset": Sentiment.FRUSTRATED,
    "unhappy": Sentiment.FRUSTRATED,
    "angry": Sentiment.FRUSTRATED,
    "irritated": Sentiment.FRUSTRATED,
    "atrisk": Sentiment.AT_RISK,
    "at_risk": Sentiment.AT_RISK,
    "churning": Sentiment.AT_RISK,
    "critical": Sentiment.AT_RISK,
    "red": Sentiment.AT_RISK,
}

PULSE_USAGE = (
    "Usage: `/pulse` for your clients' cards, `/pulse share` to post them here for stand-up, "
    "or `/pulse acme anxious hook: asking about MCPs | update: sent new analytics report` "
    "(sentiments: " + ", ".join(s.value for s in Sentiment) + ")."
)


class PulseUpdate(BaseModel):
    slug: str
    sentiment: Sentiment
    hook: str | None = None
    update: str | None = None
    note: str | None = None


_FIELD = re.compile(r"^\s*(hook|update|note)\s*:\s*(.*)$", re.IGNORECASE | re.DOTALL)


def parse_sentiment(word: str) -> Sentiment:
    key = word.lower().strip(" .!,:;")
    if key in SYNONYMS:
        return SYNONYMS[key]
    guess = suggest(key, SYNONYMS)
    hint = f" — did you mean {SYNONYMS[guess].value}?" if guess else ""
    choices = ", ".join(s.value for s in Sentiment)
    raise CommandError(f'Unknown sentiment "{word}"{hint} Pick one of: {choices}.')


def parse_pulse_update(text: str) -> PulseUpdate:
    text = text.strip()
    # Split "<slug> <sentiment> [hook: ...] | [update: ...]" into the head and the fields.
    m = re.match(r"^(\S+)\s+(at[\s-]risk|\S+)\s*(.*)$", text, re.IGNORECASE | re.DOTALL)
    if not m:
        raise CommandError("I need a client and a sentiment.")
    slug, sentiment_word, rest = m.group(1), m.group(2), m.group(3)
    sentiment = parse_sentiment(sentiment_word.replace(" ", "-"))
    fields: dict[str, str] = {}
    free: list[str] = []
    for part in (p for p in rest.split("|") if p.strip()):
        fm = _FIELD.match(part)
        if fm:
            fields[fm.group(1).lower()] = " ".join(split_words_safe(fm.group(2)))
        else:
            free.append(" ".join(split_words_safe(part)))
    if free and "note" not in fields:
        fields["note"] = " ".join(free)
    return PulseUpdate(
        slug=slug.lower(),
        sentiment=sentiment,
        hook=fields.get("hook") or None,
        update=fields.get("update") or None,
        note=fields.get("note") or None,
    )


class PulseShow(BaseModel):
    """`/pulse` alone (the cards, to me) or `/pulse share` (posted where it was typed)."""

    share: bool = False


def parse_pulse(text: str) -> PulseShow | PulseUpdate:
    word = text.strip().lower()
    if word in ("", "share"):
        return PulseShow(share=word == "share")
    return parse_pulse_update(text)


def split_words_safe(text: str) -> list[str]:
    try:
        return split_words(text)
    except CommandError:
        return text.split()


class PulseCard(BaseModel):
    """What a CSO says about one client in the 60-second stand-up slot."""

    slug: str
    name: str
    sentiment: Sentiment | None = None
    sentiment_at: str | None = None
    hook: str | None = None
    update: str | None = None
    last_touchpoint_days: int | None = None
    touched_today: bool = False
    today_evidence: str | None = None  # where today's touch that counts is (a permalink)
    today_ignored: list[str] = Field(default_factory=list)  # today's touches that didn't count
    exempt_today: str | None = None
    win_this_week: bool = False
    win: str | None = None
    stage: str | None = None  # the lifecycle stage's label ("Onboarding", "Adoption", ...)
