"""What people read about support requests (docs/process.md, "Support"): `/support` answers,
the request lines with their buttons, the SLA nudge and the breach escalation."""

from __future__ import annotations

from datetime import datetime

from domain.calendar import WorkCalendar
from domain.records import Client
from domain.support import SEVERITY_LABELS, SupportRequest, business_hours_between
from prompts import blocks as bk
from prompts.render import escape_mrkdwn, plural

RESOLVE = "support_resolve"
MERGE = "support_merge"
DISMISS = "support_dismiss"
ACTIONS = {RESOLVE: "resolve", MERGE: "merge", DISMISS: "dismiss"}

SUPPORT_USAGE = (
    '*/support* — client support requests (docs/process.md, "Support")\n'
    "• `/support acme` — Acme's open requests, age against the target\n"
    '• `/support acme "the export is failing"` — open a request by hand'
    " (add `blocker` before the quote for a blocker)\n"
    "• `/support resolve 12` — resolve request #12"
)


def link_of(request: SupportRequest) -> str | None:
    """The request's message: its permalink, else the archive link Slack redirects."""
    if request.permalink:
        return request.permalink
    if request.channel and request.message_ts:
        return (
            f"https://slack.com/archives/{request.channel}/p{request.message_ts.replace('.', '')}"
        )
    return None


def _quote(text: str, limit: int = 160) -> str:
    return escape_mrkdwn(bk.clip(" ".join(text.split()), limit))


def _hours(value: float) -> str:
    return f"{value:.1f} h" if value < 10 else f"{value:.0f} h"


def request_line(request: SupportRequest, cal: WorkCalendar, now: datetime) -> str:
    """#12 · Blocker · <@asker> "excerpt" — 1.5 h of 4 h to resolve (link)."""
    age = business_hours_between(request.opened_at, now, cal)
    target_at = (
        request.response_due if request.first_response_at is None else request.resolution_due
    )
    target = business_hours_between(request.opened_at, target_at, cal)
    what = "first response" if request.first_response_at is None else "resolution"
    late = " — *over target*" if now > target_at else ""
    link = link_of(request)
    where = f" (<{link}|message>)" if link else ""
    return (
        f"*#{request.id}* · {SEVERITY_LABELS[request.severity]} · <@{request.asker}>"
        f" “{_quote(request.excerpt)}” — {_hours(age)} of {_hours(target)} to {what}{late}{where}"
    )


def request_buttons(request: SupportRequest) -> bk.Block:
    value = str(request.id)
    return bk.actions(
        bk.button("Resolved", RESOLVE, value, style="primary"),
        bk.button("Duplicate of earlier", MERGE, value),
        bk.button("Dismiss", DISMISS, value),
        block_id=f"support:{request.id}",
    )


def open_list(
    client: Client, requests: list[SupportRequest], cal: WorkCalendar, now: datetime
) -> tuple[str, list[bk.Block]]:
    if not requests:
        text = f"*{escape_mrkdwn(client.name)}* has no open support request."
        return text, [bk.section(text)]
    title = f"*{escape_mrkdwn(client.name)}* — {plural(len(requests), 'open support request')}"
    lines = [request_line(r, cal, now) for r in requests]
    blocks: list[bk.Block] = [bk.section(title)]
    for request, line in zip(requests, lines, strict=True):
        blocks += [bk.section(line), request_buttons(request)]
    return bk.fallback("\n".join([title, *lines])), bk.fit(blocks)


def opened_text(request: SupportRequest, client: Client) -> str:
    return (
        f"Support request *#{request.id}* opened for *{escape_mrkdwn(client.name)}*"
        f" ({SEVERITY_LABELS[request.severity]}): “{_quote(request.excerpt)}”."
    )


def nudge_text(
    request: SupportRequest, client: Client, *, hours: float, due: datetime, tz_name: str
) -> str:
    link = link_of(request)
    where = f" <{link}|Open the message>." if link else ""
    return (
        f":hourglass_flowing_sand: *{escape_mrkdwn(client.name)}*:"
        f" {SEVERITY_LABELS[request.severity].lower()} request #{request.id} from"
        f" <@{request.asker}> has no first response yet; the {client.segment.replace('_', '-')}"
        f" target is {plural(float(hours), 'business hour')}, due {due:%a %H:%M} ({tz_name})."
        f" “{_quote(request.excerpt)}”{where}"
    )


def breach_text(
    request: SupportRequest, client: Client, *, which: str, hours: float, step: str
) -> str:
    link = link_of(request)
    where = f" <{link}|Open the message>." if link else ""
    lead = (
        "The CSO was told at the breach; it is still open."
        if step == "service_lead"
        else "Reply in the thread, or resolve it when done."
    )
    return (
        f":rotating_light: *{escape_mrkdwn(client.name)}*: request #{request.id} from"
        f" <@{request.asker}> missed its {which} target ({plural(float(hours), 'business hour')},"
        f" {client.segment.replace('_', '-')}). “{_quote(request.excerpt)}”{where} {lead}"
    )


def request_blocks(text: str, request: SupportRequest) -> list[bk.Block]:
    return [bk.section(text), request_buttons(request)]


# -- product feedback --------------------------------------------------------------------------
FEEDBACK_USAGE = (
    "*/feedback* — product feedback by theme, the accounts that raised it and their ARR"
    ' (docs/process.md, "Support"). Type `/feedback` alone.'
)


def _money(value: float) -> str:
    return f"${value:,.0f}"


def product_post(
    theme: str, clients: list[Client], kinds: tuple[str, ...], excerpts: tuple[str, ...]
) -> str:
    names = ", ".join(escape_mrkdwn(c.name) for c in clients)
    arr = sum(c.arr for c in clients)
    what = " and ".join(k.replace("_", " ") for k in kinds) or "feedback"
    quotes = "\n".join(f"> {_quote(e, 200)}" for e in excerpts[:5] if e.strip())
    return (
        f":bulb: *Product feedback: {escape_mrkdwn(theme)}* — {len(clients)} accounts"
        f" ({names}; ARR {_money(arr)}) raised this {what}.\n{quotes}"
    )


def feedback_list(rows: list[tuple[str, list[Client], int]]) -> tuple[str, list[bk.Block]]:
    """Themes by accounts, then ARR: (theme, accounts, items)."""
    if not rows:
        text = "No product feedback recorded yet."
        return text, [bk.section(text)]
    lines = [
        f"*{escape_mrkdwn(theme)}* — {plural(len(clients), 'account')}, ARR"
        f" {_money(sum(c.arr for c in clients))}, {plural(items, 'item')}:"
        f" {', '.join(escape_mrkdwn(c.name) for c in clients)}"
        for theme, clients, items in rows
    ]
    title = f"*Product feedback* — {plural(len(rows), 'theme')}, by accounts and ARR"
    blocks = [bk.section(title), *(bk.section(line) for line in lines)]
    return bk.fallback("\n".join([title, *lines])), bk.fit(blocks)


# -- the reference program ---------------------------------------------------------------------
REFERENCE_USAGE = (
    '*/reference* — the reference program (docs/process.md, "Advocacy and references")\n'
    "• `/reference acme` — Acme's tier, asks in the last 90 days, fatigue\n"
    "• `/reference acme add [casual|advocate|champion] [use case…]` — into the pipeline by hand\n"
    '• `/reference acme ask "call with Initech\'s VP"` — record an ask\n'
    "• `/reference acme outcome 3 done` — how ask #3 went (done, declined, no-show)"
)
REFERENCES_USAGE = (
    "*/references [segment] [use case]* — who can we ask? Ranked by fit and rest; fatigued"
    " references are left out. Example: `/references enterprise attribution`"
)


def reference_status(
    client: Client,
    tier_label: str | None,
    asks: list[tuple[int, str, str, str, str]],
    recent: int,
    fatigued: bool,
    fatigue_days: int,
) -> str:
    """asks: (id, when, who, what, outcome)."""
    name = escape_mrkdwn(client.name)
    if tier_label is None:
        head = f"*{name}* is not in the reference pipeline."
    else:
        head = f"*{name}* — {tier_label}; {plural(recent, 'ask')} in the last {fatigue_days} days"
        head += " — *fatigued: left out of suggestions*." if fatigued else "."
    lines = [
        f"• #{i} {when} <@{who}>: “{_quote(what)}” — {outcome}"
        for i, when, who, what, outcome in asks
    ]
    return "\n".join([head, *lines[-10:]])


def ask_recorded(client: Client, ask_id: int, fatigued: bool, recent: int, days: int) -> str:
    text = f"Ask #{ask_id} recorded for *{escape_mrkdwn(client.name)}*."
    if fatigued:
        text += (
            f" That is {recent} asks in {days} days: {escape_mrkdwn(client.name)} is now"
            " *fatigued* and left out of `/references` until it rests."
        )
    return text


def references_list(
    rows: list[tuple[str, str, str, int, int | None, bool]],
    segment: str | None,
    use_case: str | None,
) -> str:
    """rows: (name, tier label, segment, fit, rest days, fatigued)."""
    asked = " ".join(x for x in (segment, use_case) if x) or "any segment, any use case"
    ok = [r for r in rows if not r[5]]
    if not ok:
        head = f"No reference to suggest for {escape_mrkdwn(asked)}."
    else:
        head = f"*Who can we ask?* ({escape_mrkdwn(asked)}), by fit and rest:"
    lines = [
        f"{n}. *{escape_mrkdwn(name)}* — {tier}, {seg.replace('_', '-')}; "
        + (f"last asked {rest} days ago" if rest is not None else "never asked")
        for n, (name, tier, seg, _fit, rest, _f) in enumerate(ok, 1)
    ]
    resting = [r[0] for r in rows if r[5]]
    if resting:
        lines.append(
            "Resting (fatigued, not suggested): " + ", ".join(escape_mrkdwn(n) for n in resting)
        )
    return bk.fallback("\n".join([head, *lines]))


def pipeline_entered(client: Client, tier_label: str, days: int, nps: int) -> str:
    return (
        f":star: *{escape_mrkdwn(client.name)}* has been Green for {days}+ days with NPS"
        f" {nps}: it is now in the reference pipeline as a *{tier_label}*."
        " `/reference` shows it; ask sparingly."
    )


# -- App Home ----------------------------------------------------------------------------------
HOME_MAX_BLOCKS = 8


def home_support_blocks(groups: list[tuple[Client, list[str]]], total: int) -> list[bk.Block]:
    """The open-support part of App Home: one section per client, its open requests with their
    age against the target; clients beyond the budget are named with the command to see them."""
    if total == 0:
        return [bk.divider(), bk.section("*Open support requests* — none.")]
    out: list[bk.Block] = [
        bk.divider(),
        bk.section(f"*Open support requests* — {total} across {plural(len(groups), 'client')}"),
    ]
    shown = groups[: HOME_MAX_BLOCKS - 3]
    for client, lines in shown:
        body = "\n".join(lines)
        if len(body) > bk.MAX_SECTION_TEXT - 200:
            body = "\n".join(lines[:5]) + f"\n…{len(lines) - 5} more: `/support {client.slug}`"
        out.append(bk.section(f"*{escape_mrkdwn(client.name)}*\n{body}"))
    rest = groups[len(shown) :]
    if rest:
        out.append(
            bk.context(
                "More: " + ", ".join(f"`/support {c.slug}` ({len(lines)})" for c, lines in rest)
            )
        )
    return out


def home_support_summary(total: int) -> bk.Block:
    return bk.context(f"Open support requests: {total} — `/support <client>` lists them.")
