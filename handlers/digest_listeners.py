"""/digest [2026-W47] — the leadership digest on demand (head of delivery and founders only)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slack_bolt import App

from domain.access import Need
from domain.calendar import IsoWeek
from domain.commands import CommandError
from domain.digest import week_just_ended
from handlers.slash import Call, Command, Reply, register_command
from prompts import blocks as bk
from prompts.digest_views import ephemeral
from prompts.render import render
from storage.org_settings_store import org_settings
from storage.portfolio_store import organization
from usecases.digest_actions import load_digest

DIGEST_USAGE = "Usage: `/digest` (the week just ended) or `/digest 2026-W47`"


@dataclass(frozen=True)
class DigestRequest:
    week: IsoWeek | None  # None: the week just ended, in the organization's timezone


def parse_digest(text: str) -> DigestRequest:
    text = text.strip()
    if not text:
        return DigestRequest(week=None)
    try:
        return DigestRequest(week=IsoWeek.parse(text))
    except ValueError as err:
        raise CommandError(render("digest/bad_week.j2", error=str(err))) from None


def show(call: Call[DigestRequest]) -> Reply:
    tx, now = call.tx, call.now
    settings = org_settings(tx)
    week = call.request.week or week_just_ended(now, ZoneInfo(organization(tx).timezone))
    message = ephemeral(load_digest(tx, week, now, settings.digest, call.deps.metric_sources))
    blocks = message.blocks
    problem = settings.problem("digest")
    if problem:  # said first; the digest then uses the default settings
        blocks = bk.fit([bk.section(render("digest/settings_error.j2", error=problem)), *blocks])
    return Reply(text=message.text, blocks=blocks)


DIGEST = Command(
    name="/digest",
    usage=DIGEST_USAGE,
    parse=parse_digest,
    need=Need.LEADERSHIP,
    works=show,
)


def register(app: App) -> None:
    register_command(app, DIGEST)
