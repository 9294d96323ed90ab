"""How /update answers: the draft (the template's), the form with its lint, the post in the
client channel and the replies to the CSO."""

from __future__ import annotations

import json
from typing import Any

from domain.client_update import Slot, UpdateFacts
from domain.update_lint import LintWarning
from prompts import blocks as bk
from prompts.render import escape_mrkdwn, render

MODAL_CALLBACK = "client_update_modal"
MAX_DRAFT = 3000


def template_draft(facts: UpdateFacts) -> str:
    """The draft written without a model: the record's facts in the Status / Risks / Asks /
    Next frame, with [placeholders] where only the CSO knows."""
    return render(
        "messages/client_update_draft.j2",
        client_name=facts.client_name,
        slot=facts.slot.value,
        today=facts.today,
        risks=facts.risks,
        latest_update=facts.latest_update,
        win=facts.win,
    )


def warning_blocks(warnings: list[LintWarning]) -> list[bk.Block]:
    return [bk.context(f":warning: {w.message}\n*Better:* _{w.example}_") for w in warnings[:8]]


def update_modal(
    meta: dict[str, Any],
    draft: str | None,
    warnings: list[LintWarning],
    *,
    send_anyway: bool = False,
    source: str = "template",
) -> dict[str, Any]:
    """The form; `draft` None shows a placeholder while the model drafts."""
    slot = "morning" if meta["slot"] == Slot.MORNING.value else "EOD"
    head = bk.section(
        f"*{meta['client_name']} — {slot} update.* Edit the draft; *Send* posts it in"
        f" <#{meta['channel']}>, from csobot with a “Posted by” line naming you."
    )
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "private_metadata": json.dumps(meta),
        "title": {"type": "plain_text", "text": "Client update"},
        "close": {"type": "plain_text", "text": "Cancel"},
    }
    if draft is None:
        view["blocks"] = [head, bk.context(":hourglass_flowing_sand: Drafting your update…")]
        return view
    body: list[bk.Block] = [
        head,
        {
            "type": "input",
            "block_id": "draft",
            "label": {"type": "plain_text", "text": "Status / Risks / Asks / Next"},
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": MAX_DRAFT,
                "initial_value": draft[:MAX_DRAFT],
            },
        },
    ]
    if warnings:
        body.extend(warning_blocks(warnings))
    else:
        body.append(bk.context(":white_check_mark: Reads well: outcomes, risks, asks, next."))
    if source == "llm":
        body.append(bk.context("Drafted by the LLM from the bot's record: check every fact."))
    if send_anyway:
        body.append(
            {
                "type": "input",
                "block_id": "send_anyway",
                "optional": True,
                "label": {"type": "plain_text", "text": "Still want to send it as it is?"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Send anyway"}, "value": "yes"}
                    ],
                },
            }
        )
    view["blocks"] = body
    view["submit"] = {"type": "plain_text", "text": "Send"}
    return view


def update_post(text: str, user: str) -> tuple[str, list[bk.Block]]:
    """(fallback text, blocks) of the update in the client channel, attributed to the CSO.
    Typed text never notifies the client's channel: it is escaped."""
    safe = escape_mrkdwn(text)
    return bk.fallback(safe), [bk.section(safe), bk.context(f"Posted by <@{user}> via csobot")]


def update_posted(*, slot: Slot, channel: str, client_name: str) -> str:
    return render(
        "messages/client_update_posted.j2",
        slot=slot.value,
        channel=channel,
        permalink=None,
        client_name=client_name,
    )


def no_client_channel(client_name: str) -> str:
    return f"{client_name} has no client channel in the portfolio: add `client_channel`."


def not_sent_no_channel(slug: str) -> str:
    return f"Your update for {slug} was not sent: it has no client channel."


def post_failed(reason: str) -> str:
    return render("messages/post_failed.j2", reason=reason)


FORM_OUT_OF_DATE = "This form is out of date: run /update again."
EMPTY_DRAFT = "Write the update first."
