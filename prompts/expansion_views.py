"""/expansion: a client's opportunities with buttons to move their stage; keyword signals shown
apart, as suggestions that are never counted."""

from __future__ import annotations

from collections.abc import Sequence

from domain.expansion import Opportunity, next_stages, open_pipeline
from prompts import blocks as bk
from prompts.render import escape_mrkdwn

STAGE_ACTION = "expansion_stage"


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


def moved(o: Opportunity) -> str:
    return f"Moved to *{o.stage.value}*: {opportunity_line(o)}"


def cannot_move(stage: str) -> str:
    return f"That opportunity can't move to {stage} from where it is (or it is gone)."
