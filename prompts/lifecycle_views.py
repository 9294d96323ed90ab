"""The lifecycle rendered: the new-client modal, the onboarding checklist, its App Home
section, the nudges (due items, stalls, kickoff, renewal forecast, expansion package) and the
close-out checklist and impact report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from domain.onboarding import (
    SECTION_TITLES,
    STAGE_LABELS,
    Closeout,
    Item,
    Progress,
    Stage,
)
from prompts import blocks as bk
from prompts.render import escape_mrkdwn, render

NEW_CLIENT_CALLBACK = "client_new_modal"
TICK_ACTION = "onboarding_tick"
CLOSEOUT_TICK_ACTION = "closeout_tick"
WHY = 'docs/process.md, "Onboarding"'
WHY_CLOSEOUT = 'docs/process.md, "Project close-out and the asset pivot"'

SEGMENT_OPTIONS = (("enterprise", "Enterprise"), ("mid_market", "Mid-market"), ("smb", "SMB"))


def stage_label(stage: Stage | str | None) -> str:
    if stage is None:
        return "—"
    return STAGE_LABELS.get(Stage(stage), str(stage))


# -- the new-client modal ------------------------------------------------------------------------
def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> bk.Block:
    block: bk.Block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": "value"},
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def _text(multiline: bool = False, placeholder: str | None = None) -> dict[str, Any]:
    el: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline}
    if placeholder:
        el["placeholder"] = {"type": "plain_text", "text": placeholder}
    return el


def _user() -> dict[str, Any]:
    return {"type": "users_select"}


def _channel() -> dict[str, Any]:
    return {"type": "conversations_select", "filter": {"include": ["public", "private"]}}


def new_client_modal() -> dict[str, Any]:
    """`/client new`: everything the portfolio file says about a client, and the handoff."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": value}
        for value, label in SEGMENT_OPTIONS
    ]
    blocks: list[bk.Block] = [
        _input("name", "Client name", _text(placeholder="Acme Corp")),
        _input(
            "slug", "Slug", _text(placeholder="acme"), hint="lowercase letters, digits, - and _"
        ),
        _input("segment", "Segment", {"type": "static_select", "options": options}),
        _input("arr", "ARR", _text(placeholder="120000"), optional=True),
        _input("signed_on", "Contract signed on", {"type": "datepicker"}),
        _input("contract_start", "Contract start", {"type": "datepicker"}, optional=True),
        _input("contract_end", "Contract end", {"type": "datepicker"}, optional=True),
        _input("cso", "CSO", _user()),
        _input("service_lead", "Service Lead", _user(), optional=True),
        _input("engagement_partner", "Engagement Partner", _user(), optional=True),
        _input("ae", "Account executive", _user(), optional=True),
        _input("client_channel", "Client channel", _channel(), optional=True),
        _input("internal_channel", "Internal channel", _channel(), optional=True),
        _input(
            "timezone",
            "Client timezone",
            _text(placeholder="America/Chicago"),
            optional=True,
            hint="an IANA name; empty: the CSO's",
        ),
        _input("contacts", "Client contacts", {"type": "multi_users_select"}, optional=True),
        _input(
            "success_criteria",
            "Success criteria",
            _text(multiline=True),
            optional=True,
            hint="one per line",
        ),
        bk.header("Sales handoff"),
        _input("stakeholders", "Stakeholder map", _text(multiline=True), optional=True),
        _input("deal_context", "Deal context", _text(multiline=True), optional=True),
        _input("timeline", "Implementation timeline", _text(multiline=True), optional=True),
    ]
    return {
        "type": "modal",
        "callback_id": NEW_CLIENT_CALLBACK,
        "title": {"type": "plain_text", "text": "New client"},
        "submit": {"type": "plain_text", "text": "Create"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({}),
        "blocks": blocks,
    }


def client_created_text(name: str, slug: str, items: int, plan: str) -> str:
    if items:
        return (
            f"{escape_mrkdwn(name)} is in the portfolio as `{slug}`; its {plan} onboarding "
            f"started with {items} checklist items. See `/onboarding {slug}`."
        )
    return f"{escape_mrkdwn(name)} is in the portfolio as `{slug}`."


# -- the checklist -------------------------------------------------------------------------------
def _due(item: Item, now: datetime) -> str:
    if item.done:
        return f"done {item.done_at:%Y-%m-%d}" if item.done_at else "done"
    if item.overdue(now):
        return f"*overdue* since {item.due_on:%a %b %d}"
    return f"due {item.due_on:%a %b %d}"


def item_line(item: Item, now: datetime, owner: str) -> str:
    mark = ":white_check_mark:" if item.done else (":warning:" if item.overdue(now) else "◻️")
    phase = f" _({escape_mrkdwn(item.phase)})_" if item.phase else ""
    return f"{mark} {escape_mrkdwn(item.text)}{phase} · {_due(item, now)} · {owner}"


def onboarding_blocks(
    *,
    name: str,
    slug: str,
    plan: str,
    stage: Stage | None,
    items: Sequence[Item],
    prog: Progress,
    owners: dict[str, str],
    now: datetime,
    kickoff_on: date | None,
) -> tuple[list[bk.Block], str]:
    """/onboarding <client>: progress, overdue, the next three, then every section with tick
    buttons on the open items."""
    head = (
        f"*{escape_mrkdwn(name)}* — {plan} onboarding · {prog.done}/{prog.total} done · "
        f"{len(prog.overdue)} overdue · stage {stage_label(stage)}"
    )
    kickoff = f"kickoff {kickoff_on:%a %b %d}" if kickoff_on else "kickoff not scheduled yet"
    out: list[bk.Block] = [bk.section(head), bk.context(kickoff + f" · {WHY}")]
    lines = [head, kickoff]
    if prog.overdue:
        text = "*Overdue:* " + "; ".join(escape_mrkdwn(i.text) for i in prog.overdue)
        out.append(bk.section(text))
        lines.append(text)
    if prog.next_items:
        text = "*Next:* " + "; ".join(
            f"{escape_mrkdwn(i.text)} ({i.due_on:%b %d})" for i in prog.next_items
        )
        out.append(bk.section(text))
        lines.append(text)
    for section in SECTION_TITLES:
        members = [i for i in items if i.section == section]
        if not members:
            continue
        out.append(bk.context(f"*{SECTION_TITLES[section]}*"))
        lines.append(SECTION_TITLES[section])
        for i in members:
            line = item_line(i, now, owners.get(i.owner, i.owner))
            lines.append(line)
            accessory = None if i.done else bk.button("Done", TICK_ACTION, str(i.id))
            out.append(bk.section(line, accessory=accessory))
    return bk.fit(out, more=f"…and {{n}} more — `/onboarding {slug}` in a DM shows them all."), (
        "\n".join(lines)
    )


def ticked_text(name: str, text: str, prog: Progress) -> str:
    return f"Ticked “{escape_mrkdwn(text)}” for {escape_mrkdwn(name)} ({prog.done}/{prog.total})."


def already_ticked_text(text: str) -> str:
    return f"“{escape_mrkdwn(text)}” was already done."


def handoff_refused_text(name: str, open_items: Sequence[Item]) -> str:
    listed = "\n".join(f"• {escape_mrkdwn(i.text)} (due {i.due_on:%b %d})" for i in open_items)
    return (
        f"The Week-8 handoff of {escape_mrkdwn(name)} can't be marked complete while "
        f"{len(open_items)} checklist item{'s' * (len(open_items) != 1)} "
        f"{'are' if len(open_items) != 1 else 'is'} open:\n{listed}\n({WHY})"
    )


def handed_off_text(name: str) -> str:
    return (
        f"{escape_mrkdwn(name)} is handed off: onboarding complete, the client moves to adoption."
    )


def no_onboarding_text(name: str, slug: str) -> str:
    return (
        f"{escape_mrkdwn(name)} has no onboarding checklist (it came without a signature date). "
        f"Add `signed_on` to it in the portfolio file, or create new clients with `/client new`."
    )


def kickoff_set_text(name: str, day: date) -> str:
    return f"Kickoff of {escape_mrkdwn(name)} scheduled for {day:%a %b %d}; due dates moved."


def hours_logged_text(name: str, hours: float, total: float) -> str:
    return f"Logged {hours:g} h on {escape_mrkdwn(name)}'s onboarding ({total:g} h in all)."


def home_section(rows: Sequence[tuple[str, str, Progress, Stage | None]]) -> list[bk.Block]:
    """App Home: the clients in onboarding, above the health board."""
    if not rows:
        return []
    out: list[bk.Block] = [bk.header("Onboarding")]
    for name, slug, prog, _stage in rows:
        overdue = f" · :warning: {len(prog.overdue)} overdue" if prog.overdue else ""
        nxt = (
            f" · next: {escape_mrkdwn(prog.next_items[0].text)} ({prog.next_items[0].due_on:%b %d})"
            if prog.next_items
            else ""
        )
        out.append(
            bk.section(
                f"*{escape_mrkdwn(name)}* {prog.done}/{prog.total}{overdue}{nxt}",
                accessory=None,
            )
        )
        out.append(bk.context(f"`/onboarding {slug}` to tick items"))
    out.append(bk.divider())
    return out


# -- nudges ------------------------------------------------------------------------------------
def item_due_text(name: str, item: Item) -> str:
    return (
        f"Onboarding of {escape_mrkdwn(name)}: “{escape_mrkdwn(item.text)}” is due "
        f"{item.due_on:%a %b %d}. ({WHY})"
    )


def stall_text(name: str, item: Item, hours: float, owner: str, level: str) -> str:
    who = "the Service Lead" if level == "service_lead" else "the head of delivery"
    return (
        f":rotating_light: Onboarding of {escape_mrkdwn(name)} is stalling: "
        f"“{escape_mrkdwn(item.text)}” ({SECTION_TITLES.get(item.section, item.section)}) is "
        f"{hours:.0f} h overdue (owner {escape_mrkdwn(owner)}), so it comes to {who}. Plan a "
        f"joint troubleshooting call; if the champion is absent, ask the executive sponsor to "
        f"step in. ({WHY})"
    )


def kickoff_text(name: str, slug: str, signed_on: date, deadline: date, escalated: bool) -> str:
    if escalated:
        return (
            f":rotating_light: {escape_mrkdwn(name)} signed on {signed_on:%b %d} and no kickoff "
            f"is scheduled (it was due by {deadline:%a %b %d}). Please help the CSO set one. "
            f"({WHY})"
        )
    return (
        f"Kickoff of {escape_mrkdwn(name)} must be scheduled by {deadline:%a %b %d} (5 business "
        f"days from the signature on {signed_on:%b %d}): `/onboarding {slug} kickoff YYYY-MM-DD`. "
        f"({WHY})"
    )


def sales_handoff_text(
    *, name: str, slug: str, signed_on: date, due: datetime, hours: int, ae: str | None, cso: str
) -> str:
    sender = f"<@{ae}>" if ae else "The account executive (none is named on the client)"
    return (
        f":hourglass: No sales handoff for {escape_mrkdwn(name)} yet: it was due within {hours} h "
        f"of the signature on {signed_on:%a %b %d} (by {due:%a %b %d %H:%M} UTC). {sender}, "
        f"please send <@{cso}> the stakeholder map, the deal context and the implementation "
        f"timeline; they go under `handoff:` for `{slug}` in the portfolio file. ({WHY})"
    )


def forecast_text(
    *,
    name: str,
    contract_end: date,
    days_left: int,
    arr: float,
    stage: Stage | None,
    score: float | None,
    band: str | None,
    usage: Sequence[tuple[str, float]],
    open_flags: int,
    risks: Sequence[str],
) -> str:
    return render(
        "lifecycle/renewal_forecast.j2",
        name=name,
        contract_end=contract_end,
        days_left=days_left,
        arr=arr,
        stage=stage_label(stage),
        score=score,
        band=band,
        usage=usage,
        open_flags=open_flags,
        risks=risks,
    )


def forecast_cso_text(name: str, channel: str | None, refused: str | None) -> str:
    if refused:
        return (
            f"The renewal forecast of {escape_mrkdwn(name)} is due (120 days before the end) but "
            f"was not posted: {refused}"
        )
    return (
        f"The renewal forecast of {escape_mrkdwn(name)} (120 days before the end) was posted to "
        f"Sales Ops in <#{channel}>: check it and correct anything there."
    )


def expansion_package_text(**context: Any) -> str:
    return render("lifecycle/expansion_package.j2", **context)


# -- close-out ---------------------------------------------------------------------------------
def closeout_blocks(
    name: str, slug: str, closeout: Closeout, owners: dict[str, str], new: bool
) -> tuple[list[bk.Block], str]:
    done = sum(1 for i in closeout.items if i.done_at)
    head = (
        f"*{escape_mrkdwn(name)}* — project close-out "
        f"{'started' if new else 'in progress'} · {done}/{len(closeout.items)} done"
        + (" · recorded as a case-study candidate" if closeout.case_study_candidate else "")
    )
    out: list[bk.Block] = [bk.section(head), bk.context(WHY_CLOSEOUT)]
    lines = [head]
    for i in closeout.items:
        mark = ":white_check_mark:" if i.done_at else "◻️"
        line = f"{mark} {escape_mrkdwn(i.text)} · {owners.get(i.owner, i.owner)}"
        lines.append(line)
        accessory = None if i.done_at else bk.button("Done", CLOSEOUT_TICK_ACTION, str(i.id))
        out.append(bk.section(line, accessory=accessory))
    report = closeout.report_md
    out.append(bk.divider())
    out.append(
        bk.section(
            "*Drafted impact report* (Markdown; "
            f"`csobot closeout report {slug} --format html` for HTML)"
        )
    )
    for chunk in _chunks(report, 2900):
        out.append(bk.section(f"```{chunk}```"))
    lines += ["", report]
    return bk.fit(out), "\n".join(lines)


def _chunks(text: str, size: int) -> list[str]:
    out, current = [], ""
    for line in text.splitlines(keepends=True):
        if len(current) + len(line) > size and current:
            out.append(current)
            current = ""
        while len(line) > size:
            out.append(line[:size])
            line = line[size:]
        current += line
    if current:
        out.append(current)
    return out


def impact_report_md(**context: Any) -> str:
    return render("lifecycle/impact_report.md.j2", **context)


def impact_report_html(**context: Any) -> str:
    return render("lifecycle/impact_report.html.j2", **context)
