"""/win's answers: the recorded presentation, the outcome-language nudge with *Edit the win*, and
the form to rewrite it."""

from __future__ import annotations

import json
from typing import Any

from domain.commands import OUTCOME_EXAMPLE
from prompts import blocks as bk
from prompts.render import escape_mrkdwn, render

EDIT_ACTION = "win_edit"
EDIT_CALLBACK = "win_edit_modal"


def win_reply(
    *, name: str, week: str, text: str, link: str | None, activity: bool, win_id: int | None
) -> tuple[str, list[bk.Block] | None]:
    """The reply to /win (and to an edit): text, and blocks with *Edit the win* when the win
    reads as a list of activity."""
    message = render(
        "messages/win_recorded.j2",
        name=name,
        week=week,
        request={"text": text, "link": link},
        activity=activity,
        example=OUTCOME_EXAMPLE,
    )
    if not activity or win_id is None:
        return message, None
    return message, [
        bk.section(message),
        bk.actions(bk.button("Edit the win", EDIT_ACTION, str(win_id), style="primary")),
    ]


def edit_modal(win_id: int, text: str, client_name: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK,
        "private_metadata": json.dumps({"win": win_id}),
        "title": {"type": "plain_text", "text": "Edit the win"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            bk.context(
                f"What changed for {escape_mrkdwn(bk.clip(client_name, 80))}? "
                f"For example: {OUTCOME_EXAMPLE}"
            ),
            {
                "type": "input",
                "block_id": "text",
                "label": {"type": "plain_text", "text": "The week's win"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2000,
                    "initial_value": text[:2000],
                },
            },
        ],
    }
