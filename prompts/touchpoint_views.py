"""How /touchpoint answers: the form, its field errors and the replies once logged."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from domain.commands import TouchpointKind, TouchpointRequest
from domain.records import Client
from prompts import blocks
from prompts.render import render

MODAL_CALLBACK = "touchpoint_modal"


def touchpoint_modal(
    choices: list[tuple[str, str]],
    *,
    today: date,
    slug: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The form: a client among `choices` (slug, name), preselected when `slug` is one."""
    client_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": {"type": "plain_text", "text": "Choose a client"},
        "options": [
            {"text": {"type": "plain_text", "text": blocks.clip(name, 75)}, "value": s}
            for s, name in choices
        ],
    }
    if slug and any(s == slug for s, _ in choices):
        client_select["initial_option"] = next(
            o for o in client_select["options"] if o["value"] == slug
        )
    kinds = [k.value for k in TouchpointKind]
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "private_metadata": json.dumps(metadata or {}),
        "title": {"type": "plain_text", "text": "Log a touchpoint"},
        "submit": {"type": "plain_text", "text": "Log it"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "client",
                "label": {"type": "plain_text", "text": "Client"},
                "element": client_select,
            },
            {
                "type": "input",
                "block_id": "kind",
                "label": {"type": "plain_text", "text": "Kind"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "initial_option": {
                        "text": {"type": "plain_text", "text": "email"},
                        "value": "email",
                    },
                    "options": [
                        {"text": {"type": "plain_text", "text": k}, "value": k} for k in kinds
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "label": {"type": "plain_text", "text": "What happened"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": 300,
                    "placeholder": {"type": "plain_text", "text": "Sent the attribution deck"},
                },
            },
            {
                "type": "input",
                "block_id": "link",
                "optional": True,
                "label": {"type": "plain_text", "text": "Link"},
                "element": {"type": "url_text_input", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": "day",
                "label": {"type": "plain_text", "text": "When"},
                "element": {
                    "type": "datepicker",
                    "action_id": "value",
                    "initial_date": today.isoformat(),
                },
            },
        ],
    }


def touchpoint_recorded(
    client: Client, request: TouchpointRequest, *, day: date, today: date
) -> str:
    return render(
        "messages/touchpoint_recorded.j2", client=client, request=request, day=day, today=today
    )


def skip_recorded(client: Client, *, day: date, new: bool, reason: str) -> str:
    return render("messages/skip_recorded.j2", client=client, day=day, new=new, reason=reason)
