"""The weekly Client Health Report (docs/process.md, "Client Health Report"): KPIs, milestones
and ticket status, risks and asks, the week's win — in Slack mrkdwn (the draft the team edits
and posts), Markdown and HTML (the exports)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

from prompts import blocks as bk
from prompts.render import render
from prompts.story_views import bk_chunks

Format = Literal["md", "html", "slack"]
POST_ACTION = "health_report_post"
EDIT_ACTION = "health_report_edit"
EDIT_CALLBACK = "health_report_edit_modal"


class ReportLine(BaseModel):
    text: str
    link: str | None = None


class MilestoneRow(BaseModel):
    name: str
    target: date | None
    done: int
    total: int
    status: str  # done | on track | late | no date


class ReportData(BaseModel):
    name: str
    week: str
    start: date
    end: date
    consistency: str  # "4 of 5 business days (80%)" or "no data"
    health: str  # "72 Yellow (−6 since Nov 13)" or "not scored"
    pillars: list[tuple[str, str]]
    nps: str
    milestones: list[MilestoneRow]
    tickets: list[tuple[str, int]]
    board_note: str | None
    risks: list[ReportLine]
    asks: list[ReportLine]
    win: ReportLine | None


def render_report(data: ReportData, fmt: Format) -> str:
    return render(f"report/health_report.{fmt}.j2", r=data) + "\n"


def draft_blocks(text: str, report_id: int, channel: str | None) -> list[bk.Block]:
    """The draft as the CSO sees it in their DM: the text, then Edit and Post."""
    where = f"<#{channel}>" if channel else "the internal channel (none is set)"
    out = [bk.section(chunk) for chunk in bk_chunks(text)][:45]
    out.append(
        {
            "type": "actions",
            "elements": [
                bk.button("Edit and post", EDIT_ACTION, str(report_id)),
                bk.button(
                    f"Post to {'#internal' if channel else 'internal'}",
                    POST_ACTION,
                    str(report_id),
                    "primary",
                ),
            ],
        }
    )
    out.append(
        bk.context(
            f"Why: the weekly Client Health Report goes to {where}, never to the client.",
            "Tune it: `/cso prefs`.",
        )
    )
    return out


def edit_modal(report_id: int, client_name: str, text: str) -> dict[str, object]:
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK,
        "private_metadata": str(report_id),
        "title": {"type": "plain_text", "text": "Client Health Report"},
        "submit": {"type": "plain_text", "text": "Post internally"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            bk.section(
                f"*{client_name}* — edit the report; *Post internally* posts it to the "
                "internal channel."
            ),
            {
                "type": "input",
                "block_id": "report",
                "label": {"type": "plain_text", "text": "Report"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "initial_value": text[:3000],
                    "max_length": 3000,
                },
            },
        ],
    }


def posted(channel: str, client_name: str, week: str) -> str:
    return f"Client Health Report {week} for {client_name} posted to <#{channel}>."


def already_posted(channel: str | None, week: str) -> str:
    where = f" to <#{channel}>" if channel else ""
    return f"That Client Health Report ({week}) was already posted{where}."


def refused_channel(client_name: str, channel: str | None) -> str:
    if not channel:
        return (
            f"{client_name} has no internal channel: set `internal_channel` in the portfolio "
            "file. Nothing was posted."
        )
    return (
        f"<#{channel}> is a client or shared (Slack Connect) channel: the Client Health Report "
        "is internal and was not posted there. Set an internal `internal_channel`."
    )


def audit_sent(month: str, name: str, cso: str, user_id: str) -> str:
    where = "your DM" if cso == user_id else f"<@{cso}>'s DM"
    return f"The Value Realization Audit {month} for *{name}* is in {where}."


def audit_not_sent(reason: str) -> str:
    return f"I couldn't send the audit file ({reason or 'Slack error'})."
