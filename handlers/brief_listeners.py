"""/brief acme [weekly|triangle]: the meeting brief, ephemeral to whoever asked
(docs/process.md, "Meeting briefs")."""

from __future__ import annotations

from slack_bolt import App

from domain.access import Need
from domain.brief import BRIEF_USAGE, BriefRequest, parse_brief
from handlers.slash import Call, Command, Reply, register_command
from prompts.brief_views import brief_blocks
from usecases import brief_actions


def _brief(call: Call[BriefRequest]) -> Reply:
    assert call.client is not None  # slug_of names it; the helper resolved and checked it
    brief = brief_actions.build(call.tx, call.deps.llm, call.client, call.request.meeting, call.now)
    text, blocks = brief_blocks(brief)
    return Reply(text=text, blocks=blocks)


BRIEF = Command(
    name="/brief",
    usage=BRIEF_USAGE,
    parse=parse_brief,
    need=Need.CLIENT_TEAM,
    works=_brief,
    slug_of=lambda request: request.slug,
)


def register(app: App) -> None:
    register_command(app, BRIEF)
