"""What counts as the day's partnership touch (docs/process.md, "What counts").

Every team message in a client channel is kept; whether it *counts* is decided here, when the
KPI is read, so an edit is re-judged, a deletion takes its evidence with it and a change of
settings applies to every week alike. A touch counts when it was made by someone whose role
is in `organization.settings.kpi.touchpoint_roles` (default: the CSO) and is either logged
(an email, call or meeting — a huddle with the client is a call) or a substantive message:
not an acknowledgement ("ok", "thanks", "will do", "sounds good"), not emoji or mentions
only, at least `min_words` words (default 5), and a file shared with a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.cadence import parse_hhmm
from domain.records import Client

UpdateSlot = Literal["morning", "eod"]


class TouchRole(StrEnum):
    CSO = "cso"
    SERVICE_LEAD = "service_lead"
    ENGAGEMENT_PARTNER = "engagement_partner"


class UpdateWindows(BaseModel):
    """When, in the client's local time, a CSO's message can be the morning update or the
    end-of-day recap (docs/process.md, "Daily client updates")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    morning_from: time = time(6, 0)
    morning_until: time = time(12, 0)
    eod_from: time = time(15, 0)
    eod_until: time = time(23, 59)

    @field_validator("morning_from", "morning_until", "eod_from", "eod_until", mode="before")
    @classmethod
    def _hhmm(cls, value: Any) -> Any:
        return parse_hhmm(value)


class KpiSettings(BaseModel):
    """`organization.settings.kpi`: who makes the day's touch and what a message needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    touchpoint_roles: tuple[TouchRole, ...] = (TouchRole.CSO,)
    min_words: int = Field(default=5, ge=1, le=50)
    updates: UpdateWindows = Field(default_factory=UpdateWindows)

    @field_validator("touchpoint_roles")
    @classmethod
    def _some_role(cls, value: tuple[TouchRole, ...]) -> tuple[TouchRole, ...]:
        if not value:
            raise ValueError("name at least one role (cso, service_lead, engagement_partner)")
        return value


# Where a team message came from (the touchpoint's `source`): a plain message, a `/me`
# message, a file shared with a comment, a huddle in the client channel.
HUDDLE = "huddle"
# A drafted update sent with /update records its slot in its source.
UPDATE_SOURCES: dict[str, UpdateSlot] = {"update-morning": "morning", "update-eod": "eod"}
# The daily cadences each slot answers: a morning update closes only the morning reminder, a
# recap only the end-of-day one.
UPDATE_CADENCES: dict[str, UpdateSlot] = {"morning-update": "morning", "eod-recap": "eod"}

# What the morning update and the recap read like (whole words or phrases, lower case).
MORNING_CUES = (
    "today", "working on", "plan", "planned", "focus", "focusing", "we'll",
    "we will", "going to", "priorities", "priority", "agenda", "on deck", "next up", "starting",
    "kicking off", "up next", "on our plate",
)  # fmt: skip
EOD_CUES = (
    "completed", "complete", "done", "finished", "shipped", "delivered", "wrapped", "recap",
    "merged", "landed", "closed", "fixed", "resolved", "deployed", "released", "tomorrow",
    "end of day", "eod", "wrapping up", "today we",
)  # fmt: skip

# Said as a whole message (after punctuation and emoji are stripped), these don't count.
ACKNOWLEDGEMENTS = frozenset(
    {
        "ok", "okay", "ok thanks", "ok thank you", "okay thanks", "k", "kk", "thanks",
        "thank you", "thanks a lot", "thanks so much", "thank you so much", "thx", "ty",
        "many thanks", "cheers", "will do", "sounds good", "sounds great", "got it", "noted",
        "great", "perfect", "cool", "nice", "awesome", "yes", "yep", "yup", "sure", "no problem",
        "np", "done", "on it", "agreed", "great thanks", "perfect thanks", "got it thanks",
        "noted thanks", "sounds good thanks", "will do thanks", "lgtm", "+1", "looks good",
    }
)  # fmt: skip

_MENTION = re.compile(r"<[@#!][^>]*>")
_LINK = re.compile(r"<(https?://[^>|]+)(\|[^>]*)?>")
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-']+:")
_NON_WORD = re.compile(r"[^\w+']+", re.UNICODE)


@dataclass(frozen=True)
class Touch:
    """One team touch as recorded: a client-channel message or a logged touchpoint."""

    kind: str  # slack | email | call | meeting
    source: str  # event | me_message | file_share | update | huddle | command | modal
    author_id: str
    at: datetime
    day: date  # in the client's timezone
    text: str  # the message's excerpt, or the logged note
    link: str | None = None
    channel: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    # `text_facts(text)` and `cue_bits(text)` when already known (stored with the touchpoint):
    # not measured again.
    words: int | None = None
    acknowledgement: bool | None = None
    cues: int | None = None


@dataclass(frozen=True)
class Verdict:
    counts: bool
    reason: str | None = None  # why it does not count


def role_of(client: Client, person: str) -> TouchRole | None:
    """The person's role on the client's team (None: not on it)."""
    if person == client.cso_id:
        return TouchRole.CSO
    if person == client.service_lead_id:
        return TouchRole.SERVICE_LEAD
    if person == client.engagement_partner_id:
        return TouchRole.ENGAGEMENT_PARTNER
    return None


def words_of(text: str) -> list[str]:
    """The words a reader sees: mentions, links' markup and emoji codes removed."""
    plain = _LINK.sub(lambda m: " link ", text)
    plain = _MENTION.sub(" ", plain)
    plain = _EMOJI_CODE.sub(" ", plain)
    return [
        w
        for w in _NON_WORD.split(plain.lower())
        if w and (w.isalnum() or any(ch.isalnum() for ch in w))
    ]


def text_facts(text: str) -> tuple[int, bool]:
    """What the rules need of a message's text whatever the settings, kept with the touchpoint
    so the KPI counts its days in SQL: how many words it has, and whether it is an
    acknowledgement. A message counts when it has at least `min_words` and is not one."""
    words, acknowledgement, _ = message_facts(text)
    return words, acknowledgement


# `cue_bits`: the text reads like a morning update, like an end-of-day recap.
MORNING_CUE, EOD_CUE = 1, 2


def cue_bits(text: str) -> int:
    """Whether the text reads like a morning update (`MORNING_CUE`) or a recap (`EOD_CUE`),
    whatever its time or author: kept with the touchpoint, so the KPI reads only the touches
    that can be an update (`update_slot` adds the window and the author)."""
    return message_facts(text)[2]


@lru_cache(maxsize=64)
def message_facts(text: str) -> tuple[int, bool, int]:
    """`text_facts` and `cue_bits` of one text, its words split once (a row's columns are
    filled one after another from the same excerpt)."""
    words = words_of(text)
    joined = " ".join(words)
    cues = (MORNING_CUE if _MORNING_CUED.search(joined) else 0) | (
        EOD_CUE if _EOD_CUED.search(joined) else 0
    )
    return len(words), joined in ACKNOWLEDGEMENTS, cues


def message_verdict(text: str, min_words: int, *, is_file: bool = False) -> Verdict:
    words, acknowledgement = text_facts(text)
    return _verdict(words, acknowledgement, min_words, is_file=is_file)


def _verdict(words: int, acknowledgement: bool, min_words: int, *, is_file: bool) -> Verdict:
    if not words:
        if is_file:
            return Verdict(False, "a file shared without a comment")
        return Verdict(False, "emoji or mentions only")
    if acknowledgement:
        return Verdict(False, "an acknowledgement")
    if words < min_words:
        return Verdict(False, f"fewer than {min_words} words")
    return Verdict(True)


def judge(touch: Touch, role: TouchRole | None, settings: KpiSettings) -> Verdict:
    """Whether `touch`, by someone with `role` on the client's team, makes the day."""
    if role is None:
        return Verdict(False, "not on the client's team")
    if role not in settings.touchpoint_roles:
        roles = ", ".join(r.value for r in settings.touchpoint_roles)
        return Verdict(False, f"by the {role.value.replace('_', ' ')} (counted roles: {roles})")
    if touch.source == HUDDLE or touch.kind != "slack":
        return Verdict(True)  # logged off Slack, or a huddle with the client: a conversation
    is_file = touch.source == "file_share"
    if touch.words is not None:
        ack = bool(touch.acknowledgement)
        return _verdict(touch.words, ack, settings.min_words, is_file=is_file)
    return message_verdict(touch.text, settings.min_words, is_file=is_file)


def permalink(channel: str | None, ts: str | None, thread_ts: str | None = None) -> str | None:
    """The message's address in Slack (opens in the reader's workspace)."""
    if not channel or not ts:
        return None
    link = f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link


def kind_of(touch: Touch) -> str:
    """How the evidence names it: message, me_message, file, update, huddle, email, ..."""
    if touch.source == HUDDLE:
        return "huddle"
    if touch.kind == "slack":
        if touch.source.startswith("update"):
            return "update"
        return {"me_message": "me_message", "file_share": "file"}.get(touch.source, "message")
    return touch.kind


def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    """A cue as whole words of the words joined by spaces: `f" {cue} "` in `f" {joined} "`."""
    return re.compile(r"(?<![^ ])(?:" + "|".join(map(re.escape, cues)) + r")(?![^ ])")


_MORNING_CUED = _cue_pattern(MORNING_CUES)
_EOD_CUED = _cue_pattern(EOD_CUES)


def update_slot(
    touch: Touch,
    role: TouchRole | None,
    settings: KpiSettings,
    local: time,
    *,
    counts: bool | None = None,
) -> UpdateSlot | None:
    """Whether a touch is the day's morning update or end-of-day recap: one sent with
    `/update … morning|eod`, or a CSO's written message that counts, sent in the slot's window
    (`local`: its time in the client's timezone) and reading like one — the morning's plan
    ("today we're working on …") or the day's results ("completed …, shipped …").
    `counts`: `judge`'s verdict on the touch when the caller has it already."""
    if touch.source in UPDATE_SOURCES:
        if counts is None:
            counts = judge(touch, role, settings).counts
        return UPDATE_SOURCES[touch.source] if counts else None
    if touch.kind != "slack" or touch.source == HUDDLE or role is not TouchRole.CSO:
        return None
    w = settings.updates
    morning = w.morning_from <= local < w.morning_until
    eod = w.eod_from <= local <= w.eod_until
    if not (morning or eod):
        return None
    if counts is None:
        counts = judge(touch, role, settings).counts
    if not counts:
        return None
    cues = touch.cues if touch.cues is not None else cue_bits(touch.text)
    if morning and cues & MORNING_CUE:
        return "morning"
    if eod and cues & EOD_CUE:
        return "eod"
    return None
