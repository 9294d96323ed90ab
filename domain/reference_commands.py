"""`/reference` and `/references` typed (docs/process.md, "Advocacy and references")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.commands import CommandError, split_words

OUTCOMES = ("done", "declined", "no-show", "pending")
SEGMENTS = ("enterprise", "mid_market", "smb")
_SEGMENT_WORDS = {"mid-market": "mid_market", "midmarket": "mid_market", "mid_market": "mid_market"}


@dataclass(frozen=True)
class ReferenceCommand:
    action: Literal["status", "add", "ask", "outcome"]
    slug: str
    tier: str | None = None
    use_cases: tuple[str, ...] = ()
    text: str = ""
    ask_id: int | None = None
    outcome: str | None = None


def parse_reference(
    text: str, tiers: tuple[str, ...] = ("casual", "advocate", "champion")
) -> ReferenceCommand:
    words = split_words(text)
    if not words:
        raise CommandError("Name a client.")
    slug, rest = words[0].lower(), words[1:]
    if not rest:
        return ReferenceCommand("status", slug)
    verb, args = rest[0].lower(), rest[1:]
    if verb == "add":
        tier = args[0].lower() if args and args[0].lower() in tiers else None
        cases = tuple(a for a in (args[1:] if tier else args) if a.strip())
        return ReferenceCommand("add", slug, tier=tier or tiers[0], use_cases=cases)
    if verb == "ask":
        body = " ".join(args).strip()
        if not body:
            raise CommandError('Say what you asked for, in quotes: `/reference acme ask "…"`.')
        return ReferenceCommand("ask", slug, text=body)
    if verb == "outcome":
        if len(args) != 2 or not args[0].lstrip("#").isdigit() or args[1].lower() not in OUTCOMES:
            raise CommandError(
                f"Say which ask and how it went: `/reference acme outcome 3 done`"
                f" ({', '.join(OUTCOMES)})."
            )
        return ReferenceCommand(
            "outcome", slug, ask_id=int(args[0].lstrip("#")), outcome=args[1].lower()
        )
    raise CommandError(f'"{rest[0]}" is not add, ask or outcome.')


@dataclass(frozen=True)
class ReferencesQuery:
    segment: str | None
    use_case: str | None


def parse_references(text: str) -> ReferencesQuery:
    words = split_words(text)
    segment = None
    if words and (words[0].lower() in SEGMENTS or words[0].lower() in _SEGMENT_WORDS):
        segment = _SEGMENT_WORDS.get(words[0].lower(), words[0].lower())
        words = words[1:]
    use_case = " ".join(words).strip() or None
    return ReferencesQuery(segment, use_case)
