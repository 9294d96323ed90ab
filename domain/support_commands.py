"""`/support` typed: what the command text asks for (docs/process.md, "Support")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.commands import CommandError, split_words
from domain.support import Severity


@dataclass(frozen=True)
class SupportCommand:
    action: Literal["list", "open", "resolve"]
    slug: str | None = None
    text: str = ""
    request_id: int | None = None
    severity: Severity | None = None


def parse_support(text: str) -> SupportCommand:
    """`acme` · `acme "text"` · `acme blocker "text"` · `resolve 12`."""
    words = split_words(text)
    if not words:
        raise CommandError("Name a client, or `resolve` and a request number.")
    first = words[0].lower()
    if first == "resolve":
        if len(words) != 2 or not words[1].lstrip("#").isdigit():
            raise CommandError("Say which request: `/support resolve 12`.")
        return SupportCommand("resolve", request_id=int(words[1].lstrip("#")))
    rest = words[1:]
    if not rest:
        return SupportCommand("list", slug=first)
    severity = None
    if rest[0].lower() in {s.value for s in Severity}:
        severity = Severity(rest[0].lower())
        rest = rest[1:]
    body = " ".join(rest).strip()
    if not body:
        raise CommandError('Say what the client needs, in quotes: `/support acme "…"`.')
    return SupportCommand("open", slug=first, text=body, severity=severity)
