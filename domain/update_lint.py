"""Lint a client update draft before it is sent (docs/process.md, "Client updates").

Four checks, each with the process's better example: an activity list instead of outcomes, a vague
all-clear, unexplained jargon, and missing sections of the Status / Risks / Asks / Next frame.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

# The process's "good exemplar" texts, quoted back to the CSO with each warning.
OUTCOME_EXAMPLE = (
    "This week we unlocked the new data pipeline, which means your marketing team can now pull"
    " reports 2 days faster."
)
PLAIN_LANGUAGE_EXAMPLE = (
    "We need to spend this week refactoring the database to ensure the app doesn't crash when"
    " you launch your holiday campaign next month."
)
FRAME_EXAMPLE = (
    "Status: On track. Risk: Waiting on API keys. Ask: Please ping your IT team today."
    " Next: We will begin integration tomorrow if keys are received."
)


class LintWarning(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str  # activity_list | vague_all_clear | jargon | missing_section
    message: str
    example: str  # the process's better example


# -- sections ----------------------------------------------------------------------------------
SECTIONS: dict[str, str] = {
    "status": r"status",
    "risks": r"risks?|blockers?",
    "asks": r"asks?|requests?",
    "next": r"next(?: steps?)?|coming up",
}
_SECTION_LABEL = {
    name: re.compile(
        rf"(?:^|(?<=[\s.*_>•(\-]))(?:{pattern})\s*\**\s*(?::|：|—|–| - )", re.IGNORECASE
    )
    for name, pattern in SECTIONS.items()
}
_SECTION_TITLES = {"status": "Status", "risks": "Risks", "asks": "Asks", "next": "Next"}

# -- activity lists ----------------------------------------------------------------------------
_NUMBER = r"(?:\d[\d,]*|a few|several|two|three|four|five|six|seven|eight|nine|ten|a dozen)"
_ACTIVITY_NOUN = (
    r"(?:(?:linear |jira |support )?tickets?|(?:internal |client |status )?meetings?|calls?"
    r"|syncs?|stand-?ups?|lines of code|prs|pull requests?|commits?|emails?|messages?|hours?"
    r"|tasks?|stories|story points|bugs?|issues|reviews?|deploys?|deployments?|workshops?"
    r"|sessions?|slides?|docs?|queries|tests?)"
)
_ACTIVITY = re.compile(rf"\b{_NUMBER} (?:\w+ ){{0,2}}?{_ACTIVITY_NOUN}\b", re.IGNORECASE)
_OUTCOME = re.compile(
    r"\b(?:which means|meaning|so that|so you|so your|so the|you can now|can now|now you"
    r"|enables?|unlock(?:s|ed)?|saves?|saving|faster|lets? you|allows?|resulting in|as a result"
    r"|in order to|to ensure|reduc(?:e|es|ed|ing)|increas(?:e|es|ed|ing)|cut)\b",
    re.IGNORECASE,
)

# -- vague all-clears --------------------------------------------------------------------------
_ALL_CLEAR = re.compile(
    r"\b(?:everything(?:'s| is) (?:going )?(?:well|great|good|fine|on track|smooth)"
    r"|all (?:is )?(?:good|well|green|fine)|(?:things are|we're|we are) (?:going |moving )?"
    r"(?:well|great|fine|good)|going (?:well|great)|no (?:issues|problems|concerns)"
    r"|(?:smooth|plain) sailing|nothing (?:new )?to report|progressing (?:nicely|well)"
    r"|business as usual|on track)\b",
    re.IGNORECASE,
)
_SPECIFIC = re.compile(
    r"\d|\b(?:today|tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|next week"
    r"|this week|by (?:eod|end of))\b|\b(?:which means|so that|because|waiting on|blocked"
    r"|shipped|launched|delivered|live)\b",
    re.IGNORECASE,
)

# -- jargon ------------------------------------------------------------------------------------
# Longest first so "reverse ETL" is reported once, not also as "ETL".
JARGON: tuple[str, ...] = (
    "reverse ETL",
    "schema migration",
    "pull request",
    "materialized view",
    "incremental model",
    "CI/CD",
    "idempotent",
    "orchestration",
    "refactor",
    "backfill",
    "upsert",
    "dbt",
    "DAG",
    "ETL",
    "ELT",
    "CTE",
    "CDC",
    "SCD",
    "PR",
)
# Acronyms that are jargon only in capitals ("PR" the pull request; "dag" is rarely anything).
_CASE_SENSITIVE = {"PR", "ETL", "ELT", "CTE", "CDC", "SCD", "DAG"}
_JARGON_RE = re.compile(
    "|".join(
        (rf"\b(?:{re.escape(t)})s?\b" if t in _CASE_SENSITIVE else rf"\b(?i:{re.escape(t)})\w*")
        for t in JARGON
    )
)
_EXPLAINED = re.compile(
    r"^\s*(?:[\w-]+\s+){0,2}\(|\b(?:which means|meaning|so that|so (?:you|your|the|we|it"
    r"|reports?)|to (?:ensure|make sure|prevent|avoid|keep|let|allow|enable|stop)"
    r"|in other words|i\.e\.|that is,"
    r"|in plain (?:english|terms)|basically|which (?:lets|allows|keeps|makes|will|means))\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def missing_sections(text: str) -> list[str]:
    """The frame's sections with no label in the draft ("status", "risks", "asks", "next")."""
    return [name for name, label in _SECTION_LABEL.items() if not label.search(text)]


def _activity_warning(text: str) -> LintWarning | None:
    counted: list[str] = []
    for sentence in _sentences(text):
        hits = [m.group(0) for m in _ACTIVITY.finditer(sentence)]
        if hits and not _OUTCOME.search(sentence):
            counted.extend(hits)
    if len(counted) < 2:
        return None
    listed = ", ".join(f'"{c}"' for c in counted[:3])
    return LintWarning(
        code="activity_list",
        message=(
            f"This reads as an activity list ({listed}). Say what it changed for the client:"
            " the outcome, and what it means for them."
        ),
        example=OUTCOME_EXAMPLE,
    )


def _all_clear_warning(text: str) -> LintWarning | None:
    match = _ALL_CLEAR.search(text)
    if match is None:
        return None
    rest = text[: match.start()] + text[match.end() :]
    if _SPECIFIC.search(rest):
        return None
    return LintWarning(
        code="vague_all_clear",
        message=(
            f'"{match.group(0)}" with nothing specific behind it. Say what moved, what is at risk'
            " and what you need from the client."
        ),
        example=FRAME_EXAMPLE,
    )


def unexplained_jargon(text: str) -> list[str]:
    """Jargon terms used without a plain-language explanation later in the same sentence."""
    found: list[str] = []
    for sentence in _sentences(text):
        for match in _JARGON_RE.finditer(sentence):
            term = match.group(0)
            if _EXPLAINED.search(sentence[match.end() :]):
                continue
            if term.lower() not in (f.lower() for f in found):
                found.append(term)
    return found


def _jargon_warning(text: str) -> LintWarning | None:
    terms = unexplained_jargon(text)
    if not terms:
        return None
    listed = ", ".join(f'"{t}"' for t in terms)
    return LintWarning(
        code="jargon",
        message=(
            f"Jargon without a translation: {listed}. Say what it means for the client"
            ' ("which means…", "so that…").'
        ),
        example=PLAIN_LANGUAGE_EXAMPLE,
    )


def lint_update(text: str) -> list[LintWarning]:
    """Warnings for a client update draft; an empty list means it is ready to send."""
    if not text.strip():
        return [
            LintWarning(
                code="missing_section",
                message="The update is empty: write Status, Risks, Asks and Next.",
                example=FRAME_EXAMPLE,
            )
        ]
    warnings = [
        w
        for w in (_activity_warning(text), _all_clear_warning(text), _jargon_warning(text))
        if w is not None
    ]
    missing = [_SECTION_TITLES[name] for name in missing_sections(text)]
    if missing:
        listed = ", ".join(f'"{m}:"' for m in missing)
        optional = [m for m in missing if m in ("Risks", "Asks")]
        hint = f' ("{optional[0]}: none" is fine when there are none)' if optional else ""
        warnings.append(
            LintWarning(
                code="missing_section",
                message=(
                    f"Missing {listed}. Every update says status, risks, asks and next steps{hint}."
                ),
                example=FRAME_EXAMPLE,
            )
        )
    return warnings
