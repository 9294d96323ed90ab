"""Drafted client updates (docs/process.md, "Client updates"): what `/update` asks for and
what a draft is made of.

The draft's facts come from the bot's own record; only client-safe facts are in it (internal
labels such as "scope creep" or a competitor mention never reach a client-facing draft).
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.commands import CommandError
from domain.flags import FlagKind
from domain.update_lint import FRAME_EXAMPLE, LintWarning, lint_update


class Slot(StrEnum):
    MORNING = "morning"
    EOD = "eod"


SLOT_WORDS: dict[str, Slot] = {
    "morning": Slot.MORNING,
    "am": Slot.MORNING,
    "start": Slot.MORNING,
    "eod": Slot.EOD,
    "evening": Slot.EOD,
    "end": Slot.EOD,
    "pm": Slot.EOD,
}

UPDATE_USAGE = (
    "Usage: `/update acme morning` or `/update acme eod` — I draft the update (Status / Risks /"
    " Asks / Next) from today's record; you edit it and send it to the client channel."
)


class UpdateRequest(BaseModel):
    slug: str
    slot: Slot


def parse_update_command(text: str) -> UpdateRequest:
    words = text.strip().split()
    if not words:
        raise CommandError("Which client, and is it the morning or the EOD update?")
    if len(words) > 2:
        raise CommandError(f'I expected a client and morning|eod, got "{text.strip()}".')
    slug = words[0].lower()
    if len(words) == 1:
        raise CommandError(f"Is it the morning or the EOD update for {slug}?")
    slot = SLOT_WORDS.get(words[1].lower().strip(".,!"))
    if slot is None:
        raise CommandError(f'"{words[1]}" is not an update slot: write morning or eod.')
    return UpdateRequest(slug=slug, slot=slot)


class UpdateFacts(BaseModel):
    """Client-safe facts for one client's update, from the bot's record."""

    model_config = ConfigDict(frozen=True)

    client_name: str
    slot: Slot
    today: list[str] = Field(default_factory=list)  # excerpts of today's team touchpoints
    risks: list[str] = Field(default_factory=list)  # open risk / deadline flags, client's words
    latest_update: str | None = None  # the pulse's latest external update
    win: str | None = None  # this week's win


# Only these flags can reach a client's update; the rest stay internal (docs/process.md,
# "What stays internal").
CLIENT_SAFE_FLAGS = frozenset({FlagKind.RISK.value, FlagKind.DEADLINE_CHANGE.value})
MAX_FACTS = 5
QUOTE_CHARS = 90


def quote(text: str) -> str:
    """One line of at most QUOTE_CHARS characters."""
    flat = re.sub(r"\s+", " ", text or "").strip()
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1].rstrip() + "…"


def update_facts(
    *,
    client_name: str,
    slot: Slot,
    touchpoints: list[str],
    open_flags: list[tuple[str, str]],
    latest_update: str | None,
    win: str | None,
) -> UpdateFacts:
    """The facts of a draft: the day's last touchpoints, the oldest client-safe open flags
    (kind, excerpt), the pulse's latest update and the week's win."""
    risks = [quote(excerpt) for kind, excerpt in open_flags if kind in CLIENT_SAFE_FLAGS]
    return UpdateFacts(
        client_name=client_name,
        slot=slot,
        today=[quote(t) for t in touchpoints[-MAX_FACTS:]],
        risks=risks[:MAX_FACTS],
        latest_update=latest_update,
        win=win,
    )


PLACEHOLDER = re.compile(r"\[(?:what|say|one line|add)[^\]]*\]", re.IGNORECASE)


def placeholder_warning(text: str) -> LintWarning | None:
    """A draft still holding one of the template's [placeholders]."""
    found = PLACEHOLDER.findall(text)
    if not found:
        return None
    return LintWarning(
        code="placeholder",
        message=f"Fill in or delete the placeholder {found[0]} before sending.",
        example=FRAME_EXAMPLE,
    )


def lint(text: str) -> list[LintWarning]:
    """The lint warnings of a draft, a leftover placeholder first."""
    warnings = lint_update(text)
    placeholder = placeholder_warning(text)
    return [placeholder, *warnings] if placeholder else warnings
