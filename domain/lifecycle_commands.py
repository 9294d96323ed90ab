"""What `/client`, `/onboarding` and `/closeout` accept, and the new-client form read into the
portfolio file's shape (docs/process.md, "Onboarding")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from domain.commands import CommandError, split_words

CLIENT_USAGE = (
    "Usage: `/client new` opens the form for a new client (name, segment, contract, team, "
    "channels, contacts, success criteria and the sales handoff)."
)
ONBOARDING_USAGE = (
    "Usage: `/onboarding acme` shows the checklist with buttons to tick items · "
    "`/onboarding acme kickoff 2026-12-02` schedules the kickoff · "
    "`/onboarding acme hours 1.5` logs your time on it · `/onboarding` lists your onboardings."
)
CLOSEOUT_USAGE = (
    'Usage: `/closeout acme ["what would make a good case study"]` starts the project close-out '
    "and drafts the final impact report."
)


@dataclass(frozen=True)
class NewClient:
    pass


def parse_client(text: str) -> NewClient:
    words = split_words(text)
    if [w.lower() for w in words] != ["new"]:
        raise CommandError("Type `/client new`.")
    return NewClient()


@dataclass(frozen=True)
class OnboardingRequest:
    slug: str | None
    action: Literal["show", "kickoff", "hours"] = "show"
    day: date | None = None
    hours: float | None = None


def parse_onboarding(text: str) -> OnboardingRequest:
    words = split_words(text)
    if not words:
        return OnboardingRequest(slug=None)
    slug, rest = words[0].lower(), [w.lower() for w in words[1:]]
    if not rest:
        return OnboardingRequest(slug=slug)
    if rest[0] == "kickoff":
        if len(rest) != 2:
            raise CommandError("Say the kickoff day: `/onboarding acme kickoff 2026-12-02`.")
        try:
            day = date.fromisoformat(rest[1])
        except ValueError:
            raise CommandError(f'"{rest[1]}" is not a date; write it like 2026-12-02.') from None
        return OnboardingRequest(slug=slug, action="kickoff", day=day)
    if rest[0] == "hours":
        try:
            hours = float(rest[1].removesuffix("h")) if len(rest) == 2 else -1.0
        except ValueError:
            hours = -1.0
        if not 0 < hours <= 24:
            raise CommandError(
                "Say the hours, more than 0 and at most 24: `/onboarding acme hours 1.5`."
            )
        return OnboardingRequest(slug=slug, action="hours", hours=hours)
    raise CommandError(f'"{rest[0]}" is not something /onboarding does.')


@dataclass(frozen=True)
class CloseoutRequest:
    slug: str
    note: str | None = None


def parse_closeout(text: str) -> CloseoutRequest:
    words = split_words(text)
    if not words:
        raise CommandError("Name the client.")
    note = " ".join(words[1:]).strip() or None
    return CloseoutRequest(slug=words[0].lower(), note=note)


def _lines(text: str | None) -> list[str]:
    return [line.strip(" -•\t") for line in (text or "").splitlines() if line.strip(" -•\t")]


def client_form_data(values: dict[str, Any]) -> dict[str, Any]:
    """The new-client form's values (block id → the element's value) as a portfolio entry.
    Empty optional fields are left out, so the file's defaults apply."""
    data: dict[str, Any] = {}
    for key in (
        "name",
        "slug",
        "segment",
        "signed_on",
        "contract_start",
        "contract_end",
        "cso",
        "service_lead",
        "engagement_partner",
        "ae",
        "client_channel",
        "internal_channel",
        "timezone",
    ):
        value = values.get(key)
        if value not in (None, ""):
            data[key] = value
    if data.get("slug"):
        data["slug"] = str(data["slug"]).strip().lower()
    arr = values.get("arr")
    if arr not in (None, ""):
        data["arr"] = str(arr).replace(",", "").replace("$", "").strip()
    contacts = values.get("contacts")
    if contacts:
        data["contacts"] = list(contacts)
    criteria = _lines(values.get("success_criteria"))
    if criteria:
        data["success_criteria"] = criteria
    handoff = {
        k: str(values.get(k) or "").strip() for k in ("stakeholders", "deal_context", "timeline")
    }
    if any(handoff.values()):
        data["handoff"] = handoff
    return data
