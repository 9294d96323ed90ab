"""/expansion: a client's opportunities with buttons to move their stage; keyword signals shown
apart, as suggestions that are never counted."""

from __future__ import annotations

import json
from collections.abc import Sequence

from domain.expansion import NoteFacts, Opportunity, next_stages, open_pipeline
from prompts import blocks as bk
from prompts.render import escape_mrkdwn

STAGE_ACTION = "expansion_stage"
# The Friday "Expansion Value Pipeline" reminder's buttons (their value: the reminder's key).
ADD_ACTION = "expansion_add"
NOTE_ACTION = "expansion_note"
ADD_CALLBACK = "expansion_add_modal"


def opportunity_line(o: Opportunity) -> str:
    step = f" · next: {escape_mrkdwn(o.next_step)}" if o.next_step else ""
    return (
        f"*{escape_mrkdwn(o.title)}* — {o.value:,.0f} · {o.stage.value} · "
        f"owner <@{o.owner_id}>{step}"
    )


def opportunities_blocks(
    client_name: str, opportunities: Sequence[Opportunity], suggestions: Sequence[str]
) -> tuple[str, list[bk.Block]]:
    name = escape_mrkdwn(client_name)
    total = open_pipeline(opportunities)
    head = f"Expansion pipeline for *{name}*: {total:,.0f} open"
    blocks: list[bk.Block] = [bk.section(head)]
    if not opportunities:
        blocks.append(bk.section('No opportunities yet. `/expansion acme add 30000 "what"`'))
    for o in opportunities[:20]:
        moves = [
            bk.button(f"→ {s.value}", STAGE_ACTION, f"{o.id}:{s.value}")
            for s in next_stages(o.stage)
        ]
        blocks.append(bk.section(opportunity_line(o)))
        if moves:
            blocks.append(bk.actions(*moves, block_id=f"opportunity-{o.id}"))
    if suggestions:
        blocks.append(
            bk.context(
                "Signals (suggestions, not in the pipeline): "
                + "; ".join(escape_mrkdwn(s) for s in suggestions[:5])
            )
        )
    return bk.fallback(head), bk.fit(blocks)


def added(client_name: str, o: Opportunity | None) -> str:
    if o is None:
        return "That opportunity was already recorded."
    return (
        f"Recorded an expansion opportunity for {escape_mrkdwn(client_name)}: {opportunity_line(o)}"
    )


def moved(o: Opportunity, said: str | None = None) -> str:
    return f"Moved to *{o.stage.value}*: {opportunity_line(o)}" + (f"\n{said}" if said else "")


def cannot_move(stage: str) -> str:
    return f"That opportunity can't move to {stage} from where it is (or it is gone)."


# -- the note to leadership ---------------------------------------------------------------------
NOTE_CALLBACK = "expansion_note_modal"


def template_note(facts: NoteFacts) -> str:
    """The note without a model: the frame, with the client's signals to start from."""
    signals = "; ".join(facts.signals[:5]) or "[what the client said or asked]"
    known = "; ".join(facts.opportunities[:5])
    return (
        f"Expansion opportunity — {facts.client_name}\n"
        f"What we could offer: [the offer]{f' (recorded: {known})' if known else ''}\n"
        f"How: [how we would deliver it]\n"
        f"Value to {facts.client_name}: [the outcome for them]\n"
        f"Value to us: [revenue, a reference, a template]\n"
        f"Signals: {signals}"
    )


def note_modal(meta: dict[str, str], draft: str | None, source: str = "template") -> bk.Block:
    hint = (
        "Drafted by the model from the client's recent signals: edit before posting."
        if source == "llm"
        else "A frame to fill in: edit before posting."
    )
    text_input: bk.Block = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": 2500,
    }
    if draft is not None:
        text_input["initial_value"] = draft
    else:
        text_input["placeholder"] = {"type": "plain_text", "text": "Drafting…"}
    return {
        "type": "modal",
        "callback_id": NOTE_CALLBACK,
        "private_metadata": json.dumps(meta),
        "title": {"type": "plain_text", "text": "Note to leadership"},
        "submit": {"type": "plain_text", "text": "Post to leadership"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            bk.context(hint),
            {
                "type": "input",
                "block_id": "note",
                "label": {"type": "plain_text", "text": "What we could offer, how, value to both"},
                "element": text_input,
            },
        ],
    }


def note_post(text: str, by: str) -> tuple[str, list[bk.Block]]:
    return bk.fallback(text), [
        bk.section(escape_mrkdwn(text)),
        bk.context(f"From <@{by}> via csobot (the Expansion Value Pipeline)"),
    ]


def note_queued(client_name: str, channel: str) -> str:
    return (
        f"Your expansion note on {escape_mrkdwn(client_name)} goes to <#{channel}> now "
        "(the leadership channel)."
    )


def note_not_posted(reason: str) -> str:
    return f"Your expansion note was not posted: {reason}."


# -- Add opportunity (from the Friday reminder) ---------------------------------------------------
def _input(block_id: str, label: str, placeholder: str, *, optional: bool = False) -> bk.Block:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {
            "type": "plain_text_input",
            "action_id": "value",
            "max_length": 300,
            "placeholder": {"type": "plain_text", "text": placeholder},
        },
    }


def add_modal(meta: dict[str, str], client_name: str) -> bk.Block:
    """The form behind *Add opportunity*: what `/expansion acme add 30000 "…" next: "…"` takes."""
    return {
        "type": "modal",
        "callback_id": ADD_CALLBACK,
        "private_metadata": json.dumps(meta),
        "title": {"type": "plain_text", "text": "Add opportunity"},
        "submit": {"type": "plain_text", "text": "Record"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            bk.section(
                f"An expansion opportunity for *{escape_mrkdwn(client_name)}*: it counts in the "
                "pipeline while it is open."
            ),
            _input("value", "Value (yearly)", "30000 or 30k"),
            _input("title", "What the opportunity is", "EMEA analytics seats"),
            _input("next_step", "Next step", "Call with their COO", optional=True),
        ],
    }


REMINDER_GONE = "That reminder is gone, or its client is no longer in the portfolio."
ADD_NEEDS_TITLE = "Say what the opportunity is, in a few words."
