"""Flag posts and DMs: the internal post with its decision buttons, the CSO's suggestion DM,
the reminders of the loops that must close, and the short answers to a click."""

from __future__ import annotations

import re
from datetime import date, tzinfo

from domain.flag_loops import DECISION_LABELS, Decision, FlagStatus
from domain.flags import Flag, flag_label
from domain.records import Client
from prompts import blocks as bk
from prompts.render import render

QUOTE_CHARS = 90

# Action ids of the buttons these views carry (the listeners register them).
DECIDE_ACTIONS: dict[str, Decision] = {
    "flag_in_scope": Decision.IN_SCOPE,
    "flag_change_request": Decision.CHANGE_REQUEST,
    "flag_resolved": Decision.RESOLVED,
}
FLAG_IT = "flag_suggestion_flag"
DISMISS = "flag_suggestion_dismiss"

View = tuple[str, list[bk.Block]]


def quote(text: str) -> str:
    flat = re.sub(r"\s+", " ", text or "").strip()
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1].rstrip() + "…"


def decision_buttons(flag_id: int) -> bk.Block:
    value = str(flag_id)
    return bk.actions(
        bk.button("In scope", "flag_in_scope", value),
        bk.button("Needs change request", "flag_change_request", value, style="danger"),
        bk.button("Resolved", "flag_resolved", value, style="primary"),
        block_id=f"flag_decide:{flag_id}",
    )


def decision_label(flag: Flag) -> str:
    return DECISION_LABELS[Decision(flag.decision)] if flag.decision else ""


def decided_note(flag: Flag, day: date | None) -> str:
    """ "*In scope* — decided by @x on 2026-11-20." (`day` in the client's timezone)."""
    return render(
        "messages/flag_decided.j2",
        flag=flag,
        decision_label=decision_label(flag),
        day=day.isoformat() if day else "",
    )


def flag_post(flag: Flag, client: Client, *, dm: bool, tz: tzinfo) -> View:
    """The flag's internal post (or the CSO's DM): open with buttons, decided, or withdrawn."""
    text = render(
        "messages/flag_internal.j2",
        service_lead=client.service_lead_id,
        label=flag_label(flag.kind),
        client_name=client.name,
        quote=quote(flag.excerpt),
        permalink=flag.permalink,
    )
    context = render(
        "messages/flag_context.j2", flag=flag, dm=dm, internal_channel=client.internal_channel
    )
    if flag.status == FlagStatus.DECIDED and flag.decision:
        day = flag.decided_at.astimezone(tz).date() if flag.decided_at else None
        decided = decided_note(flag, day)
        return text, [bk.section(text), bk.context(context), bk.context(decided)]
    if flag.status == FlagStatus.WITHDRAWN:
        withdrawn = render(
            "messages/flag_withdrawn.j2",
            label=flag_label(flag.kind),
            client_name=client.name,
            quote=quote(flag.excerpt),
            by=flag.decided_by or flag.flagged_by,
        )
        return withdrawn, [bk.section(withdrawn)]
    return text, [bk.section(text), bk.context(context), decision_buttons(flag.id)]


def suggestion_dm(flag: Flag, client: Client, reason: str) -> View:
    """The classifier's suggestion, DM'd to the CSO with *Flag it* / *Dismiss*."""
    text = render(
        "messages/flag_suggestion.j2",
        label=flag_label(flag.kind),
        client_name=client.name,
        author=flag.author_id,
        quote=quote(flag.excerpt),
        permalink=flag.permalink,
    )
    detected = render("messages/flag_detected.j2", source=flag.source, reason=reason[:200])
    return text, [
        bk.section(text),
        bk.context(detected),
        bk.actions(
            bk.button("Flag it", FLAG_IT, str(flag.id), style="primary"),
            bk.button("Dismiss", DISMISS, str(flag.id)),
            block_id=f"flag_suggestion:{flag.id}",
        ),
    ]


def suggestion_done(flag: Flag, client: Client, *, flagged: bool) -> str:
    return render(
        "messages/flag_suggestion_done.j2",
        flagged=flagged,
        label=flag_label(flag.kind),
        client_name=client.name,
        quote=quote(flag.excerpt),
        dm=flag.posted_in_dm,
        channel=flag.post_channel,
    )


def already(flag: Flag) -> str:
    """The answer to a click on a flag someone else already moved on."""
    return render("messages/flag_already.j2", flag=flag, decision_label=decision_label(flag))


def gone(*, suggestion: bool) -> str:
    return render("messages/flag_gone.j2", suggestion=suggestion)


def hook_of(text: str) -> str:
    """An expansion signal as the client's Hook in /pulse (stored as typed: escaped where it is
    shown)."""
    return f'"{quote(text)}" (detected in the client channel)'


# -- the loops that must close -----------------------------------------------------------------
def flag_reminder(flag: Flag, client: Client, *, step: str, days: int) -> View:
    text = render(
        "messages/flag_reminder.j2",
        step=step,
        client_name=client.name,
        days=days,
        cso=client.cso_id,
        label=flag_label(flag.kind),
        quote=quote(flag.excerpt),
        permalink=flag.permalink,
    )
    return text, [bk.section(text), decision_buttons(flag.id)]


def question_unanswered(
    *, author: str, client: Client, hours: float, excerpt: str, permalink: str | None
) -> str:
    return render(
        "messages/question_unanswered.j2",
        author=author,
        client_name=client.name,
        hours=f"{hours:g}",
        quote=quote(excerpt),
        permalink=permalink,
    )


def thread_orphaned(*, answerer: str, channel: str, excerpt: str) -> str:
    return render(
        "messages/thread_orphaned.j2", answerer=answerer, channel=channel, quote=quote(excerpt)
    )
