"""Product feedback grouped by theme (docs/process.md, "Support"): without a model, a theme is
the normalised keywords a request shares with others; a theme that reaches N accounts (3 by
default) is summarised to Product once per threshold. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from domain.classify import normalize


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that say nothing about what is asked for.
STOPWORDS = _words(
    """
    a able about above after again all also am an and any anyone are aren as at be been
    being below both but by can can't cant could did didn do does doesn doesn't doing don
    don't down during each few folks for from further get got guys had has have having he
    hello her here hers hey hi him his how i i'd i'm if in into is isn isn't it it's its
    itself just let lets made make me more most my no nor not now of off on once only or
    other our ours out over own please really s same she should so some someone something
    such super t team than thank thanks that that's the their them then there there's
    these they thing things this those through to too under until up us very was way ways
    we we'd we're were what when where which while who whom why will with won won't would
    you you're your yours
    """
)
# The words of asking ("would be great if", "any plans to support") and generic product nouns.
BOILERPLATE = _words(
    """
    ability add added adding again amazing app asap awesome broken bug bugs dashboard
    dashboards data enhancement error errors ever everyone feature features great had have
    having helpful idea issue issues like love need needs nice option options page pages
    plan plans platform possible problem problems product report reports request requested
    requests roadmap see seeing since still suggestion support supported supports today
    tool urgent use useful using view views want wants wish would wrong yesterday
    """
)
_WORD = re.compile(r"[a-z][a-z0-9+#-]{1,}")
MAX_KEYWORDS = 3


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def keywords(text: str) -> tuple[str, ...]:
    """The content words of a request, normalised, in order, once each."""
    out: list[str] = []
    for raw in _WORD.findall(normalize(text)):
        if raw in STOPWORDS:
            continue
        word = stem(raw)
        if word in BOILERPLATE or raw in BOILERPLATE or word in out:
            continue
        out.append(word)
    return tuple(out)


@dataclass(frozen=True)
class Item:
    """One account's feedback, as the theming sees it."""

    id: int
    client_id: int
    text: str
    source: str  # classified | reaction | nps | command
    theme: str | None
    seen: bool = False  # placed before and left without a theme (the model is not asked again)


def theme_name(words: Sequence[str]) -> str:
    return " ".join(words[:MAX_KEYWORDS])


def joins(words: Iterable[str], theme: str) -> bool:
    """An item joins a theme when it has all its keywords, or at least two of them."""
    keys = set(theme.split())
    shared = keys & set(words)
    return bool(keys) and (shared == keys or len(shared) >= 2)


KEYWORDS = "keywords"  # a matcher's answer: "decide by the keyword rule"
ThemeChoice = str | None  # an existing theme, None (a theme of its own), or KEYWORDS
Matcher = Callable[[Item, list[str]], ThemeChoice]


def assign_themes(items: Sequence[Item], matcher: Matcher | None = None) -> dict[int, str | None]:
    """The theme of every item, oldest first: it joins the first theme it matches, or starts
    its own (an NPS comment only joins; it starts none). Items already themed keep theirs.
    A matcher (the model) decides which existing theme an item joins; without one, or when it
    answers KEYWORDS, the keyword rule does. A new theme is named by its keywords."""
    themes: list[str] = []
    out: dict[int, str | None] = {}
    for item in sorted(items, key=lambda i: i.id):
        if item.theme:
            out[item.id] = item.theme
            if item.theme not in themes:
                themes.append(item.theme)
            continue
        words = keywords(item.text)
        asks = matcher is not None and not item.seen
        choice = matcher(item, list(themes)) if matcher is not None and asks else KEYWORDS
        found: str | None
        if choice == KEYWORDS:
            found = next((t for t in themes if joins(words, t)), None)
        else:
            found = choice if choice in themes else None
        if found is None and item.source != "nps" and words:
            found = theme_name(words)
            if found not in themes:
                themes.append(found)
        out[item.id] = found
    return out


def thresholds_crossed(accounts: int, step: int) -> list[int]:
    """The thresholds a theme with `accounts` accounts has reached: step, 2 × step, …"""
    return [n for n in range(step, accounts + 1, step)] if step > 0 else []
