"""What a flag on a client message means (docs/process.md, "Flags": speak up early).

`FlagKind` is the closed vocabulary shared by the reaction map, the rule engine and the LLM
classifier; `FlagVocabulary` maps reaction emoji names to kinds and is configurable; `Flag` is
one flag as storage hands it to the layers above.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class FlagKind(StrEnum):
    SCOPE_CREEP = "scope_creep"
    DEADLINE_CHANGE = "deadline_change"
    RISK = "risk"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    EXPANSION_SIGNAL = "expansion_signal"
    STAKEHOLDER_CHANGE = "stakeholder_change"
    COMPETITOR_MENTION = "competitor_mention"
    NONE = "none"


FLAG_LABELS: dict[FlagKind, str] = {
    FlagKind.SCOPE_CREEP: "scope creep",
    FlagKind.DEADLINE_CHANGE: "deadline change",
    FlagKind.RISK: "blocker / risk",
    FlagKind.NEGATIVE_SENTIMENT: "negative sentiment",
    FlagKind.EXPANSION_SIGNAL: "expansion signal",
    FlagKind.STAKEHOLDER_CHANGE: "champion / executive change",
    FlagKind.COMPETITOR_MENTION: "competitor mention",
    FlagKind.NONE: "nothing to flag",
}

# Kinds a flag can actually carry (everything but NONE), in a stable display order.
FLAG_KINDS: tuple[FlagKind, ...] = tuple(k for k in FlagKind if k is not FlagKind.NONE)

DEFAULT_REACTIONS: dict[str, FlagKind] = {
    "triangular_flag_on_post": FlagKind.SCOPE_CREEP,
    "warning": FlagKind.RISK,
    "date": FlagKind.DEADLINE_CHANGE,
    "moneybag": FlagKind.EXPANSION_SIGNAL,
}

# Words people write in a config file for a kind, besides its value and its label.
_KIND_ALIASES: dict[str, FlagKind] = {
    "scope": FlagKind.SCOPE_CREEP,
    "deadline": FlagKind.DEADLINE_CHANGE,
    "blocker": FlagKind.RISK,
    "blocker_risk": FlagKind.RISK,
    "sentiment": FlagKind.NEGATIVE_SENTIMENT,
    "expansion": FlagKind.EXPANSION_SIGNAL,
    "expansion_hook": FlagKind.EXPANSION_SIGNAL,
    "hook": FlagKind.EXPANSION_SIGNAL,
    "champion_change": FlagKind.STAKEHOLDER_CHANGE,
    "executive_change": FlagKind.STAKEHOLDER_CHANGE,
    "champion_executive_change": FlagKind.STAKEHOLDER_CHANGE,
    "competitor": FlagKind.COMPETITOR_MENTION,
}

_EMOJI_NAME = re.compile(r"^[a-z0-9_+\-']+$")


def flag_label(kind: FlagKind | str) -> str:
    """The human label of a kind, for messages ("scope creep", "deadline change", ...)."""
    return FLAG_LABELS[FlagKind(kind)]


def _norm(word: str) -> str:
    return re.sub(r"[\s\-/]+", "_", word.strip().lower()).strip("_")


def parse_kind(value: object) -> FlagKind:
    """A kind from its value, its label or a common alias; ValueError naming the bad word."""
    if isinstance(value, FlagKind):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"flag kind must be a non-empty string, got {value!r}")
    word = _norm(value)
    for kind in FlagKind:
        if word in (kind.value, _norm(FLAG_LABELS[kind])):
            return kind
    if word in _KIND_ALIASES:
        return _KIND_ALIASES[word]
    allowed = ", ".join(k.value for k in FLAG_KINDS)
    raise ValueError(f"unknown flag kind {value!r} (expected one of: {allowed})")


def normalize_reaction(name: str) -> str:
    """Slack reaction names arrive as `warning`, `:warning:` or `thumbsup::skin-tone-2`."""
    return name.strip().strip(":").split("::", 1)[0].lower()


class FlagVocabulary(BaseModel):
    """Which reaction emoji flags a message as which kind. Replaces the defaults when given."""

    model_config = ConfigDict(frozen=True)

    reactions: dict[str, FlagKind] = Field(default_factory=lambda: dict(DEFAULT_REACTIONS))

    @field_validator("reactions", mode="before")
    @classmethod
    def _check(cls, raw: Any) -> dict[str, FlagKind]:
        if not isinstance(raw, Mapping):
            raise ValueError("the flag vocabulary must be a mapping of emoji name to flag kind")
        if not raw:
            raise ValueError("the flag vocabulary is empty: map at least one emoji to a kind")
        out: dict[str, FlagKind] = {}
        for key, value in raw.items():
            if not isinstance(key, str):
                raise ValueError(f"emoji name {key!r} must be a string")
            name = normalize_reaction(key)
            if not name or not _EMOJI_NAME.match(name):
                raise ValueError(f"emoji {key!r}: not a valid Slack emoji name")
            try:
                kind = parse_kind(value)
            except ValueError as exc:
                raise ValueError(f"emoji {key!r}: {exc}") from None
            if kind is FlagKind.NONE:
                raise ValueError(f"emoji {key!r}: 'none' is not a flag kind")
            if name in out and out[name] is not kind:
                raise ValueError(
                    f"emoji {key!r} is mapped twice ({out[name].value} and {kind.value})"
                )
            out[name] = kind
        return out

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object] | None) -> FlagVocabulary:
        """The configured map, or the default one when `mapping` is None."""
        return cls() if mapping is None else cls.model_validate({"reactions": dict(mapping)})

    def kind_for(self, reaction: str) -> FlagKind | None:
        """The kind a reaction means, or None when it is not a flag emoji."""
        return self.reactions.get(normalize_reaction(reaction))

    def emoji_for(self, kind: FlagKind) -> list[str]:
        return [name for name, k in self.reactions.items() if k is kind]


@dataclass(frozen=True)
class Flag:
    """A client message flagged (by a team member's reaction, or suggested by the classifier).

    One per (channel, message ts, kind). status: suggested -> open -> decided | withdrawn;
    suggested -> dismissed (`domain.flag_loops.FlagStatus`)."""

    id: int
    client_id: int
    channel: str
    message_ts: str
    thread_ts: str | None
    kind: str
    author_id: str | None  # who wrote the flagged message
    excerpt: str
    permalink: str | None
    source: str  # reaction | rules | llm
    reaction: str | None
    status: str
    flagged_by: str | None
    flagged_at: datetime | None
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    post_channel: str | None  # the internal post (or the CSO's DM)
    post_ts: str | None
    created_at: datetime

    @property
    def posted_in_dm(self) -> bool:
        return bool(self.post_channel and self.post_channel.startswith("D"))
