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
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.records import Client


class TouchRole(StrEnum):
    CSO = "cso"
    SERVICE_LEAD = "service_lead"
    ENGAGEMENT_PARTNER = "engagement_partner"


class KpiSettings(BaseModel):
    """`organization.settings.kpi`: who makes the day's touch and what a message needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    touchpoint_roles: tuple[TouchRole, ...] = (TouchRole.CSO,)
    min_words: int = Field(default=5, ge=1, le=50)

    @field_validator("touchpoint_roles")
    @classmethod
    def _some_role(cls, value: tuple[TouchRole, ...]) -> tuple[TouchRole, ...]:
        if not value:
            raise ValueError("name at least one role (cso, service_lead, engagement_partner)")
        return value


# Where a team message came from (the touchpoint's `source`): a plain message, a `/me`
# message, a file shared with a comment, a huddle in the client channel.
SLACK_SOURCES = frozenset({"event", "me_message", "file_share", "update"})
HUDDLE = "huddle"

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
    return [w for w in _NON_WORD.split(plain.lower()) if w and any(ch.isalnum() for ch in w)]


def message_verdict(text: str, min_words: int, *, is_file: bool = False) -> Verdict:
    words = words_of(text)
    if not words:
        if is_file:
            return Verdict(False, "a file shared without a comment")
        return Verdict(False, "emoji or mentions only")
    if " ".join(words) in ACKNOWLEDGEMENTS:
        return Verdict(False, "an acknowledgement")
    if len(words) < min_words:
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
    return message_verdict(touch.text, settings.min_words, is_file=touch.source == "file_share")


def permalink(channel: str | None, ts: str | None, thread_ts: str | None = None) -> str | None:
    """The message's address in Slack (opens in the reader's workspace)."""
    if not channel or not ts:
        return None
    link = f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link


def kind_of(touch: Touch) -> str:
    """How the evidence names it: message, me_message, file, huddle call, email, ..."""
    if touch.source == HUDDLE:
        return "huddle"
    if touch.kind == "slack":
        return {"me_message": "me_message", "file_share": "file", "update": "update"}.get(
            touch.source, "message"
        )
    return touch.kind
