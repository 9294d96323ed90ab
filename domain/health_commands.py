"""Parsing /health, /nps, /playbook, /renewal and /qbr into typed requests, with usage lines."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel

from domain.commands import CommandError, split_words, suggest
from domain.playbooks import PlaybookError, get_playbook, playbook_ids
from domain.renewals import Outcome, parse_quarter, quarter_of

HEALTH_USAGE = "Usage: `/health acme` for the breakdown, `/health acme edit` to edit its signals."
NPS_USAGE = 'Usage: `/nps acme 9 "comment"` — an answer from 0 to 10, the comment optional.'
PLAYBOOK_USAGE = (
    "Usage: `/playbook acme low-engagement` (playbooks: {ids}); `/playbook acme` lists its "
    "active playbooks."
)
RENEWAL_USAGE = (
    "Usage: `/renewal acme signed 2028-03-31`, `/renewal acme extended 2027-09-30`, "
    "`/renewal acme churned` — add `arr 260000` when the new contract's ARR differs."
)
QBR_USAGE = (
    "Usage: `/qbr acme Q4` (or 2026Q4) sends the QBR to your DM; `/qbr acme Q4 delivered` "
    "records that it was held."
)


class HealthRequest(BaseModel):
    slug: str
    edit: bool = False


class NpsRequest(BaseModel):
    slug: str
    score: int
    comment: str = ""


class PlaybookRequest(BaseModel):
    slug: str
    playbook_id: str | None = None


class RenewalRequest(BaseModel):
    slug: str
    outcome: Outcome
    new_end: date | None = None
    arr: float | None = None


class QbrRequest(BaseModel):
    slug: str
    quarter: str
    start: date
    end: date
    delivered: bool = False


def parse_health(text: str) -> HealthRequest:
    words = split_words(text)
    if not words:
        raise CommandError("Which client?")
    if len(words) > 2 or (len(words) == 2 and words[1].lower() != "edit"):
        raise CommandError(f'I don\'t know "{" ".join(words[1:])}" here.')
    return HealthRequest(slug=words[0].lower(), edit=len(words) == 2)


def parse_nps(text: str) -> NpsRequest:
    words = split_words(text)
    if len(words) < 2:
        raise CommandError("I need a client and an answer from 0 to 10.")
    slug, raw, *rest = words
    if not re.fullmatch(r"\d{1,2}", raw) or not 0 <= int(raw) <= 10:
        raise CommandError(f'"{raw}" is not an NPS answer: use a whole number from 0 to 10.')
    return NpsRequest(slug=slug.lower(), score=int(raw), comment=" ".join(rest).strip()[:300])


def parse_playbook(text: str) -> PlaybookRequest:
    words = split_words(text)
    if not words:
        raise CommandError("Which client?")
    if len(words) == 1:
        return PlaybookRequest(slug=words[0].lower())
    slug, *rest = words
    wanted = "-".join(rest)
    try:
        book = get_playbook(wanted)
    except PlaybookError:
        guess = suggest(wanted.lower().replace("_", "-"), playbook_ids())
        hint = f" — did you mean {guess}?" if guess else ""
        raise CommandError(f'Unknown playbook "{" ".join(rest)}"{hint}') from None
    return PlaybookRequest(slug=slug.lower(), playbook_id=book.id)


def parse_renewal(text: str) -> RenewalRequest:
    words = split_words(text)
    if len(words) < 2:
        raise CommandError("I need a client and an outcome (signed, churned or extended).")
    slug, word, *rest = words
    try:
        outcome = Outcome(word.lower())
    except ValueError:
        guess = suggest(word, [o.value for o in Outcome])
        hint = f" — did you mean {guess}?" if guess else ""
        raise CommandError(f'Unknown outcome "{word}"{hint}') from None
    new_end: date | None = None
    arr: float | None = None
    i = 0
    while i < len(rest):
        item = rest[i].lower()
        if item == "arr" and i + 1 < len(rest):
            arr = _money(rest[i + 1])
            i += 2
            continue
        if item.startswith("arr="):
            arr = _money(item[4:])
        else:
            try:
                new_end = date.fromisoformat(item)
            except ValueError:
                raise CommandError(f'"{rest[i]}" is not a date like 2028-03-31.') from None
        i += 1
    if outcome is Outcome.CHURNED:
        if new_end is not None:
            raise CommandError("A churned contract has no new end date.")
        if arr:
            raise CommandError("A churned contract has no new ARR.")
    elif new_end is None:
        raise CommandError(f"When does the {outcome.value} contract end? Add a date.")
    return RenewalRequest(slug=slug.lower(), outcome=outcome, new_end=new_end, arr=arr)


def _money(text: str) -> float:
    cleaned = text.replace(",", "").replace("$", "").lower()
    factor = 1000 if cleaned.endswith("k") else 1
    try:
        value = float(cleaned.removesuffix("k")) * factor
    except ValueError:
        raise CommandError(f'"{text}" is not an amount like 260000 or 260k.') from None
    if value < 0:
        raise CommandError("ARR cannot be negative.")
    return value


def parse_qbr(text: str, today: date) -> QbrRequest:
    words = split_words(text)
    if len(words) < 2:
        raise CommandError("I need a client and a quarter.")
    slug, *rest = words
    delivered = bool(rest) and rest[-1].lower() in ("delivered", "done", "held")
    if delivered:
        rest = rest[:-1]
    try:
        start, end = parse_quarter(" ".join(rest), today)
    except ValueError as err:
        raise CommandError(str(err)) from None
    return QbrRequest(
        slug=slug.lower(), quarter=quarter_of(start), start=start, end=end, delivered=delivered
    )
