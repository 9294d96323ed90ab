"""Parsing the text of slash commands into typed requests, with helpful errors."""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel

_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
_LINK = re.compile(r"^<?(https?://[^\s|>]+)(?:\|[^>]*)?>?$")


class CommandError(ValueError):
    """Bad command text: the message says what was wrong and what to type."""


def split_words(text: str) -> list[str]:
    """shlex-split text typed in Slack (curly quotes normalised, unbalanced quotes tolerated)."""
    text = text.translate(_SMART_QUOTES).strip()
    try:
        return shlex.split(text)
    except ValueError:
        raise CommandError("a quote is not closed") from None


def parse_link(word: str) -> str | None:
    m = _LINK.match(word)
    return m.group(1) if m else None


def suggest(word: str, choices: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_client_message(slug: str, known: Iterable[str], listed_by: str = "`/pulse`") -> str:
    """In Slack the clients are listed by `/pulse`; the command line passes its own command."""
    guess = suggest(slug, known)
    if guess:
        return f'Unknown client "{slug}" — did you mean {guess}?'
    return f'Unknown client "{slug}". Your clients are listed by {listed_by}.'


CLI_CLIENT_LIST = "`csobot portfolio show`"


class TouchpointKind(StrEnum):
    EMAIL = "email"
    CALL = "call"
    MEETING = "meeting"
    SLACK = "slack"


TOUCHPOINT_USAGE = (
    'Usage: `/touchpoint acme email "Sent the attribution deck" [link]` '
    "(kinds: email, call, meeting, slack), "
    '`/touchpoint acme skip "client offsite"` to mark today as not expected, '
    "or `/touchpoint` alone for a form."
)


class TouchpointRequest(BaseModel):
    slug: str
    kind: TouchpointKind
    note: str
    link: str | None = None


class SkipRequest(BaseModel):
    slug: str
    reason: str


def parse_touchpoint(text: str) -> TouchpointRequest | SkipRequest | None:
    """None means "no text": the caller opens the modal."""
    words = split_words(text)
    if not words:
        return None
    if len(words) < 3:
        raise CommandError("I need a client, a kind and a note.")
    slug, kind_word, *rest = words
    slug, kind_word = slug.lower(), kind_word.lower()
    if kind_word == "skip":
        reason = " ".join(rest).strip()
        if not reason:
            raise CommandError("Say why today is skipped.")
        return SkipRequest(slug=slug, reason=reason)
    try:
        kind = TouchpointKind(kind_word)
    except ValueError:
        guess = suggest(kind_word, [k.value for k in TouchpointKind] + ["skip"])
        hint = f" — did you mean {guess}?" if guess else ""
        raise CommandError(f'Unknown touchpoint kind "{kind_word}"{hint}') from None
    link = parse_link(rest[-1]) if len(rest) > 1 else None
    note_words = rest[:-1] if link else rest
    note = " ".join(note_words).strip()
    if not note:
        raise CommandError("Add a short note about the touchpoint.")
    return TouchpointRequest(slug=slug, kind=kind, note=note, link=link)


BACKDATE_DAYS = 14


class TouchpointForm(BaseModel):
    """The /touchpoint form as submitted: a request and its day, or errors by field."""

    request: TouchpointRequest | None = None
    day: date | None = None
    errors: dict[str, str] = {}


def read_touchpoint_form(
    *,
    slug: str | None,
    kind: str | None,
    note: str | None,
    link: str | None,
    day_text: str | None,
    today: date,
) -> TouchpointForm:
    """Check the form's fields; `today` is the person's. A day may be up to BACKDATE_DAYS back
    and not past tomorrow (a person ahead of the client's timezone)."""
    errors: dict[str, str] = {}
    note = (note or "").strip()
    if not slug:
        errors["client"] = "Choose a client."
    if not note:
        errors["note"] = "Say what happened, in a few words."
    if link and not parse_link(link):
        errors["link"] = "That doesn't look like a link (https://…)."
    day: date | None = None
    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        errors["day"] = "Pick a date."
    if day and day > today + timedelta(days=1):
        errors["day"] = "A touchpoint can't be in the future."
    elif day and day < today - timedelta(days=BACKDATE_DAYS):
        errors["day"] = f"Only the last {BACKDATE_DAYS} days can be logged."
    if errors:
        return TouchpointForm(errors=errors)
    request = TouchpointRequest(
        slug=str(slug), kind=TouchpointKind(kind or "email"), note=note, link=link or None
    )
    return TouchpointForm(request=request, day=day)


WIN_USAGE = 'Usage: `/win acme "Demoed the new pipeline: reports 2 days faster" [link]`'


class WinRequest(BaseModel):
    slug: str
    text: str
    link: str | None = None


def parse_win(text: str) -> WinRequest:
    words = split_words(text)
    if len(words) < 2:
        raise CommandError("I need a client and the win.")
    slug, *rest = words
    link = parse_link(rest[-1]) if len(rest) > 1 else None
    body = " ".join(rest[:-1] if link else rest).strip()
    if not body:
        raise CommandError("Describe the win.")
    return WinRequest(slug=slug.lower(), text=body, link=link)


_ACTIVITY_COUNT = re.compile(
    r"\b\d+\s+(?:\w+\s+){0,2}(tickets?|issues?|meetings?|calls?|prs?|pull requests?|"
    r"lines?(?: of code)?|commits?|tasks?|stories|story points?|emails?|hours?)\b",
    re.IGNORECASE,
)
_ACTIVITY_VERBS = re.compile(
    r"\b(closed|had|attended|wrote|worked on|completed|did|sent|answered|fixed)\b", re.IGNORECASE
)
_OUTCOME_WORDS = re.compile(
    r"\b(so that|which means|means|faster|saves?d?|reduc\w+|increas\w+|unlock\w*|now can|"
    r"can now|enabl\w+|improv\w+|cut|grew|%|percent|revenue|roi|hours? saved|days? faster)\b",
    re.IGNORECASE,
)

OUTCOME_EXAMPLE = (
    '"This week we unlocked the new data pipeline (outcome), which means your marketing team '
    'can now pull reports 2 days faster."'
)


def looks_like_activity_list(text: str) -> bool:
    """ "closed 15 tickets, had 3 meetings" is activity, not an outcome (docs/process.md,
    "Client updates")."""
    counts = len(_ACTIVITY_COUNT.findall(text))
    if _OUTCOME_WORDS.search(text):
        return False
    return counts >= 1 and (counts >= 2 or bool(_ACTIVITY_VERBS.search(text)))
