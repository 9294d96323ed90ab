"""How cadence nudges read: one readable message per person and slot (grouped by cadence, each
with why and how to tune it, with its buttons), the one-line-per-client summary of a message too
big for Slack, the full list behind *See the full list*, and the replies of the buttons and of
`/cso prefs` and `/cso ooo`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from domain.cadence_plan import CUTOFF, ESCALATE_WHY, ESCALATIONS
from domain.commands import TouchpointKind
from domain.nudge import lines
from domain.prefs import Prefs
from prompts import blocks as bk
from prompts.expansion_views import ADD_ACTION, NOTE_ACTION

COMPACT_AFTER = 8  # clients in one overdue DM before each line gets a menu instead of buttons
TUNE = "Tune it: `/cso prefs` (stand-up time, cutoff, quiet hours)."
GONE = "That reminder is no longer open (it was closed or has expired)."
SKIP_GONE = "That reminder is gone; nothing was skipped."
PLAN_B_WHY = "Why: always have a Plan B — no single point of failure."
SKIP_CALLBACK = "cadence_skip_modal"
# What a cadence's reminder offers besides *Done*, per client (label, action): each button's
# value is the reminder's key, so its listener finds the client and checks its team.
OFFERS: dict[str, tuple[tuple[str, str], ...]] = {
    "expansion-reflection": (
        ("Add opportunity", ADD_ACTION),
        ("Draft a note to leadership", NOTE_ACTION),
    ),
}


class NudgeLike(Protocol):
    """What rendering reads of a nudge (an outbox row, or a record of one)."""

    @property
    def id(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def cadence_id(self) -> str: ...
    @property
    def client_id(self) -> int | None: ...
    @property
    def status(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def blocks(self) -> list[Any] | None: ...
    @property
    def data(self) -> dict[str, Any]: ...


def is_cadence(row: NudgeLike) -> bool:
    return (row.data or {}).get("view") == "cadence"


def expand(rows: Sequence[NudgeLike]) -> list[NudgeLike]:
    """The reminders as the lines they show: a checklist is one line per client it lists."""
    return [line for row in rows for line in lines(row)]


# -- one message per person and slot --------------------------------------------------------------
def outcome(row: NudgeLike) -> str | None:
    if row.status == "closed":
        return str((row.data or {}).get("outcome") or ":white_check_mark: Closed.")
    if row.status == "dropped":
        return str((row.data or {}).get("outcome") or "No longer needed.")
    return None


def _overflow(row: NudgeLike) -> bk.Block:
    options = (("Log touchpoint", "log"), ("Skip today", "skip"), ("Snooze 1h", "snooze"))
    return {
        "type": "overflow",
        "action_id": "cadence_menu",
        "options": [
            {"text": {"type": "plain_text", "text": label}, "value": f"{verb}:{row.id}"}
            for label, verb in options
        ],
    }


def _cutoff_blocks(rows: Sequence[NudgeLike]) -> list[bk.Block]:
    data = rows[0].data or {}
    n = len(rows)
    # Buttons take two blocks a client; a long list takes one (a menu), to fit Slack's 50.
    compact = n > COMPACT_AFTER
    out = [
        bk.section(
            f":hourglass_flowing_sand: *Overdue touchpoints* — {n} "
            f"client{'s' if n != 1 else ''} with no touchpoint logged today:"
        )
    ]
    for row in rows:
        d = row.data or {}
        name = f"*{d.get('client', '?')}*"
        done = outcome(row)
        if done:
            out.append(bk.section(f"{name} — {done}"))
            continue
        note = " (snoozed reminder)" if d.get("snoozed_from") else ""
        if compact:
            out.append(bk.section(name + note, accessory=_overflow(row)))
            continue
        out.append(bk.section(name + note))
        out.append(
            bk.actions(
                bk.button("Log touchpoint", "cadence_log", row.key, style="primary"),
                bk.button("Skip today", "cadence_skip", row.key),
                bk.button("Snooze 1h", "cadence_snooze", row.key),
                block_id=f"cutoff-{row.id}",
            )
        )
    out.append(bk.context(f"Why: {data.get('why', '')}", "Tune it: `/cso prefs cutoff 16:00`."))
    return out


def _escalation_blocks(rows: Sequence[NudgeLike]) -> list[bk.Block]:
    out: list[bk.Block] = []
    for row in rows:
        d = row.data or {}
        line = (
            f":rotating_light: *{d.get('client')}* has had no touchpoint for "
            f"*{d.get('streak')} business days in a row*. Owner: <@{d.get('cso')}> (CSO)."
        )
        if d.get("role") == "service_lead":
            line += " As Service Lead, check in with them today or cover the update (Plan B)."
        else:
            line += " Escalated to you as head of delivery: agree a recovery owner today."
        done = outcome(row)
        out.append(bk.section(line + (f"\n{done}" if done else "")))
    out.append(bk.context(f"Why: {ESCALATE_WHY}", TUNE))
    return out


_CLOSES_HINT = {
    "touchpoint": "It closes when a touchpoint is logged (a message in the client channel, or "
    "`/touchpoint`)",
    "win": 'It closes with `/win <client> "…"`',
    "pulse": "It closes with `/pulse <client> <sentiment> …`",
    "click": "Click *Done* when it's held",
}


def closes_hint(closes: str) -> str:
    """How a nudge closes, as a sentence ("Click *Done* when it's held.")."""
    return f"{_CLOSES_HINT.get(closes, 'It closes by itself')}."


def _cadence_blocks(rows: Sequence[NudgeLike]) -> list[bk.Block]:
    d0 = rows[0].data or {}
    closes = str(d0.get("closes", "click"))
    out: list[bk.Block] = [bk.section(f":calendar: *{d0.get('title')}*")]
    for row in rows:
        d = row.data or {}
        label = f"• {d['client']}" if d.get("client") else "• For you"
        done = outcome(row)
        if done:
            out.append(bk.section(f"{label} — {done}"))
        elif closes == "click":
            out.append(
                bk.section(label, accessory=bk.button("Done", "cadence_done", row.key, "primary"))
            )
        else:
            out.append(bk.section(label))
        offers = OFFERS.get(row.cadence_id, ()) if not done and row.client_id else ()
        if offers:
            buttons = [bk.button(text, action, row.key) for text, action in offers]
            out.append(bk.actions(*buttons, block_id=f"offers-{row.id}-{row.client_id}"))
    tune = TUNE
    if d0.get("person_time"):
        tune = f"Tune it: `/cso prefs {d0['person_time']} HH:MM`, or `/cso prefs`."
    out.append(bk.context(f"Why: {d0.get('why', '')} · {closes_hint(closes)}", tune))
    return out


def _groups(rows: Sequence[NudgeLike]) -> dict[str, list[NudgeLike]]:
    """One person's nudges by cadence (rows of other features each on their own)."""
    groups: dict[str, list[NudgeLike]] = {}
    for row in rows:
        groups.setdefault(row.cadence_id if is_cadence(row) else f"~{row.id}", []).append(row)
    return groups


def message(rows: Sequence[NudgeLike]) -> tuple[str, list[bk.Block]]:
    """One person's nudges as one message: grouped by cadence, each with why and how to tune.
    (Too much for one Slack message: `summary`, one line per client, instead.)"""
    groups = _groups(expand(rows))
    out: list[bk.Block] = []
    texts: list[str] = []
    if len(groups) > 1:
        out.append(
            bk.section(f"*{len(groups)} things are due* — one message, so your DMs stay quiet.")
        )
    for cadence_id, group in groups.items():
        if out:
            out.append(bk.divider())
        if cadence_id == CUTOFF:
            out.extend(_cutoff_blocks(group))
            names = ", ".join(str((r.data or {}).get("client")) for r in group)
            texts.append(f"Overdue touchpoints: {names}")
        elif cadence_id in ESCALATIONS:
            out.extend(_escalation_blocks(group))
            texts.extend(r.text for r in group)
        elif cadence_id.startswith("~"):
            out.extend(group[0].blocks or [bk.section(group[0].text)])
            texts.append(group[0].text)
        else:
            out.extend(_cadence_blocks(group))
            clients = [
                str((r.data or {}).get("client")) for r in group if (r.data or {}).get("client")
            ]
            title = str((group[0].data or {}).get("title"))
            texts.append(title + (f": {', '.join(clients)}" if clients else ""))
    return "\n".join(texts), out


# -- too big for one message: one line per client -------------------------------------------------
def _item(row: NudgeLike) -> str:
    """What one nudge is, in a few words (its title; crossed out, with what happened, once it
    is done); a nudge of another feature is its own text, in full."""
    d = row.data or {}
    if d.get("view") != "cadence":
        name = row.text
    elif row.cadence_id == CUTOFF:
        name = ":hourglass_flowing_sand: no touchpoint today"
    elif row.cadence_id in ESCALATIONS:
        name = f":rotating_light: {d.get('streak')} business days without a touchpoint"
    else:
        name = str(d.get("title") or row.cadence_id)
    done = outcome(row)
    return f"~{name}~ ({done})" if done else name


def summary_groups(rows: Sequence[NudgeLike]) -> dict[str, list[NudgeLike]]:
    """One person's nudges by client (named from the cadence nudges), then what is for the
    person alone ("For you"); a nudge of another feature with no client it can be put under
    is a line of its own."""
    names = {
        r.client_id: str((r.data or {})["client"])
        for r in rows
        if r.client_id is not None and (r.data or {}).get("client")
    }
    groups: dict[str, list[NudgeLike]] = {}
    for row in rows:
        if row.client_id in names:
            label = names[row.client_id]
        elif is_cadence(row):
            label = "For you"
        else:
            label = f"~{row.id}"
        groups.setdefault(label, []).append(row)
    return groups


@dataclass(frozen=True)
class Summary:
    """The reorganised message: a header, one line per client (as text, and as blocks when
    every line fits one), and a footer; the outbox adds *See the full list*."""

    header: str
    lines: list[str]
    line_blocks: list[bk.Block] | None
    footer: list[str]


def summary(rows: Sequence[NudgeLike]) -> Summary:
    """One line per client with its count (and, for an overdue touchpoint, its menu: Log /
    Skip / Snooze)."""
    rows = expand(rows)
    groups = summary_groups(rows)
    lines: list[str] = []
    line_blocks: list[bk.Block] = []
    for label, group in groups.items():
        open_ = [r for r in group if not outcome(r)]
        if label.startswith("~"):
            line = "• " + _item(group[0])
        else:
            count = f"{len(open_)} due" if open_ else "all done"
            if open_ and len(open_) < len(group):
                count += f", {len(group) - len(open_)} done"
            line = f"*{label}* — {count}: " + " · ".join(_item(r) for r in group)
        lines.append(line)
        cutoff = next((r for r in open_ if r.cadence_id == CUTOFF), None)
        accessory = _overflow(cutoff) if cutoff is not None else None
        line_blocks.append(bk.section(line, accessory=accessory))
    n = len(rows)
    clients = sum(1 for label in groups if label != "For you" and not label.startswith("~"))
    header = (
        f":bell: *{n} thing{'s' if n != 1 else ''} due* across {clients} "
        f"client{'s' if clients != 1 else ''} — one line each; *See the full list* has "
        "every one, with what closes it."
    )
    fits = all(len(line) < bk.MAX_SECTION_TEXT for line in lines)
    return Summary(header, lines, line_blocks if fits else None, [TUNE])


# -- the full list --------------------------------------------------------------------------------
def full_list(rows: Sequence[NudgeLike]) -> list[tuple[list[str], list[bk.Block]]]:
    """Every nudge of a message, in full, for the *See the full list* modal: by cadence, each
    client with what was done and what closes it; a cadence closed by a click keeps its *Done*
    button per client. Parts in order, each text lines (to pack into sections) then blocks."""
    parts: list[tuple[list[str], list[bk.Block]]] = []
    lines: list[str] = []
    for cadence_id, group in _groups(expand(rows)).items():
        d0 = group[0].data or {}
        closes = str(d0.get("closes", "click"))
        if cadence_id == CUTOFF or cadence_id in ESCALATIONS:
            closes = "touchpoint"
        if closes == "click" and not cadence_id.startswith("~"):
            parts.append((lines, _cadence_blocks(group)))
            lines = []
            continue
        if lines:
            lines.append("")
        if cadence_id.startswith("~"):
            lines.extend(f"• {row.text}" for row in group)
            continue
        title = "Overdue touchpoints" if cadence_id == CUTOFF else str(d0.get("title"))
        lines.append(f"*{title}*")
        for row in group:
            d = row.data or {}
            if cadence_id in ESCALATIONS:
                label = (
                    f"• {d.get('client')}: no touchpoint for {d.get('streak')} business days "
                    f"in a row (CSO <@{d.get('cso')}>)"
                )
            else:
                label = f"• {d['client']}" if d.get("client") else "• For you"
            done = outcome(row)
            lines.append(label + (f" — {done}" if done else ""))
        lines.append(f"_{closes_hint(closes)}_")
    parts.append((lines, []))
    return parts


# -- what a click or a record closes a reminder with ----------------------------------------------
def done_outcome(by: str, now: datetime, tz: ZoneInfo) -> str:
    return f":white_check_mark: Done — <@{by}>, {now.astimezone(tz):%a %Y-%m-%d %H:%M}"


def snoozed_outcome(due: datetime, tz: ZoneInfo) -> str:
    return f":zzz: Snoozed until {due.astimezone(tz):%H:%M}."


def skipped_outcome(day: date, by: str, reason: str) -> str:
    return f":zzz: Skipped {day.isoformat()} by <@{by}>: {reason}"


def skipped_today_outcome(by: str, reason: str) -> str:
    return f":zzz: Skipped today by <@{by}>: {reason}"


def logged_outcome(kind: TouchpointKind, by: str) -> str:
    return f":white_check_mark: {kind.value.capitalize()} touchpoint logged by <@{by}>."


CHANNEL_TOUCHPOINT = ":white_check_mark: Touchpoint logged in the channel."


def recorded_outcome(closes: str, by: str) -> str:
    return {
        "win": f":trophy: Win recorded by <@{by}>.",
        "pulse": f":white_check_mark: Pulse recorded by <@{by}>.",
    }.get(closes, ":white_check_mark: Done.")


# -- the Skip today form --------------------------------------------------------------------------
def skip_view(data: dict[str, Any], metadata: str) -> dict[str, Any]:
    """The Skip today form: the reason is kept with the KPI."""
    return {
        "type": "modal",
        "callback_id": SKIP_CALLBACK,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Skip today"},
        "submit": {"type": "plain_text", "text": "Skip"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            bk.section(
                f"No touchpoint is expected from *{data.get('client', 'this client')}* on "
                f"{data.get('day', 'today')}. The reason is kept with the KPI."
            ),
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why not today?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": 200,
                    "placeholder": {"type": "plain_text", "text": "Client offsite"},
                },
            },
        ],
    }


SKIP_NEEDS_REASON = "Say why, in a few words."


# -- /cso prefs | ooo -----------------------------------------------------------------------------
def _fmt(t: time) -> str:
    return t.strftime("%H:%M")


def describe_prefs(prefs: Prefs, tz: str, *, saved: bool = False) -> str:
    standup = _fmt(prefs.standup) if prefs.standup else "09:30 (default)"
    cutoff = _fmt(prefs.cutoff) if prefs.cutoff else "15:00 (default)"
    return (
        (":white_check_mark: Saved. " if saved else "") + f"*Your nudges* (times in {tz}):\n"
        f"• Stand-up pulse reminder: {standup}\n"
        f"• Touchpoint cutoff (the overdue-touchpoint DM): {cutoff}\n"
        f"• Quiet hours: {_fmt(prefs.quiet_start)}-{_fmt(prefs.quiet_end)}, weekends and "
        f"holidays — nothing is sent then\n"
        f"• At most {prefs.daily_cap} DMs a day (nudges due together come as one message)\n"
        "Change one: `/cso prefs cutoff 16:00`, `/cso prefs standup 09:30`, "
        "`/cso prefs quiet 18:00-09:00`, `/cso prefs cap 4` (`default` resets it)."
    )


def ooo_cancelled(n: int) -> str:
    return (
        ":wave: Welcome back — out of office cancelled; nudges resume."
        if n
        else "You had no out-of-office set."
    )


def ooo_shown(ranges: Sequence[tuple[date, date]]) -> str:
    if not ranges:
        return "No out-of-office set. `/cso ooo 2026-12-24 2026-12-31` sets one."
    return (
        "Out of office: "
        + ", ".join(f"{start} → {end}" for start, end in ranges)
        + ". `/cso ooo cancel` cancels it."
    )


def ooo_set(start: date, end: date, told: Sequence[str]) -> str:
    names = ", ".join(told)
    return (
        f":palm_tree: You're out of office {start} → {end}: no nudges and no touchpoint "
        "expectation for your clients on those days."
        + (f" Heads-up to {names} (your clients' Service Lead)." if names else "")
        + " `/cso ooo cancel` if plans change."
    )


def heads_up(
    person: str, start: date, end: date, clients: Sequence[str]
) -> tuple[str, list[bk.Block]]:
    """The Service Lead's heads-up when a CSO is out of office: they are Plan B."""
    names = ", ".join(f"*{c}*" for c in clients)
    text = (
        f":palm_tree: Heads-up: {person} (CSO) is out of office {start} → {end}. "
        f"You're Plan B for {names}: the daily touchpoint and any client question in those "
        "channels."
    )
    return text, [
        bk.section(text),
        bk.context(PLAN_B_WHY, "You get this because you're the Service Lead on these clients."),
    ]
